//! Counts an exchange for passive ejection only when it is really over: a
//! response whose body breaks after a good head is a failure, and a success
//! is recorded when the body has ended cleanly.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

use super::body::UpstreamBody;
use super::endpoint::EndpointState;
use super::proxy_body::BoxError;
use crate::config::Passive;

pub struct AccountedBody {
    inner: UpstreamBody,
    endpoint: Arc<EndpointState>,
    passive: Passive,
    settled: bool,
}

impl AccountedBody {
    pub fn new(inner: UpstreamBody, endpoint: Arc<EndpointState>, passive: Passive) -> Self {
        let mut body = Self {
            inner,
            endpoint,
            passive,
            settled: false,
        };
        if body.inner.is_end_stream() {
            body.settle(true);
        }
        body
    }

    fn settle(&mut self, ok: bool) {
        if std::mem::replace(&mut self.settled, true) {
            return;
        }
        if ok {
            self.endpoint.record_success();
        } else if self
            .endpoint
            .record_failure(self.passive.consecutive_failures, self.passive.cooldown)
        {
            tracing::warn!(endpoint = %self.endpoint.address(), "endpoint ejected after consecutive failures");
        }
    }
}

impl Body for AccountedBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let poll = Pin::new(&mut self.inner).poll_frame(cx);
        match &poll {
            Poll::Ready(None) => self.settle(true),
            Poll::Ready(Some(Err(_))) => self.settle(false),
            _ => {}
        }
        poll
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
