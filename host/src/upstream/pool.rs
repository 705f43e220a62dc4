//! The idle HTTP/1.1 connections of one endpoint: last in, first out (the
//! warmest connection is reused, the coldest ages out), at most
//! `pool.max_idle_per_endpoint` of them, each dropped after
//! `pool.idle_timeout`. Checkout discards connections the endpoint has
//! closed meanwhile.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A connection the pool can keep.
pub trait Reusable {
    /// Whether it can still take a request (checked when it comes back
    /// and again when it is taken).
    fn is_reusable(&mut self) -> bool;
}

pub struct IdlePool<C> {
    max_idle: usize,
    idle_timeout: Duration,
    /// Oldest first.
    idle: Mutex<Vec<Idle<C>>>,
}

struct Idle<C> {
    conn: C,
    since: Instant,
}

impl<C: Reusable> IdlePool<C> {
    pub fn new(max_idle: usize, idle_timeout: Duration) -> Self {
        Self {
            max_idle,
            idle_timeout,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// The most recently used connection that is still open, if any.
    pub fn take(&self) -> Option<C> {
        loop {
            let entry = self.lock().pop()?;
            let mut conn = entry.conn;
            if entry.since.elapsed() < self.idle_timeout && conn.is_reusable() {
                return Some(conn);
            }
        }
    }

    /// Keeps `conn` for the next request, when it can take one.
    pub fn put(&self, mut conn: C) {
        if self.max_idle == 0 || !conn.is_reusable() {
            return;
        }
        let idle = Idle {
            conn,
            since: Instant::now(),
        };
        // Connections are closed outside the lock.
        let _evicted = {
            let mut pool = self.lock();
            pool.push(idle);
            let excess = pool.len().saturating_sub(self.max_idle);
            pool.drain(..excess).collect::<Vec<_>>()
        };
    }

    /// Drops the connections idle for longer than the idle timeout.
    pub fn evict_expired(&self) {
        let _expired = {
            let mut pool = self.lock();
            let stale = pool
                .iter()
                .take_while(|idle| idle.since.elapsed() >= self.idle_timeout)
                .count();
            pool.drain(..stale).collect::<Vec<_>>()
        };
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Idle<C>>> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }
}
