//! Why a request was not proxied, and the one mapping from that to the
//! client's status. Bodies never reveal an address or a backend's error
//! text: details go to the log, not to the client.

use http::{Response, StatusCode, header};

use crate::compress::full;
use crate::hygiene::Refusal;
use crate::upstream::{ProxyBody, UpstreamError};

#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// The client sent something we refuse (downstream fault).
    #[error("refused: {0}")]
    Refused(#[from] Refusal),
    #[error("no route matches")]
    NoRoute,
    #[error("request body larger than the limit")]
    BodyTooLarge,
    #[error("request body broken: {0}")]
    BadBody(String),
    #[error("request body too slow")]
    BodyTimeout,
    /// The upstream failed (upstream fault).
    #[error("{0}")]
    Upstream(#[from] UpstreamError),
}

impl ProxyError {
    pub fn status(&self) -> StatusCode {
        match self {
            ProxyError::Refused(refusal) => refusal.status(),
            ProxyError::NoRoute => StatusCode::NOT_FOUND,
            ProxyError::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ProxyError::BadBody(_) => StatusCode::BAD_REQUEST,
            ProxyError::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            ProxyError::Upstream(UpstreamError::NoEndpoint(_)) => StatusCode::SERVICE_UNAVAILABLE,
            ProxyError::Upstream(UpstreamError::Timeout { .. }) => StatusCode::GATEWAY_TIMEOUT,
            ProxyError::Upstream(_) => StatusCode::BAD_GATEWAY,
        }
    }
}

/// A plain-text answer made by the proxy itself: the status line, nothing more.
pub fn local_response(status: StatusCode) -> Response<ProxyBody> {
    let text = format!(
        "{} {}\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    );
    let mut response = Response::new(full(text));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if status.is_client_error() && status != StatusCode::NOT_FOUND {
        // The connection may be out of step with the client: do not reuse it.
        response.headers_mut().insert(
            header::CONNECTION,
            header::HeaderValue::from_static("close"),
        );
    }
    response
}
