//! `log`, `metrics`, `clock` and `random` (0.2): log, clock and random
//! behave as in 0.1 and delegate to it; metrics gain labels and gauges, the
//! clock gains a bounded sleep.

use crate::bindings::v1::ravelin::plugin as v1;
use crate::bindings::v2::ravelin::plugin::{clock, log, metrics, random};
use crate::ctx::StoreCtx;
use std::time::Duration;

/// The longest one `sleep-ms` call may ask for.
const MAX_SLEEP_CALL: Duration = Duration::from_millis(1000);
/// The most one hook call may sleep in all.
const MAX_SLEEP_HOOK: Duration = Duration::from_millis(5000);

type Res<T> = wasmtime::Result<T>;

impl log::Host for StoreCtx {
    fn log(&mut self, level: log::Level, message: String) -> Res<()> {
        let level = match level {
            log::Level::Trace => v1::log::Level::Trace,
            log::Level::Debug => v1::log::Level::Debug,
            log::Level::Info => v1::log::Level::Info,
            log::Level::Warn => v1::log::Level::Warn,
            log::Level::Error => v1::log::Level::Error,
        };
        v1::log::Host::log(self, level, message)
    }
}

impl metrics::Host for StoreCtx {
    fn counter_add(&mut self, name: String, labels: Vec<(String, String)>, value: u64) -> Res<()> {
        self.env
            .metrics
            .guest_counter(&self.env.name, name, labels, value);
        Ok(())
    }
    fn gauge_set(&mut self, name: String, labels: Vec<(String, String)>, value: f64) -> Res<()> {
        self.env
            .metrics
            .guest_gauge(&self.env.name, name, labels, value);
        Ok(())
    }
    fn histogram_observe(
        &mut self,
        name: String,
        labels: Vec<(String, String)>,
        value: f64,
    ) -> Res<()> {
        self.env
            .metrics
            .guest_observe(&self.env.name, name, labels, value);
        Ok(())
    }
}

impl clock::Host for StoreCtx {
    fn now_ms(&mut self) -> Res<u64> {
        v1::clock::Host::now_ms(self)
    }

    async fn sleep_ms(&mut self, ms: u32) -> Res<()> {
        let pause = Duration::from_millis(u64::from(ms));
        if pause > MAX_SLEEP_CALL {
            wasmtime::bail!("clock.sleep-ms({ms}) asks for more than {MAX_SLEEP_CALL:?}");
        }
        let slept = self.clock.slept + pause;
        if slept > MAX_SLEEP_HOOK {
            wasmtime::bail!("the hook asked to sleep {slept:?} in all, past {MAX_SLEEP_HOOK:?}");
        }
        self.clock.slept = slept;
        self.clock.off_deadline(tokio::time::sleep(pause)).await;
        Ok(())
    }
}

impl random::Host for StoreCtx {
    fn fill_bytes(&mut self, len: u32) -> Res<Vec<u8>> {
        v1::random::Host::fill_bytes(self, len)
    }
    fn next_u64(&mut self) -> Res<u64> {
        v1::random::Host::next_u64(self)
    }
}
