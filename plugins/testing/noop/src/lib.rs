//! Test guest: does nothing; the bench's baseline.
use ravelin_sdk::{Config, Plugin};

struct Noop;

impl Plugin for Noop {
    fn new(_config: Config) -> Result<Self, String> {
        Ok(Noop)
    }
}

ravelin_sdk::export!(Noop);
