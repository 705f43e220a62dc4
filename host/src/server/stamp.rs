//! A moment one task records and another reads: milliseconds since a start
//! instant in an atomic, or none. The connection's idle check reads two of
//! them, when bytes last moved and when the head being read began.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const NONE: u64 = u64::MAX;

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

    fn elapsed_millis(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    /// Sets it to now.
    pub fn set(&self) {
        self.millis.store(self.elapsed_millis(), Ordering::Relaxed);
    }

    /// Sets it to now unless it is already set.
    pub fn set_if_clear(&self) {
        // The common case, a head that has begun, reads no clock.
        if self.millis.load(Ordering::Relaxed) != NONE {
            return;
        }
        let now = self.elapsed_millis();
        let _ = self
            .millis
            .compare_exchange(NONE, now, Ordering::Relaxed, Ordering::Relaxed);
    }

    pub fn clear(&self) {
        self.millis.store(NONE, Ordering::Relaxed);
    }

    /// How long ago it was set; `None` when clear.
    pub fn age(&self) -> Option<Duration> {
        let millis = self.millis.load(Ordering::Relaxed);
        (millis != NONE).then(|| {
            self.start
                .elapsed()
                .saturating_sub(Duration::from_millis(millis))
        })
    }
}
