//! cargo-fuzz entry point; the checks live in `ravelin_fuzz::plugin_host_api` so the
//! corpus replay (`tests/corpus.rs`) runs the same code on stable.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ravelin_fuzz::plugin_host_api(data));
