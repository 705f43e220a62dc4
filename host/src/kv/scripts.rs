//! The Lua scripts behind the calls that read before they write (set,
//! compare-and-set, increment): Redis runs each atomically, so proxies
//! sharing a Redis never interleave inside one. Sent as EVALSHA, loaded on
//! first use and again after Redis forgets them (a restart). Each is
//! `lua/write.lua` (versions, whole-entry writes) followed by its own file.

use std::sync::LazyLock;

use redis::Script;

macro_rules! script {
    ($file:literal) => {
        LazyLock::new(|| Script::new(concat!(include_str!("lua/write.lua"), include_str!($file))))
    };
}

/// Writes a value at a new version.
pub static SET: LazyLock<Script> = script!("lua/set.lua");
/// Writes a value only at the expected version.
pub static COMPARE_AND_SET: LazyLock<Script> = script!("lua/compare_and_set.lua");
/// Adds to a decimal counter.
pub static INCREMENT: LazyLock<Script> = script!("lua/increment.lua");
