//! What [`crate::export!`] expands to call: it keeps the plugin value between
//! hook calls and converts between the raw bindings and the typed API.

use crate::bindings::ravelin::plugin::types as wit;
use crate::http::{Request, Response};
use crate::{Config, Plugin};
use std::any::Any;
use std::cell::RefCell;

pub use crate::bindings;
pub use crate::bindings::__export_filter as export_filter;
pub use crate::bindings::Guest;
pub use wit::{BodyDecision as RawBodyDecision, ChunkDecision as RawChunkDecision};
pub use wit::{Decision as RawDecision, Hooks as RawHooks, LogInfo as RawLogInfo};
pub use wit::{Request as RawRequest, Response as RawResponse};

thread_local! {
    static PLUGIN: RefCell<Option<Box<dyn Any>>> = const { RefCell::new(None) };
    static CONFIG: RefCell<String> = const { RefCell::new(String::new()) };
}

/// The configuration JSON the host passed to `configure`.
pub(crate) fn config_json() -> String {
    CONFIG.with(|c| c.borrow().clone())
}

fn with_plugin<P: Plugin, R>(f: impl FnOnce(&mut P) -> R) -> R {
    PLUGIN.with(|slot| {
        let mut slot = slot.borrow_mut();
        match slot.as_mut().and_then(|p| p.downcast_mut::<P>()) {
            Some(p) => f(p),
            None => panic!("ravelin-sdk: a hook ran before `configure` succeeded"),
        }
    })
}

/// Runs [`Plugin::configure`], keeps the plugin for the hooks and reports
/// its [`Plugin::hooks`].
pub fn configure<P: Plugin>(config: String) -> Result<RawHooks, String> {
    std::panic::set_hook(Box::new(|info| {
        crate::log::error(&format!("plugin panicked: {info}"))
    }));
    CONFIG.with(|c| *c.borrow_mut() = config.clone());
    let plugin = P::configure(Config::new(config))?;
    let hooks = plugin.hooks();
    PLUGIN.with(|slot| *slot.borrow_mut() = Some(Box::new(plugin)));
    Ok(hooks)
}

/// Calls [`Plugin::on_request`].
pub fn on_request<P: Plugin>(req: &RawRequest) -> RawDecision {
    with_plugin::<P, _>(|p| p.on_request(&Request(req)).into_wit())
}

/// Calls [`Plugin::on_request_body`].
pub fn on_request_body<P: Plugin>(
    req: &RawRequest,
    body: Vec<u8>,
    truncated: bool,
) -> RawBodyDecision {
    with_plugin::<P, _>(|p| p.on_request_body(&Request(req), body, truncated).into_wit())
}

/// Calls [`Plugin::on_request_chunk`].
pub fn on_request_chunk<P: Plugin>(
    req: &RawRequest,
    chunk: Vec<u8>,
    end: bool,
) -> RawChunkDecision {
    with_plugin::<P, _>(|p| p.on_request_chunk(&Request(req), chunk, end).into_wit())
}

/// Calls [`Plugin::on_response`].
pub fn on_response<P: Plugin>(req: &RawRequest, resp: &RawResponse) -> RawDecision {
    with_plugin::<P, _>(|p| p.on_response(&Request(req), &Response(resp)).into_wit())
}

/// Calls [`Plugin::on_response_body`].
pub fn on_response_body<P: Plugin>(
    req: &RawRequest,
    resp: &RawResponse,
    body: Vec<u8>,
    truncated: bool,
) -> RawBodyDecision {
    with_plugin::<P, _>(|p| {
        p.on_response_body(&Request(req), &Response(resp), body, truncated)
            .into_wit()
    })
}

/// Calls [`Plugin::on_response_chunk`].
pub fn on_response_chunk<P: Plugin>(
    req: &RawRequest,
    resp: &RawResponse,
    chunk: Vec<u8>,
    end: bool,
) -> RawChunkDecision {
    with_plugin::<P, _>(|p| {
        p.on_response_chunk(&Request(req), &Response(resp), chunk, end)
            .into_wit()
    })
}

/// Calls [`Plugin::on_log`].
pub fn on_log<P: Plugin>(req: &RawRequest, info: RawLogInfo) {
    with_plugin::<P, _>(|p| p.on_log(&Request(req), &info))
}
