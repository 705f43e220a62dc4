//! Host bindings generated from `wit/`: [`v2`] for `ravelin:plugin@0.2.0`
//! (the current contract) and [`v1`] for `ravelin:plugin@0.1.0`
//! (`wit/v0.1/`), served side by side so 0.1 components keep loading.
//!
//! The request and response resources are not stored in a table: one store
//! serves one exchange at a time, so a handle always means "the request (or
//! response) of the exchange this store is serving" (see [`crate::ctx`]).
//! kv stores and outbound calls in flight (0.2) are real table entries.

/// `ravelin:plugin@0.1.0`, world `filter`.
pub mod v1 {
    wasmtime::component::bindgen!({
        path: "../../wit/v0.1",
        world: "filter",
        imports: {
            "ravelin:plugin/outbound.send": async | trappable,
            "ravelin:plugin/kv.get": async | trappable,
            "ravelin:plugin/kv.set": async | trappable,
            "ravelin:plugin/kv.delete": async | trappable,
            "ravelin:plugin/kv.increment": async | trappable,
            default: trappable,
        },
        exports: { default: async },
        with: {
            "ravelin:plugin/types.request": super::RequestHandle,
            "ravelin:plugin/types.response": super::ResponseHandle,
        },
    });
}

/// `ravelin:plugin@0.2.0`, world `filter`.
pub mod v2 {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "filter",
        imports: {
            "ravelin:plugin/kv.[static]store.open": trappable,
            "ravelin:plugin/kv.[method]store.get": async | trappable,
            "ravelin:plugin/kv.[method]store.set": async | trappable,
            "ravelin:plugin/kv.[method]store.compare-and-set": async | trappable,
            "ravelin:plugin/kv.[method]store.delete": async | trappable,
            "ravelin:plugin/kv.[method]store.increment": async | trappable,
            "ravelin:plugin/outbound.[method]pending.wait": async | trappable,
            "ravelin:plugin/outbound.send": async | trappable,
            "ravelin:plugin/clock.sleep-ms": async | trappable,
            default: trappable,
        },
        exports: { default: async },
        with: {
            "ravelin:plugin/types.request": super::RequestHandle,
            "ravelin:plugin/types.response": super::ResponseHandle,
            "ravelin:plugin/kv.store": crate::imports::kv::StoreHandle,
            "ravelin:plugin/outbound.pending": crate::imports::outbound::PendingCall,
        },
    });
}

/// The host type behind `resource request` handles.
pub struct RequestHandle;

/// The host type behind `resource response` handles.
pub struct ResponseHandle;
