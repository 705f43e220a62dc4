//! A moment one task records and another reads: milliseconds since a start
//! instant in an atomic. An HTTP/2 connection's idle check reads when its
//! bytes last moved.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub struct Stamp {
    start: Instant,
    millis: AtomicU64,
}

impl Stamp {
    /// A stamp set to now.
    pub fn now() -> Self {
        Stamp {
            start: Instant::now(),
            millis: AtomicU64::new(0),
        }
    }

    /// Sets it to now.
    pub fn set(&self) {
        let now = self.start.elapsed().as_millis() as u64;
        self.millis.store(now, Ordering::Relaxed);
    }

    /// How long ago it was set.
    pub fn age(&self) -> Duration {
        let millis = self.millis.load(Ordering::Relaxed);
        self.start
            .elapsed()
            .saturating_sub(Duration::from_millis(millis))
    }
}
