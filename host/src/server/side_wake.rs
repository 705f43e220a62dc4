//! Polling a task's side futures only after one of them woke it. A
//! connection's serving loop waits on hyper's connection and, beside it,
//! on a check timer and the proxy's shutdown signal. Polled on every
//! wake-up of the connection (three per proxied request), those two cost
//! more than the rest of the loop. With a waker of their own they are
//! polled only when one of them has woken the task.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Wake, Waker};

use futures_util::task::AtomicWaker;

/// The side futures' waker: it marks them woken, then wakes the task.
pub struct SideWake {
    shared: Arc<Shared>,
    waker: Waker,
}

struct Shared {
    woken: AtomicBool,
    task: AtomicWaker,
}

impl Wake for Shared {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.task.wake();
    }
}

impl SideWake {
    /// Side futures that have never been polled count as woken.
    pub fn new() -> Self {
        let shared = Arc::new(Shared {
            woken: AtomicBool::new(true),
            task: AtomicWaker::new(),
        });
        let waker = Waker::from(shared.clone());
        Self { shared, waker }
    }

    /// Records `cx`'s waker as the task's, then returns the waker to poll
    /// the side futures with if one of them has woken the task since they
    /// were last polled (`None`: leave them be, their wakers are in place).
    pub fn woken(&self, cx: &Context<'_>) -> Option<&Waker> {
        self.shared.task.register(cx.waker());
        self.shared
            .woken
            .swap(false, Ordering::AcqRel)
            .then_some(&self.waker)
    }

    /// Marks the side futures for polling at the next turn without waking
    /// the task: one that has just fired must be polled again to wait for
    /// its next event.
    pub fn again(&self) {
        self.shared.woken.store(true, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn side_futures_are_polled_first_then_only_after_they_wake_the_task() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let task = Waker::from(count.clone());
        let cx = Context::from_waker(&task);
        let side = SideWake::new();
        let waker = side.woken(&cx).expect("never polled: poll them").clone();
        assert!(side.woken(&cx).is_none(), "nothing woke them");
        waker.wake_by_ref();
        assert_eq!(count.0.load(Ordering::SeqCst), 1, "the task was woken");
        assert!(side.woken(&cx).is_some(), "they woke the task");
        assert!(side.woken(&cx).is_none());
        side.again();
        assert!(side.woken(&cx).is_some(), "marked for another turn");
        assert_eq!(count.0.load(Ordering::SeqCst), 1, "without a wake-up");
    }
}
