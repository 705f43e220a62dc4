//! The HTTP/2 connection of one endpoint, shared by its requests: one
//! spawned task drives it (streams are multiplexed, so no single request
//! can), with keep-alive pings every 30 s answered within 10 s. While it is
//! being opened, further requests wait for it instead of each opening their
//! own; a closed connection is replaced by the next request.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper::client::conn::http2;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::sync::watch;

use super::connect::{ConnectError, Stream};
use super::proxy_body::ProxyBody;

pub type Sender = http2::SendRequest<ProxyBody>;

/// One endpoint's shared connection: none, being opened, or open.
#[derive(Default)]
pub struct Shared(Mutex<Slot>);

#[derive(Default)]
enum Slot {
    #[default]
    None,
    /// A request is opening it; the others watch for the outcome.
    Opening(watch::Receiver<Option<Opened>>),
    Open(Sender),
}

type Opened = Result<Sender, Arc<ConnectError>>;

impl Shared {
    /// A handle on the open connection, if there is one.
    pub fn get(&self) -> Option<Sender> {
        match &*self.lock() {
            Slot::Open(sender) if !sender.is_closed() => Some(sender.clone()),
            _ => None,
        }
    }

    /// The open connection, or the one another request is opening, or one
    /// this request opens with `open`. A failed opening fails every request
    /// that waited for it.
    pub async fn connection(
        &self,
        open: impl Future<Output = Result<Sender, ConnectError>>,
    ) -> Result<Sender, ConnectError> {
        loop {
            let waiting = {
                let mut slot = self.lock();
                match &*slot {
                    Slot::Open(sender) if !sender.is_closed() => return Ok(sender.clone()),
                    // Its opener's request was cancelled if the channel is closed.
                    Slot::Opening(outcome) if outcome.has_changed().is_ok() => Ok(outcome.clone()),
                    _ => {
                        let (report, outcome) = watch::channel(None);
                        *slot = Slot::Opening(outcome);
                        Err(report)
                    }
                }
            };
            let mut opening = match waiting {
                Ok(opening) => opening,
                Err(report) => return self.open(open, report).await,
            };
            if let Ok(outcome) = opening.wait_for(Option::is_some).await
                && let Some(opened) = &*outcome
            {
                return opened.clone().map_err(ConnectError::Shared);
            }
        }
    }

    async fn open(
        &self,
        open: impl Future<Output = Result<Sender, ConnectError>>,
        report: watch::Sender<Option<Opened>>,
    ) -> Result<Sender, ConnectError> {
        let opened = open.await;
        *self.lock() = match &opened {
            Ok(sender) => Slot::Open(sender.clone()),
            Err(_) => Slot::None,
        };
        let opened = opened.map_err(Arc::new);
        report.send_replace(Some(opened.clone()));
        // With no request waiting, the error is this request's alone again.
        drop(report);
        opened.map_err(|e| Arc::try_unwrap(e).unwrap_or_else(ConnectError::Shared))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Slot> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Opens an HTTP/2 connection over `stream` and spawns its task.
pub async fn handshake(stream: Stream) -> Result<Sender, ConnectError> {
    let (sender, conn) = http2::Builder::new(TokioExecutor::new())
        .timer(TokioTimer::new())
        .keep_alive_interval(Duration::from_secs(30))
        .keep_alive_timeout(Duration::from_secs(10))
        .handshake(TokioIo::new(stream))
        .await
        .map_err(ConnectError::Handshake)?;
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::debug!("upstream HTTP/2 connection ended: {e}");
        }
    });
    Ok(sender)
}
