//! One upstream endpoint's live state: requests in flight, the active
//! health-check verdict, and passive ejection (consecutive failures take it
//! out for a cooldown; it then comes back on probation, where one more
//! failure ejects it again).

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::balancer::fnv1a;

pub struct EndpointState {
    /// The endpoint's `host:port`, parsed once.
    pub authority: http::uri::Authority,
    pub weight: u32,
    pub address_hash: u64,
    in_flight: AtomicUsize,
    healthy: AtomicBool,
    consecutive_failures: AtomicU32,
    ejected_until: Mutex<Option<Instant>>,
}

/// Counts a request in flight until dropped.
pub struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl EndpointState {
    pub fn new(address: String, weight: u32) -> Result<Self, String> {
        let authority = address
            .parse()
            .map_err(|e| format!("endpoint `{address}` is not a host:port: {e}"))?;
        Ok(Self {
            address_hash: fnv1a(address.as_bytes()),
            authority,
            weight,
            in_flight: AtomicUsize::new(0),
            healthy: AtomicBool::new(true),
            consecutive_failures: AtomicU32::new(0),
            ejected_until: Mutex::new(None),
        })
    }

    /// The endpoint's `host:port`, as configured.
    pub fn address(&self) -> &str {
        self.authority.as_str()
    }

    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    pub fn start_request(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(&self.in_flight)
    }

    /// Healthy by the active check and not passively ejected.
    pub fn is_available(&self) -> bool {
        self.is_healthy() && !self.is_ejected()
    }

    pub fn is_healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }

    /// Records the active check's verdict. Coming back up also ends a
    /// passive ejection: the endpoint has just proven itself.
    pub fn set_healthy(&self, healthy: bool) {
        self.healthy.store(healthy, Ordering::Relaxed);
        if healthy {
            self.consecutive_failures.store(0, Ordering::Relaxed);
            *self.ejected_until.lock().unwrap_or_else(|e| e.into_inner()) = None;
        }
    }

    pub fn is_ejected(&self) -> bool {
        let guard = self.ejected_until.lock().unwrap_or_else(|e| e.into_inner());
        guard.is_some_and(|until| Instant::now() < until)
    }

    pub fn eject_for(&self, cooldown: Duration) {
        *self.ejected_until.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(Instant::now() + cooldown);
    }

    /// Records a connect failure or 5xx; ejects the endpoint when `threshold`
    /// failures come in a row (or at once, on probation). Returns whether
    /// this failure ejected it.
    pub fn record_failure(&self, threshold: u32, cooldown: Duration) -> bool {
        if threshold == 0 {
            return false;
        }
        let on_probation = self
            .ejected_until
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some();
        let failures = self.consecutive_failures.fetch_add(1, Ordering::Relaxed) + 1;
        if (failures >= threshold || on_probation) && !self.is_ejected() {
            self.eject_for(cooldown);
            return true;
        }
        false
    }

    /// Records a success: the failure streak and any probation end.
    pub fn record_success(&self) {
        if self.consecutive_failures.swap(0, Ordering::Relaxed) > 0 {
            let mut until = self.ejected_until.lock().unwrap_or_else(|e| e.into_inner());
            if until.is_some_and(|t| Instant::now() >= t) {
                *until = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consecutive_failures_eject_then_probation_re_ejects_at_once() {
        let e = EndpointState::new("a:1".into(), 1).unwrap();
        let cooldown = Duration::from_millis(30);
        assert!(!e.record_failure(3, cooldown));
        assert!(!e.record_failure(3, cooldown));
        assert!(e.record_failure(3, cooldown));
        assert!(!e.is_available());
        std::thread::sleep(Duration::from_millis(40));
        assert!(e.is_available(), "back after the cooldown");
        assert!(
            e.record_failure(3, cooldown),
            "one failure on probation ejects again"
        );
        std::thread::sleep(Duration::from_millis(40));
        e.record_success();
        assert!(!e.record_failure(3, cooldown), "a success ends probation");
    }

    #[test]
    fn a_success_resets_the_streak() {
        let e = EndpointState::new("a:1".into(), 1).unwrap();
        e.record_failure(2, Duration::from_secs(1));
        e.record_success();
        assert!(!e.record_failure(2, Duration::from_secs(1)));
    }
}
