//! Transfer progress on standard error for the `plugin` commands: a line
//! redrawn in place on a terminal, one line at the end otherwise.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicU64, Ordering};

/// Progress of one transfer.
pub struct Progress {
    label: String,
    terminal: bool,
    /// The last whole percent drawn.
    drawn: AtomicU64,
}

impl Progress {
    pub fn new(label: impl Into<String>) -> Self {
        Progress {
            label: label.into(),
            terminal: std::io::stderr().is_terminal(),
            drawn: AtomicU64::new(u64::MAX),
        }
    }

    /// `done` of `total` bytes transferred.
    pub fn advance(&self, done: u64, total: u64) {
        let percent = (done * 100).checked_div(total).unwrap_or(100);
        if !self.terminal || self.drawn.swap(percent, Ordering::Relaxed) == percent {
            return;
        }
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{}: {done}/{total} bytes ({percent}%)", self.label);
        let _ = err.flush();
    }

    /// The closing line.
    pub fn finish(&self, total: u64) {
        let clear = if self.terminal { "\r\x1b[K" } else { "" };
        eprintln!("{clear}{}: {total} bytes, done", self.label);
    }
}
