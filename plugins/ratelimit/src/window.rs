//! The sliding window counter (as Cloudflare and nginx-style limiters do
//! it): a counter per fixed window, and the estimate `previous × (the part
//! of the previous window still inside the sliding one) + current`. Two
//! counters per key, kept with `increment`, which is atomic on every kv
//! backend: concurrent requests each get a distinct count.

use crate::verdict::{Verdict, ceil_seconds};

/// One window's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Requests allowed per window.
    pub quota: u64,
    /// The window, milliseconds.
    pub length_ms: u64,
}

impl Window {
    /// The fixed window `now_ms` falls in, and how far into it.
    pub fn position(&self, now_ms: u64) -> (u64, u64) {
        (now_ms / self.length_ms, now_ms % self.length_ms)
    }

    /// The weight of `previous` `elapsed_ms` into the current window.
    fn carried(&self, previous: u64, elapsed_ms: u64) -> u64 {
        let left = u128::from(self.length_ms - elapsed_ms);
        (u128::from(previous) * left / u128::from(self.length_ms)) as u64
    }

    /// Decides a request that made the current window's count `current`
    /// (itself included), with `previous` in the window before.
    pub fn decide(&self, previous: u64, current: u64, elapsed_ms: u64) -> Verdict {
        let estimate = self.carried(previous, elapsed_ms) + current;
        let reset_s = ceil_seconds(self.length_ms - elapsed_ms);
        if estimate <= self.quota {
            return Verdict {
                allowed: true,
                remaining: self.quota - estimate,
                reset_s,
                retry_after_s: 0,
            };
        }
        let wait = self.wait_ms(previous, current - 1, elapsed_ms);
        Verdict {
            allowed: false,
            remaining: 0,
            reset_s,
            retry_after_s: ceil_seconds(wait).max(1),
        }
    }

    /// Milliseconds until one more request would pass, with `current`
    /// counted now and no request in between.
    fn wait_ms(&self, previous: u64, current: u64, elapsed_ms: u64) -> u64 {
        let length = u128::from(self.length_ms);
        let quota = u128::from(self.quota);
        let to_next = self.length_ms - elapsed_ms;
        // The most of `weight` counts window-milliseconds that may remain
        // for `weight × left / length + counted + 1 ≤ quota`.
        let most_left = |weight: u64, counted: u64| -> u64 {
            let room = quota.saturating_sub(u128::from(counted));
            if weight == 0 {
                return self.length_ms;
            }
            let left = (room * length)
                .div_ceil(u128::from(weight))
                .saturating_sub(1);
            left.min(length) as u64
        };
        if u128::from(current) < quota {
            return to_next.saturating_sub(most_left(previous, current));
        }
        to_next + self.length_ms.saturating_sub(most_left(current, 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 100 a minute.
    const W: Window = Window {
        quota: 100,
        length_ms: 60_000,
    };

    #[test]
    fn the_first_window_allows_exactly_the_quota() {
        let passed = (1..=500)
            .filter(|n| W.decide(0, *n, 10_000).allowed)
            .count();
        assert_eq!(passed, 100);
        let last = W.decide(0, 100, 10_000);
        assert_eq!((last.remaining, last.reset_s), (0, 50));
    }

    #[test]
    fn the_previous_window_weighs_by_how_much_of_it_remains() {
        // Half-way through, 100 before weigh 50: 50 more pass.
        let passed = (1..=500)
            .filter(|n| W.decide(100, *n, 30_000).allowed)
            .count();
        assert_eq!(passed, 50);
        assert_eq!(W.decide(100, 10, 30_000).remaining, 40);
        // At the very end of the window the previous one weighs nothing.
        assert_eq!(W.decide(100, 100, 59_999).remaining, 0);
    }

    #[test]
    fn retry_after_is_when_the_next_request_would_pass() {
        // Current window full: the next window, where the 100 carried over
        // weigh less than 100 once 1 ms of it has gone.
        let full = W.decide(0, 101, 10_000);
        assert!(!full.allowed);
        assert_eq!(
            full.retry_after_s, 51,
            "50 s to the next window, then 0.6 s"
        );
        // The previous window's weight must drain by one request.
        let draining = W.decide(100, 51, 30_000);
        assert!(!draining.allowed);
        assert_eq!(draining.retry_after_s, 1);
        let mut t = 30_000;
        while !W.decide(100, 51, t).allowed {
            t += 1;
        }
        assert!(t - 30_000 <= 1000, "passes within the second: {t}");
    }

    #[test]
    fn positions_split_time_into_windows() {
        assert_eq!(W.position(125_000), (2, 5_000));
    }
}
