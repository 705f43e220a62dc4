//! `HookClock`: how much of its deadline the running hook has used.
//!
//! A plugin's deadline bounds the CPU its guest code uses, not the wall
//! clock: waits on the ports (kv, outbound, `sleep-ms`) and time spent
//! yielded to the executor never count, and neither does time the thread
//! spends descheduled by the kernel — on an overloaded machine a hook that
//! computes for 1 ms may take 60 ms of wall time, and failing it then would
//! turn overload into errors exactly when they hurt most.
//!
//! Reading a thread's CPU time is a system call, so a hook that ends before
//! the first epoch tick (nearly all of them) never reads it: until the
//! first deadline check, the hook is charged its wall time minus waits, at
//! most one tick's worth ([`FIRST_CHECK_CAP`]); from that check on, the
//! CPU time its thread spends between checks, re-based after every wait
//! and yield (the thread runs other tasks meanwhile) and whenever the hook
//! resumes on another thread.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

/// The most the part of a hook before its first deadline check is charged:
/// the epoch ticks every millisecond, so a guest that reaches its first
/// check has computed for at most about that long.
const FIRST_CHECK_CAP: Duration = Duration::from_millis(2);

/// The CPU time of the calling thread, and which thread it is.
fn thread_cpu() -> (ThreadId, Duration) {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    let cpu = Duration::new(
        u64::try_from(now.tv_sec).unwrap_or(0),
        u32::try_from(now.tv_nsec).unwrap_or(0),
    );
    (std::thread::current().id(), cpu)
}

/// The CPU side of the clock, shared with the yield future that re-bases it.
#[derive(Debug, Default)]
struct CpuMeter {
    /// What the hook was charged up to its first check (wall time, capped);
    /// `None` until then.
    before_first_check: Option<Duration>,
    /// CPU time used since the first check.
    used: Duration,
    /// The thread and its CPU time at the last check, wait or yield.
    base: Option<(ThreadId, Duration)>,
}

impl CpuMeter {
    /// Charges the CPU time since the base (if the hook is still on the
    /// same thread) and moves the base to now.
    /// Before the first check there is no base and nothing to do (and no
    /// system call is made).
    fn charge(&mut self) {
        let Some((base_thread, base_cpu)) = self.base else {
            return;
        };
        let (thread, now) = thread_cpu();
        if base_thread == thread {
            self.used += now.saturating_sub(base_cpu);
        }
        self.base = Some((thread, now));
    }

    /// Moves the base to now without charging: the time since went to
    /// someone else (a wait, a yield).
    fn rebase(&mut self) {
        if self.base.is_some() {
            self.base = Some(thread_cpu());
        }
    }

    fn total(&self) -> Duration {
        self.before_first_check.unwrap_or_default() + self.used
    }
}

/// Tracks how long the current hook has run on the CPU.
#[derive(Debug)]
pub(crate) struct HookClock {
    started: Instant,
    /// Wall time spent waiting on the ports and yielded, before the first
    /// check.
    waited: Duration,
    cpu: Arc<Mutex<CpuMeter>>,
    /// What the guest has slept (`clock.sleep-ms`) in this hook.
    pub slept: Duration,
    /// Whether the hook was interrupted at its deadline.
    pub expired: bool,
}

impl HookClock {
    pub(crate) fn new() -> Self {
        HookClock {
            started: Instant::now(),
            waited: Duration::ZERO,
            cpu: Arc::default(),
            slept: Duration::ZERO,
            expired: false,
        }
    }

    /// Starts the clock for a hook call.
    pub(crate) fn start(&mut self) {
        self.started = Instant::now();
        self.waited = Duration::ZERO;
        self.slept = Duration::ZERO;
        self.expired = false;
        *self.meter() = CpuMeter::default();
    }

    fn meter(&self) -> std::sync::MutexGuard<'_, CpuMeter> {
        self.cpu.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Awaits `work` (a call on a port) off the hook's deadline.
    pub(crate) async fn off_deadline<T>(&mut self, work: impl Future<Output = T>) -> T {
        self.meter().charge();
        let paused = Instant::now();
        let out = work.await;
        self.waited += paused.elapsed();
        self.meter().rebase();
        out
    }

    /// At a deadline check (an epoch tick): whether the hook has used its
    /// `deadline`. Marks the clock expired if so.
    pub(crate) fn check(&mut self, deadline: Duration) -> bool {
        let wall = self.started.elapsed().saturating_sub(self.waited);
        let used = {
            let mut meter = self.meter();
            if meter.before_first_check.is_none() {
                meter.before_first_check = Some(wall.min(FIRST_CHECK_CAP));
                meter.base = Some(thread_cpu());
            } else {
                meter.charge();
            }
            meter.total()
        };
        self.expired = used >= deadline;
        self.expired
    }

    /// A future that yields to the executor once, then re-bases the CPU
    /// clock on whichever thread resumes the hook.
    pub(crate) fn yield_now(&self) -> impl Future<Output = ()> + Send + 'static {
        let cpu = self.cpu.clone();
        async move {
            tokio::task::yield_now().await;
            cpu.lock().unwrap_or_else(PoisonError::into_inner).rebase();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Computes until this thread has used `cpu` of CPU time (however
    /// long that takes on a busy machine).
    fn spin(cpu: Duration) {
        let start = thread_cpu().1;
        while thread_cpu().1 - start < cpu {
            std::hint::spin_loop();
        }
    }

    #[test]
    fn computing_counts_and_sleeping_does_not() {
        let mut clock = HookClock::new();
        clock.start();
        assert!(!clock.check(Duration::from_millis(20)), "the first check");
        std::thread::sleep(Duration::from_millis(40));
        assert!(
            !clock.check(Duration::from_millis(20)),
            "a descheduled thread uses no CPU"
        );
        spin(Duration::from_millis(30));
        assert!(clock.check(Duration::from_millis(20)), "30 ms of computing");
        assert!(clock.expired);
    }

    #[test]
    fn before_the_first_check_at_most_a_tick_is_charged() {
        let mut clock = HookClock::new();
        clock.start();
        std::thread::sleep(Duration::from_millis(30));
        assert!(!clock.check(Duration::from_millis(10)));
        clock.start();
        assert!(
            clock.check(Duration::ZERO),
            "a zero deadline is always used"
        );
    }

    #[tokio::test]
    async fn waits_on_ports_are_off_the_deadline() {
        let mut clock = HookClock::new();
        clock.start();
        clock.check(Duration::from_millis(20));
        clock
            .off_deadline(async {
                spin(Duration::from_millis(30)); // the port's work, not the guest's
            })
            .await;
        assert!(!clock.check(Duration::from_millis(20)));
        clock.yield_now().await;
        assert!(!clock.check(Duration::from_millis(20)));
    }
}
