//! The raw bindings wit-bindgen generates from `wit/` (world `filter`).
//!
//! Plugin authors do not use this module: the [`crate::Plugin`] trait and the
//! [`crate::export!`] macro wrap it.
#![allow(unsafe_code, missing_docs, clippy::all)]

wit_bindgen::generate!({
    path: "../wit",
    world: "filter",
    pub_export_macro: true,
    export_macro_name: "__export_filter",
    default_bindings_module: "::ravelin_sdk::__private::bindings",
});
