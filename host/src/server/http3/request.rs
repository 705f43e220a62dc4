//! One HTTP/3 request stream: its head (bounded by the header timeout and
//! checked like HTTP/2's), its body as the pipeline's [`ClientBody`], and
//! the pipeline's response written back as HEADERS, DATA and trailers.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, Bytes};
use futures_util::StreamExt;
use http::header::{self, HeaderMap};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;

use crate::hygiene::Refusal;
use crate::pipeline::{self, ClientBody, ConnInfo, Proxy};
use crate::upstream::{BoxError, ProxyBody, empty_body};

type Resolver = h3::server::RequestResolver<h3_quinn::Connection, Bytes>;
type RecvHalf = h3::server::RequestStream<h3_quinn::RecvStream, Bytes>;
type SendHalf = h3::server::RequestStream<h3_quinn::SendStream<Bytes>, Bytes>;

/// A request stream on its way through the pipeline.
pub struct Request {
    pub proxy: Arc<Proxy>,
    pub conn: Arc<ConnInfo>,
    /// Accepted before the handshake completed: sent in 0-RTT data.
    pub early: bool,
}

impl Request {
    pub async fn serve(self, resolver: Resolver) {
        let (head_limit, pause) = {
            let snapshot = self.proxy.snapshot.load();
            let timeouts = &snapshot.config.timeouts;
            (timeouts.client_header, timeouts.client_body)
        };
        let peer = self.conn.peer;
        let (request, stream) = match tokio::time::timeout(head_limit, resolver.resolve_request())
            .await
        {
            Ok(Ok(resolved)) => resolved,
            // h3 has already answered a head over the size limit (431).
            Ok(Err(e)) => return tracing::debug!(client = %peer, "HTTP/3 request refused: {e}"),
            Err(_) => {
                return tracing::debug!(client = %peer, "HTTP/3 request head not complete within {head_limit:?}");
            }
        };
        let (mut send, recv) = stream.split();
        let (mut parts, ()) = request.into_parts();
        if let Some(refusal) = refusal(&parts, self.early) {
            parts.extensions.insert(refusal);
        }
        let body = match client_body(recv, pause).await {
            Ok(body) => body,
            Err(e) => return tracing::debug!(client = %peer, "HTTP/3 request body failed: {e}"),
        };
        let request = http::Request::from_parts(parts, body);
        let Ok(response) = pipeline::handle(self.proxy, self.conn, request).await;
        if let Err(e) = respond(&mut send, response).await {
            // Reset, so the client cannot take a cut body for a whole one.
            send.stop_stream(h3::error::Code::H3_INTERNAL_ERROR);
            tracing::debug!(client = %peer, "HTTP/3 response not sent whole: {e}");
        }
    }
}

/// What HTTP/2 refuses at the protocol level, and an unsafe method in
/// replayable early data.
fn refusal(parts: &http::request::Parts, early: bool) -> Option<Refusal> {
    let headers = &parts.headers;
    let connection_specific = [
        header::CONNECTION,
        header::TRANSFER_ENCODING,
        header::UPGRADE,
        header::HeaderName::from_static("keep-alive"),
        header::HeaderName::from_static("proxy-connection"),
    ]
    .iter()
    .any(|name| headers.contains_key(name))
        || headers
            .get_all(header::TE)
            .iter()
            .any(|te| !te.as_bytes().eq_ignore_ascii_case(b"trailers"));
    if connection_specific {
        return Some(Refusal::ConnectionHeader);
    }
    (early && !parts.method.is_safe()).then_some(Refusal::TooEarly)
}

/// The request body: empty when the stream ended with the head (so the
/// origin sees no body, as for an HTTP/2 END_STREAM), else the stream's
/// DATA frames and its trailers.
async fn client_body(mut recv: RecvHalf, pause: Duration) -> Result<ClientBody, BoxError> {
    let first = match tokio::time::timeout(pause, recv.recv_data()).await {
        Ok(first) => first?.map(|mut data| data.copy_to_bytes(data.remaining())),
        Err(_) => return Err("the client paused its body too long".into()),
    };
    let Some(first) = first else {
        return Ok(match recv.recv_trailers().await? {
            Some(trailers) => frames(vec![Frame::trailers(trailers)], None),
            None => empty_body(),
        });
    };
    Ok(frames(vec![Frame::data(first)], Some(recv)))
}

/// `head`, then whatever `rest` still sends.
fn frames(head: Vec<Frame<Bytes>>, rest: Option<RecvHalf>) -> ClientBody {
    let rest = futures_util::stream::unfold(rest, |recv| async move {
        let mut recv = recv?;
        let frame = match recv.recv_data().await {
            Ok(Some(mut data)) => Ok(Frame::data(data.copy_to_bytes(data.remaining()))),
            Ok(None) => match recv.recv_trailers().await {
                Ok(Some(trailers)) => return Some((Ok(Frame::trailers(trailers)), None)),
                Ok(None) => return None,
                Err(e) => Err(BoxError::from(e)),
            },
            Err(e) => Err(BoxError::from(e)),
        };
        let next = frame.is_ok().then_some(recv);
        Some((frame, next))
    });
    let stream = futures_util::stream::iter(head.into_iter().map(Ok)).chain(rest);
    BodyExt::boxed(StreamBody::new(stream))
}

/// Sends the response head, its body's DATA frames and trailers, then ends
/// the stream.
async fn respond(send: &mut SendHalf, response: http::Response<ProxyBody>) -> Result<(), BoxError> {
    let (parts, mut body) = response.into_parts();
    send.send_response(http::Response::from_parts(parts, ()))
        .await?;
    let mut trailers: Option<HeaderMap> = None;
    while let Some(frame) = body.frame().await {
        let frame = frame?;
        match frame.into_data() {
            Ok(data) if data.is_empty() => {}
            Ok(data) => send.send_data(data).await?,
            Err(frame) => {
                if let Ok(t) = frame.into_trailers() {
                    trailers.get_or_insert_default().extend(t);
                }
            }
        }
    }
    if let Some(trailers) = trailers {
        send.send_trailers(trailers).await?;
    }
    send.finish().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(method: &str, headers: &[(&str, &str)]) -> http::request::Parts {
        let mut builder = http::Request::builder()
            .method(method)
            .uri("https://example.test/");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).unwrap().into_parts().0
    }

    #[test]
    fn early_data_serves_only_safe_methods() {
        assert_eq!(refusal(&parts("GET", &[]), true), None);
        assert_eq!(refusal(&parts("HEAD", &[]), true), None);
        assert_eq!(refusal(&parts("POST", &[]), true), Some(Refusal::TooEarly));
        assert_eq!(
            refusal(&parts("DELETE", &[]), true),
            Some(Refusal::TooEarly)
        );
        assert_eq!(refusal(&parts("POST", &[]), false), None);
    }

    #[test]
    fn connection_specific_headers_are_refused_and_te_trailers_is_not() {
        let refused = Some(Refusal::ConnectionHeader);
        assert_eq!(
            refusal(&parts("GET", &[("connection", "close")]), false),
            refused
        );
        assert_eq!(refusal(&parts("GET", &[("te", "gzip")]), false), refused);
        assert_eq!(refusal(&parts("GET", &[("te", "trailers")]), false), None);
        assert_eq!(refusal(&parts("GET", &[("te", "Trailers")]), false), None);
    }
}
