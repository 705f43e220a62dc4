//! Host bindings generated from `wit/` (world `ravelin:plugin/filter`).
//!
//! The request and response resources are not stored in a table: one store
//! serves one exchange at a time, so a handle always means "the request (or
//! response) of the exchange this store is serving" (see [`crate::ctx`]).

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "filter",
    imports: {
        "ravelin:plugin/outbound.send": async | trappable,
        default: trappable,
    },
    exports: { default: async },
    with: {
        "ravelin:plugin/types.request": RequestHandle,
        "ravelin:plugin/types.response": ResponseHandle,
    },
});

/// The host type behind `resource request` handles.
pub struct RequestHandle;

/// The host type behind `resource response` handles.
pub struct ResponseHandle;
