//! The HTTP/2 connection of one endpoint, shared by its requests: one
//! spawned task drives it (streams are multiplexed, so no single request
//! can), with keep-alive pings every 30 s answered within 10 s. A closed
//! connection is replaced by the next request.

use std::sync::Mutex;
use std::time::Duration;

use hyper::client::conn::http2;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};

use super::client::ProxyBody;
use super::connect::{ConnectError, Stream};

pub type Sender = http2::SendRequest<ProxyBody>;

/// One endpoint's shared connection, when it has one open.
#[derive(Default)]
pub struct Shared(Mutex<Option<Sender>>);

impl Shared {
    /// A handle on the open connection, if there is one.
    pub fn get(&self) -> Option<Sender> {
        self.lock().as_ref().filter(|s| !s.is_closed()).cloned()
    }

    /// Shares `sender` with later requests, unless a live connection was
    /// opened concurrently (then `sender`'s connection serves only its own
    /// requests and closes after them).
    pub fn offer(&self, sender: &Sender) {
        let mut slot = self.lock();
        if slot.as_ref().is_none_or(|s| s.is_closed()) {
            *slot = Some(sender.clone());
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Sender>> {
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
