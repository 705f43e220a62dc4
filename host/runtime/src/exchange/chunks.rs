//! Streamed bodies: the chunk hooks of the plugins that asked for a body
//! `chunked`, request bodies in route order and response bodies in reverse
//! route order, each plugin getting what the one before it passed on
//! (joined to what it held back).

use super::slot::Stage;
use super::{Exchange, empty_request};
use crate::body::{BodyAsk, OverLimit};
use crate::decision::Failure;
use crate::instance::{Answer, Call, Hook};
use bytes::Bytes;

/// What the chain decided about one chunk of a streamed body.
#[derive(Debug)]
pub enum ChunkDecision {
    /// Send these bytes on (possibly none: a plugin holds them back).
    Data(Bytes),
    /// A plugin answered: send this to the client instead (for a response,
    /// only before any body byte was sent; for a request, the upstream
    /// request is abandoned).
    Respond(http::Response<Bytes>),
    /// A fail-closed plugin failed: cut the body short.
    Fail(Failure),
}

/// One plugin's answer to a chunk, settled: the data going on, or the end
/// of the pass.
enum Passed {
    Data(Bytes),
    Stop(ChunkDecision),
}

impl Exchange {
    /// Runs `on-request-chunk` in route order for the plugins that asked for
    /// the request body streamed. `end` marks the last call, which lends the
    /// body's `trailers` (empty when none) to read and change. The request
    /// head seen is the copy kept after `on-request` (the original has gone
    /// upstream).
    pub async fn on_request_chunk(
        &mut self,
        chunk: Bytes,
        end: bool,
        trailers: &mut http::HeaderMap,
    ) -> ChunkDecision {
        let mut request = self.request.take().unwrap_or_else(empty_request);
        let mut data = chunk;
        let mut decision = None;
        for i in 0..self.ran {
            let Some((ask, input)) = self.chunk_input(i, Hook::OnRequestChunk, &mut data, end)
            else {
                continue;
            };
            let call = Call::RequestChunk {
                req: &mut request,
                chunk: &input,
                end,
                trailers: end.then_some(&mut *trailers),
            };
            let answer = self.drive(i, call).await;
            match self.settle_chunk(i, Hook::OnRequestChunk, ask, input, end, answer) {
                Passed::Data(passed) => data = passed,
                Passed::Stop(stop) => {
                    decision = Some(stop);
                    break;
                }
            }
        }
        self.request = Some(request);
        if end || decision.is_some() {
            self.end_stage(Stage::RequestBody, None);
        }
        decision.unwrap_or(ChunkDecision::Data(data))
    }

    /// Runs `on-response-chunk` in reverse route order for the plugins that
    /// asked for the response body streamed. `end` marks the last call,
    /// which lends the body's `trailers` (empty when none) to read and
    /// change.
    pub async fn on_response_chunk(
        &mut self,
        parts: &mut http::response::Parts,
        chunk: Bytes,
        end: bool,
        trailers: &mut http::HeaderMap,
    ) -> ChunkDecision {
        let mut request = self.request.take().unwrap_or_else(empty_request);
        let mut data = chunk;
        let mut decision = None;
        for i in (0..self.ran).rev() {
            let Some((ask, input)) = self.chunk_input(i, Hook::OnResponseChunk, &mut data, end)
            else {
                continue;
            };
            let call = Call::ResponseChunk {
                req: &mut request,
                resp: parts,
                chunk: &input,
                end,
                trailers: end.then_some(&mut *trailers),
            };
            let answer = self.drive(i, call).await;
            match self.settle_chunk(i, Hook::OnResponseChunk, ask, input, end, answer) {
                Passed::Data(passed) => data = passed,
                Passed::Stop(stop) => {
                    decision = Some(stop);
                    break;
                }
            }
        }
        self.request = Some(request);
        if end {
            self.end_stage(Stage::ResponseBody, None);
        }
        let decision = decision.unwrap_or(ChunkDecision::Data(data));
        if matches!(&decision, ChunkDecision::Data(d) if !d.is_empty()) {
            self.streamed = true;
        }
        decision
    }

    /// What plugin `i` is given of `data` (joined to what it held back), when
    /// it streams this body; `None` when it does not, or when it has nothing
    /// to see yet (`data` is left as it was).
    fn chunk_input(
        &mut self,
        i: usize,
        hook: Hook,
        data: &mut Bytes,
        end: bool,
    ) -> Option<(BodyAsk, Bytes)> {
        let slot = &mut self.slots[i];
        let ask = match hook {
            Hook::OnRequestChunk => slot.request_body,
            _ => slot.response_body,
        };
        let ask = ask.filter(|a| !slot.skipped && matches!(a, BodyAsk::Stream { .. }))?;
        let input = slot.join_held(std::mem::take(data));
        if input.is_empty() && !end {
            *data = input;
            return None;
        }
        Some((ask, input))
    }

    /// Settles plugin `i`'s answer to `input`: what goes on, or why the pass
    /// stops (an answer, or a failure under the plugin's policy).
    fn settle_chunk(
        &mut self,
        i: usize,
        hook: Hook,
        ask: BodyAsk,
        input: Bytes,
        end: bool,
        answer: Result<Answer, Option<Failure>>,
    ) -> Passed {
        let failed = |exchange: &mut Self, error| match exchange.fail(i, hook, error) {
            Some(failure) => Passed::Stop(ChunkDecision::Fail(failure)),
            None => Passed::Data(input.clone()),
        };
        match answer {
            Ok(Answer::Continue) | Err(None) => Passed::Data(input),
            Ok(Answer::Replace(b)) => Passed::Data(b),
            Ok(Answer::Hold) if end => Passed::Data(input),
            Ok(Answer::Hold) if input.len() <= ask.max() => {
                self.slots[i].hold(input);
                Passed::Data(Bytes::new())
            }
            Ok(Answer::Hold) if ask.over() == OverLimit::Skip => {
                self.slots[i].skipped = true;
                Passed::Data(input)
            }
            Ok(Answer::Hold) => {
                let error = self.slots[i].too_large(hook, ask);
                failed(self, error)
            }
            Ok(Answer::Respond(_)) if hook == Hook::OnResponseChunk && self.streamed => {
                let error = self.slots[i].late_answer();
                failed(self, error)
            }
            Ok(Answer::Respond(response)) => Passed::Stop(ChunkDecision::Respond(response)),
            Err(Some(failure)) => Passed::Stop(ChunkDecision::Fail(failure)),
        }
    }
}
