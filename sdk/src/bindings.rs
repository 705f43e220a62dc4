//! The raw bindings wit-bindgen generates from `wit/` (`ravelin:plugin@0.2.0`,
//! world `filter`).
//!
//! Plugin authors do not use this module: the [`crate::Plugin`] trait and the
//! [`crate::export!`] macro wrap it. The `hooks` flags are generated through
//! the private `flags` module rather than the `bitflags` crate.
#![allow(unsafe_code, missing_docs, clippy::all)]

wit_bindgen::generate!({
    path: "../wit",
    world: "filter",
    pub_export_macro: true,
    export_macro_name: "__export_filter",
    default_bindings_module: "::ravelin_sdk::__private::bindings",
    bitflags_path: "crate::flags",
});
