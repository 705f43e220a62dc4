//! `log`, `metrics`, `clock` and `random` (0.2): log, clock and random
//! behave as in 0.1 and delegate to it; metrics gain labels and gauges.

use crate::bindings::v1::ravelin::plugin as v1;
use crate::bindings::v2::ravelin::plugin::{clock, log, metrics, random};
use crate::ctx::StoreCtx;

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
}

impl random::Host for StoreCtx {
    fn fill_bytes(&mut self, len: u32) -> Res<Vec<u8>> {
        v1::random::Host::fill_bytes(self, len)
    }
    fn next_u64(&mut self) -> Res<u64> {
        v1::random::Host::next_u64(self)
    }
}
