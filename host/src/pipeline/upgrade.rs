//! Protocol upgrades (WebSocket and the like): once the origin answers 101,
//! the client's and the origin's connections are joined byte for byte.
//!
//! The client's side comes from the server layer, not from hyper: an
//! HTTP/1 connection is served by a hyper connection that hands its socket
//! back when it is done (so an idle connection can let go of hyper's
//! buffers), and the server layer passes the socket on through a
//! [`ClientUpgrade`] after the 101 answer has been written. The origin's
//! side comes with the 101 response, as an [`OriginUpgrade`] extension put
//! there by the upstream HTTP/1.1 codec.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::oneshot;

use crate::upstream::OriginUpgrade;

/// A client connection taken over after its 101 answer.
pub trait UpgradedIo: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> UpgradedIo for T {}

/// The server layer's side: where the connection goes once the 101 is out.
pub type UpgradeHandoff = oneshot::Sender<Box<dyn UpgradedIo>>;

type Claim = oneshot::Receiver<Box<dyn UpgradedIo>>;

/// The request's claim on its connection, should the origin agree to
/// upgrade (a request extension, hence `Clone`).
#[derive(Clone)]
pub struct ClientUpgrade(Arc<Mutex<Option<Claim>>>);

impl ClientUpgrade {
    pub fn pair() -> (ClientUpgrade, UpgradeHandoff) {
        let (tx, rx) = oneshot::channel();
        (ClientUpgrade(Arc::new(Mutex::new(Some(rx)))), tx)
    }

    fn take(&self) -> Option<Claim> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

/// Joins the client's upgraded connection to the origin's, in the background.
pub fn splice<B>(client: ClientUpgrade, response: &mut http::Response<B>) {
    let origin = response.extensions_mut().remove::<OriginUpgrade>();
    let (Some(client), Some(mut origin)) = (client.take(), origin.and_then(|o| o.take())) else {
        return;
    };
    tokio::spawn(async move {
        let Ok(mut client) = client.await else {
            tracing::debug!("upgrade failed: the client connection was not handed over");
            return;
        };
        if let Err(e) = tokio::io::copy_bidirectional(&mut client, &mut origin).await {
            tracing::debug!("upgraded connection closed: {e}");
        }
    });
}
