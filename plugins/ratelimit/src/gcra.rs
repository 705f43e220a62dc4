//! The token bucket as GCRA (the generic cell rate algorithm): one number
//! per key, the theoretical arrival time (`tat`) of the next request, in
//! nanoseconds since the Unix epoch. A bucket of `burst` tokens refilled
//! at one token per `interval` lets a request through when `tat`, pushed
//! one interval on, is at most `burst` intervals ahead of now.

use crate::verdict::{Verdict, ceil_seconds};

/// One bucket's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket {
    /// Nanoseconds per token (the window divided by the rate).
    pub interval_ns: u64,
    /// Tokens the bucket holds when full.
    pub burst: u64,
}

/// A decision and, when allowed, the `tat` to store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub verdict: Verdict,
    /// The new `tat`; `None` when refused (nothing to write).
    pub next_tat: Option<u64>,
}

impl Bucket {
    fn capacity_ns(&self) -> u64 {
        self.interval_ns.saturating_mul(self.burst)
    }

    /// Decides a request at `now_ns` given the stored `tat` (absent: a full
    /// bucket).
    pub fn step(&self, tat: Option<u64>, now_ns: u64) -> Step {
        let tat = tat.unwrap_or(now_ns).max(now_ns);
        let next = tat.saturating_add(self.interval_ns);
        let ahead = next - now_ns;
        let capacity = self.capacity_ns();
        if ahead <= capacity {
            let verdict = Verdict {
                allowed: true,
                remaining: (capacity - ahead) / self.interval_ns,
                reset_s: ceil_seconds(ahead / 1_000_000),
                retry_after_s: 0,
            };
            return Step {
                verdict,
                next_tat: Some(next),
            };
        }
        let verdict = Verdict {
            allowed: false,
            remaining: 0,
            reset_s: ceil_seconds((tat - now_ns) / 1_000_000),
            retry_after_s: ceil_seconds((ahead - capacity).div_ceil(1_000_000)).max(1),
        };
        Step {
            verdict,
            next_tat: None,
        }
    }

    /// How long a stored `tat` matters: until the bucket is full again.
    pub fn ttl_ms(&self, tat: u64, now_ns: u64) -> u64 {
        tat.saturating_sub(now_ns).div_ceil(1_000_000) + 1000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: u64 = 1_000_000_000;

    /// 10 a second, burst 20.
    fn bucket() -> Bucket {
        Bucket {
            interval_ns: SECOND / 10,
            burst: 20,
        }
    }

    /// Runs `n` requests at `now`, carrying `tat`; returns how many passed.
    fn burst_of(b: &Bucket, tat: &mut Option<u64>, now: u64, n: usize) -> usize {
        let mut passed = 0;
        for _ in 0..n {
            let step = b.step(*tat, now);
            if let Some(next) = step.next_tat {
                *tat = Some(next);
                passed += 1;
            }
        }
        passed
    }

    #[test]
    fn a_full_bucket_lets_burst_through_then_refills_at_the_rate() {
        let b = bucket();
        let start = 1_700_000_000 * SECOND;
        let mut tat = None;
        assert_eq!(burst_of(&b, &mut tat, start, 50), 20, "the burst");
        assert_eq!(
            burst_of(&b, &mut tat, start + SECOND / 2, 50),
            5,
            "half a second: 5 tokens"
        );
        assert_eq!(
            burst_of(&b, &mut tat, start + 10 * SECOND, 50),
            20,
            "full again"
        );
    }

    #[test]
    fn verdicts_carry_remaining_reset_and_retry_after() {
        let b = bucket();
        let now = 1_000 * SECOND;
        let first = b.step(None, now);
        assert_eq!(first.verdict.remaining, 19);
        assert_eq!(first.verdict.reset_s, 1, "0.1 s to refill, rounded up");
        let full = b.step(Some(now + 2 * SECOND), now);
        assert!(!full.verdict.allowed);
        assert_eq!(full.next_tat, None);
        assert_eq!(
            full.verdict.retry_after_s, 1,
            "one interval, rounded up to a second"
        );
        assert_eq!(full.verdict.reset_s, 2);
        let slow = Bucket {
            interval_ns: 60 * SECOND,
            burst: 1,
        };
        let refused = slow.step(Some(now + 60 * SECOND), now);
        assert_eq!(refused.verdict.retry_after_s, 60);
    }

    #[test]
    fn a_tat_in_the_past_counts_as_a_full_bucket() {
        let b = bucket();
        let now = 1_000 * SECOND;
        assert_eq!(b.step(Some(now - 100 * SECOND), now), b.step(None, now));
        assert_eq!(b.ttl_ms(now + SECOND, now), 2000);
    }
}
