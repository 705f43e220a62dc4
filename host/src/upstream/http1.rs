//! One HTTP/1.1 upstream connection, driven by the request that uses it:
//! no task of its own. The connection future is polled beside the request
//! until the response head arrives, then by the response body (see
//! [`super::body`]); idle in the pool it is not polled at all.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Waker};

use http::{Request, Response};
use hyper::body::Incoming;
use hyper::client::conn::{TrySendError, http1};
use hyper_util::rt::TokioIo;

use super::client::ProxyBody;
use super::connect::{ConnectError, Stream};

/// hyper's connection future (with upgrades, whose type has no name).
type Driver = Pin<Box<dyn Future<Output = hyper::Result<()>> + Send + Sync>>;

pub struct Http1 {
    send: http1::SendRequest<ProxyBody>,
    driver: Driver,
}

/// What the exchange left: the response head, and the connection when it
/// is still open (gone after an upgrade or a close).
pub type Answer = (Response<Incoming>, Option<Http1>);

impl Http1 {
    pub async fn handshake(stream: Stream) -> Result<Self, ConnectError> {
        let (send, conn) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(ConnectError::Handshake)?;
        Ok(Self {
            send,
            driver: Box::pin(conn.with_upgrades()),
        })
    }

    /// Sends `request` and polls the connection until the response head
    /// arrives. A request the connection gave back unsent comes back too.
    pub async fn exchange(
        self,
        request: Request<ProxyBody>,
    ) -> Result<Answer, TrySendError<Request<ProxyBody>>> {
        let Http1 { mut send, driver } = self;
        let mut response = std::pin::pin!(send.try_send_request(request));
        let mut driver = Some(driver);
        let head = std::future::poll_fn(|cx| {
            // A finished connection is dropped at once: that is what hands
            // a queued request back, or fails it.
            if driver
                .as_mut()
                .is_some_and(|d| d.as_mut().poll(cx).is_ready())
            {
                driver = None;
            }
            response.as_mut().poll(cx)
        })
        .await?;
        Ok((head, driver.map(|driver| Http1 { send, driver })))
    }

    /// Polls the connection so it reads and writes; `true` once it has ended.
    pub fn drive(&mut self, cx: &mut Context<'_>) -> bool {
        self.driver.as_mut().poll(cx).is_ready()
    }

    /// Whether another request can go out on this connection: open, its
    /// last exchange over, and not closed by the endpoint meanwhile (one
    /// poll reads any close or stray bytes waiting on the socket).
    pub fn is_reusable(&mut self) -> bool {
        if self.send.is_closed() {
            return false;
        }
        let mut cx = Context::from_waker(Waker::noop());
        if self.drive(&mut cx) {
            return false;
        }
        self.send.is_ready()
    }

    /// Finishes the connection in the background: after a 101 answer it
    /// must run once more to hand its socket over to the upgrade.
    pub fn finish_in_background(self) {
        let driver = self.driver;
        tokio::spawn(async move {
            if let Err(e) = driver.await {
                tracing::debug!("upstream connection ended: {e}");
            }
        });
    }
}
