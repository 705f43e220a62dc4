//! WASI for guests that import it (Python, JS, `wasm32-wasip2` Rust),
//! locked down: no preopened directories, no environment, no arguments, no
//! sockets or name lookups, stdin closed; stdout and stderr go to the log
//! (and the runtime's log tap).

use crate::{LogTap, PluginLog};
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder};

/// The most bytes of one write that reach the log.
const MAX_LINE: usize = 4096;

/// A WASI context that grants nothing but the clocks and randomness.
/// Its stdout and stderr lines go to `tracing` and to `tap`.
pub(crate) fn locked_down(plugin: &Arc<str>, tap: Option<LogTap>) -> WasiCtx {
    WasiCtxBuilder::new()
        .stdout(LogStream {
            plugin: plugin.clone(),
            stream: "stdout",
            tap: tap.clone(),
        })
        .stderr(LogStream {
            plugin: plugin.clone(),
            stream: "stderr",
            tap,
        })
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .build()
}

/// A guest's stdout or stderr, written into `tracing` (and the tap).
#[derive(Clone)]
struct LogStream {
    plugin: Arc<str>,
    stream: &'static str,
    tap: Option<LogTap>,
}

impl IsTerminal for LogStream {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for LogStream {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl AsyncWrite for LogStream {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let shown = &buf[..buf.len().min(MAX_LINE)];
        for line in String::from_utf8_lossy(shown)
            .lines()
            .filter(|l| !l.trim().is_empty())
        {
            tracing::info!(plugin = &*self.plugin, stream = self.stream, "{line}");
            if let Some(tap) = &self.tap {
                tap(PluginLog {
                    plugin: self.plugin.to_string(),
                    request_id: String::new(),
                    level: tracing::Level::INFO,
                    message: line.to_string(),
                });
            }
        }
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
