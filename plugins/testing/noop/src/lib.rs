//! Test guest: does nothing; the bench's baseline. It lists no hooks beyond
//! `on-request`, so the host gives its instance back at once.
use ravelin_sdk::{Config, Plugin};

struct Noop;

impl Plugin for Noop {
    fn configure(_config: Config) -> Result<Self, String> {
        Ok(Noop)
    }
}

ravelin_sdk::export!(Noop);
