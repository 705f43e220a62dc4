//! One plugin's part in an exchange: its version, its instance while it
//! needs one, what it asked for, what it holds back, and the failure policy
//! applied to what its hooks return.

use crate::PluginError;
use crate::body::BodyAsk;
use crate::config::FailPolicy;
use crate::decision::Failure;
use crate::instance::{Answer, Hook, Hooks, Instance};
use crate::version::PluginVersion;
use bytes::{Bytes, BytesMut};
use std::sync::Arc;
use std::time::Instant;

/// The exchange's stages, in order; an instance is kept while a later
/// stage needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Stage {
    Request,
    RequestBody,
    Response,
    ResponseBody,
}

pub(super) struct Slot {
    pub version: Arc<PluginVersion>,
    instance: Option<Instance>,
    /// A fail-open plugin that failed: skipped for the rest of the exchange.
    pub skipped: bool,
    /// What the plugin implements beyond `on-request`, once its instance is known.
    pub hooks: Hooks,
    pub request_body: Option<BodyAsk>,
    pub response_body: Option<BodyAsk>,
    /// Response bytes the plugin holds back (`hold`).
    held: BytesMut,
}

impl Slot {
    pub fn new(version: Arc<PluginVersion>) -> Self {
        Slot {
            version,
            instance: None,
            skipped: false,
            hooks: Hooks {
                on_response: true,
                on_log: false,
            },
            request_body: None,
            response_body: None,
            held: BytesMut::new(),
        }
    }

    pub async fn instance(&mut self) -> Result<&mut Instance, PluginError> {
        if self.instance.is_none() {
            self.instance = Some(self.version.checkout().await?);
        }
        self.instance
            .as_mut()
            .ok_or_else(|| PluginError::Instantiate {
                plugin: self.version.spec.name.clone(),
                reason: "no instance".into(),
            })
    }

    /// Gives the instance back to its version's pool.
    pub fn release(&mut self) {
        if let Some(instance) = self.instance.take() {
            self.version.checkin(instance);
        }
    }

    /// Whether a stage after `done` still needs this plugin's instance.
    pub fn needs_instance(&self, done: Stage) -> bool {
        !self.skipped
            && ((done < Stage::RequestBody && self.request_body.is_some())
                || (done < Stage::Response && self.hooks.on_response)
                || (done < Stage::ResponseBody && self.response_body.is_some())
                || self.hooks.on_log)
    }

    /// Takes in what a call revealed: the hooks the instance implements and
    /// the body it asked for (else the config's `request_body` /
    /// `response_body`, the way 0.1 plugins ask).
    pub fn learn(&mut self, hook: Hook, hooks: Hooks, ask: Option<BodyAsk>) {
        self.hooks = hooks;
        let spec = &self.version.spec;
        let configured = |wanted: bool| {
            wanted.then_some(BodyAsk::Whole {
                max: spec.max_body_bytes,
                over: crate::body::OverLimit::Reject,
            })
        };
        match hook {
            Hook::OnRequest => self.request_body = ask.or(configured(spec.request_body)),
            Hook::OnResponse => self.response_body = ask.or(configured(spec.response_body)),
            _ => {}
        }
    }

    /// `data` after what the plugin held back.
    pub fn join_held(&mut self, data: Bytes) -> Bytes {
        if self.held.is_empty() {
            return data;
        }
        self.held.extend_from_slice(&data);
        self.held.split().freeze()
    }

    /// Holds `data` back until the next chunk.
    pub fn hold(&mut self, data: Bytes) {
        self.held = BytesMut::from(data);
    }

    /// The error for a body over what the plugin asked for.
    pub fn too_large(&self, hook: Hook, ask: BodyAsk) -> PluginError {
        PluginError::BodyTooLarge {
            plugin: self.version.spec.name.clone(),
            hook: hook.name(),
            limit: ask.max(),
        }
    }

    /// The error for an answer that came after the response began.
    pub fn late_answer(&self) -> PluginError {
        PluginError::Guest {
            plugin: self.version.spec.name.clone(),
            hook: Hook::OnResponseChunk.name(),
            reason: "respond after the response body began: the response was cut short".into(),
        }
    }

    /// Records the call; on failure discards the instance and applies the
    /// policy: `Err(None)` means "skip this plugin and go on".
    pub fn settle(
        &mut self,
        hook: Hook,
        started: Instant,
        result: Result<Answer, PluginError>,
    ) -> Result<Answer, Option<Failure>> {
        self.version
            .meter
            .record(hook, started.elapsed(), result.as_ref().err());
        result.map_err(|error| {
            if !matches!(error, PluginError::BodyTooLarge { .. }) {
                self.instance = None;
            }
            match self.version.spec.fail {
                FailPolicy::Open => {
                    self.skipped = true;
                    None
                }
                FailPolicy::Closed => Some(Failure { error }),
            }
        })
    }
}
