//! Watches whether Redis answers, off the request path: a PING every
//! second through the backend's connection, which also remakes a lost
//! connection while no plugin calls kv. It logs a WARN when Redis does not
//! answer (at most one a minute, however many calls fail) and an INFO when
//! it answers again.

use std::sync::Arc;
use std::time::{Duration, Instant};

use redis::aio::ConnectionManager;

/// How often Redis is asked, and how long an answer may take.
const EVERY: Duration = Duration::from_secs(1);
/// The least time between two warnings.
const WARN_EVERY: Duration = Duration::from_secs(60);

/// The running probe; it stops when dropped.
pub struct Probe(tokio::task::AbortHandle);

impl Drop for Probe {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts probing Redis at `addr` through `connection`.
pub fn watch(mut connection: ConnectionManager, addr: Arc<str>) -> Probe {
    let task = tokio::spawn(async move {
        let mut health = Health::default();
        loop {
            let command = redis::cmd("PING");
            let ping = command.query_async::<()>(&mut connection);
            let answer = match tokio::time::timeout(EVERY, ping).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err(format!("no answer within {} ms", EVERY.as_millis())),
            };
            match health.observe(answer, Instant::now()) {
                Some(Note::Connected) => tracing::info!("kv: connected to redis at {addr}"),
                Some(Note::Back) => tracing::info!("kv: redis at {addr} answers again"),
                Some(Note::Unreachable(why)) => tracing::warn!(
                    "kv: redis at {addr} is unreachable ({why}): plugins' kv calls fail as unavailable until it answers"
                ),
                None => {}
            }
            tokio::time::sleep(EVERY).await;
        }
    });
    Probe(task.abort_handle())
}

/// What is worth a log line.
#[derive(Debug, PartialEq, Eq)]
enum Note {
    /// The first answer.
    Connected,
    /// An answer after a reported outage.
    Back,
    /// No answer, and no warning for a while.
    Unreachable(String),
}

/// What the probe has seen so far.
#[derive(Default)]
struct Health {
    /// Whether the last PING was answered; `None` before the first answer.
    answering: Option<bool>,
    /// Whether the current outage was reported.
    reported: bool,
    last_warning: Option<Instant>,
}

impl Health {
    fn observe(&mut self, answer: Result<(), String>, now: Instant) -> Option<Note> {
        match answer {
            Ok(()) => {
                let note = match (self.answering, self.reported) {
                    (None, _) => Some(Note::Connected),
                    (Some(false), true) => Some(Note::Back),
                    _ => None,
                };
                self.answering = Some(true);
                self.reported = false;
                note
            }
            Err(why) => {
                self.answering = Some(false);
                let due = self
                    .last_warning
                    .is_none_or(|at| now.duration_since(at) >= WARN_EVERY);
                if !due {
                    return None;
                }
                self.last_warning = Some(now);
                self.reported = true;
                Some(Note::Unreachable(why))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn down() -> Result<(), String> {
        Err("refused".into())
    }

    #[test]
    fn an_outage_warns_once_a_minute_and_its_end_is_told() {
        let start = Instant::now();
        let mut health = Health::default();
        assert_eq!(health.observe(Ok(()), start), Some(Note::Connected));
        assert_eq!(health.observe(Ok(()), start), None);
        let refused = Some(Note::Unreachable("refused".into()));
        assert_eq!(health.observe(down(), start), refused);
        for second in 1..60 {
            let now = start + Duration::from_secs(second);
            assert_eq!(health.observe(down(), now), None);
        }
        assert_eq!(health.observe(down(), start + WARN_EVERY), refused);
        assert_eq!(health.observe(Ok(()), start + WARN_EVERY), Some(Note::Back));
    }

    #[test]
    fn a_flapping_redis_warns_at_most_once_a_minute() {
        let start = Instant::now();
        let mut health = Health::default();
        assert!(health.observe(down(), start).is_some());
        assert_eq!(health.observe(Ok(()), start), Some(Note::Back));
        let soon = start + Duration::from_secs(1);
        assert_eq!(health.observe(down(), soon), None);
        assert_eq!(
            health.observe(Ok(()), soon),
            None,
            "no warning, so no all-clear"
        );
    }
}
