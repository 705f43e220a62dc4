//! cargo-fuzz entry point; the checks live in `ravelin_fuzz::seclang_rules` so the
//! corpus replay (`tests/corpus.rs`) runs the same code on stable.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ravelin_fuzz::seclang_rules(data));
