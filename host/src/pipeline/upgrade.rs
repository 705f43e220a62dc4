//! Protocol upgrades (WebSocket and the like): once the origin answers 101,
//! the client's and the origin's connections are joined byte for byte.

use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;

/// Joins the client's upgraded connection to the origin's, in the background.
pub fn splice<B>(client: OnUpgrade, response: &mut http::Response<B>) {
    let origin = hyper::upgrade::on(&mut *response);
    tokio::spawn(async move {
        let (client, origin) = match tokio::try_join!(client, origin) {
            Ok(both) => both,
            Err(e) => {
                tracing::debug!("upgrade failed: {e}");
                return;
            }
        };
        let (mut client, mut origin) = (TokioIo::new(client), TokioIo::new(origin));
        if let Err(e) = tokio::io::copy_bidirectional(&mut client, &mut origin).await {
            tracing::debug!("upgraded connection closed: {e}");
        }
    });
}
