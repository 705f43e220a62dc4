//! One exchange (instance checkout or instantiation + on-request +
//! on-response + check-in) with the no-op and header-rewrite plugins, in
//! both isolation modes. Run:
//! `cargo bench -p ravelin-runtime --bench exchange -- --warm-up-time 1 --measurement-time 3`

use criterion::{Criterion, criterion_group, criterion_main};
use ravelin_runtime::{
    Chain, InitMode, Isolation, NoOutbound, PluginSpec, RequestInfo, Runtime, RuntimeConfig,
};
use ravelin_test_guests::{HEADER_REWRITE, NOOP, V2_PROBE};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A request head with ten headers, as the tests use.
fn request() -> http::request::Parts {
    let mut b = http::Request::builder()
        .method("GET")
        .uri("/api/items?page=2")
        .header("host", "example.com");
    for (n, v) in [
        ("user-agent", "bench/1.0"),
        ("accept", "*/*"),
        ("accept-encoding", "gzip"),
        ("accept-language", "en"),
        ("cookie", "session=abc"),
        ("x-request-id", "r1"),
        ("x-forwarded-for", "192.0.2.1"),
        ("cache-control", "no-cache"),
        ("connection", "keep-alive"),
    ] {
        b = b.header(n, v);
    }
    b.body(())
        .map(|r| r.into_parts().0)
        .unwrap_or_else(|_| http::Request::new(()).into_parts().0)
}

fn response() -> http::response::Parts {
    let b = http::Response::builder()
        .status(200)
        .header("server", "origin")
        .header("content-type", "text/plain");
    b.body(())
        .map(|r| r.into_parts().0)
        .unwrap_or_else(|_| http::Response::new(()).into_parts().0)
}

async fn one(chain: &Chain) {
    let mut exchange = chain.exchange(RequestInfo::default());
    let mut req = request();
    let _ = exchange.on_request(&mut req).await;
    let mut resp = response();
    let _ = exchange.on_response(&mut resp).await;
}

/// One measured case: a plugin, how its instances are made, and the
/// runtime's settings.
struct Case {
    name: String,
    path: &'static str,
    config: serde_json::Value,
    isolation: Isolation,
    init: InitMode,
    runtime: RuntimeConfig,
}

fn setup(rt: &tokio::runtime::Runtime, case: &Case) -> (Runtime, Chain) {
    rt.block_on(async {
        let runtime =
            Runtime::new(case.runtime.clone(), Arc::new(NoOutbound), None).expect("runtime");
        let mut spec = PluginSpec::new("bench", case.path);
        spec.config = case.config.clone();
        spec.isolation = case.isolation;
        spec.init = case.init;
        spec.recycle_after = u32::MAX;
        let set = runtime.load(spec).await.expect("load");
        let chain = set.chain(&["bench"]).expect("chain");
        (runtime, chain)
    })
}

fn cases() -> Vec<Case> {
    let tuned = RuntimeConfig {
        max_instances: 64,
        ..RuntimeConfig::default()
    };
    let case = |name: String, path, isolation, init, runtime: &RuntimeConfig| Case {
        name,
        path,
        config: serde_json::Value::Null,
        isolation,
        init,
        runtime: runtime.clone(),
    };
    let mut cases = Vec::new();
    for (plugin, path) in [("noop", NOOP), ("header-rewrite", HEADER_REWRITE)] {
        let pooled = format!("{plugin}/pooled");
        cases.push(case(
            pooled,
            path,
            Isolation::Pooled,
            InitMode::Snapshot,
            &tuned,
        ));
        for (init, mode) in [
            ("snapshot", InitMode::Snapshot),
            ("instance", InitMode::Instance),
        ] {
            let name = format!("{plugin}/exchange, init per {init}");
            cases.push(case(name, path, Isolation::Exchange, mode, &tuned));
        }
    }
    // A plugin whose `configure` does real work (a 20 000-entry table, as a
    // rule compiler would), in a fresh instance per exchange.
    for (init, mode) in [
        ("snapshot", InitMode::Snapshot),
        ("instance", InitMode::Instance),
    ] {
        let name = format!("heavy-init/exchange, init per {init}");
        let mut heavy = case(name, V2_PROBE, Isolation::Exchange, mode, &tuned);
        heavy.config = serde_json::json!({ "init_work": 20_000 });
        cases.push(heavy);
    }
    let untuned = [
        (
            "noop/exchange, on-demand allocator",
            RuntimeConfig {
                pooling: false,
                ..tuned.clone()
            },
        ),
        (
            "noop/exchange, pooling, nothing kept resident",
            RuntimeConfig {
                keep_resident_bytes: 0,
                ..tuned.clone()
            },
        ),
    ];
    for (name, config) in untuned {
        let name = name.to_string();
        cases.push(case(
            name,
            NOOP,
            Isolation::Exchange,
            InitMode::Snapshot,
            &config,
        ));
    }
    cases
}

fn exchange(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio");
    let mut group = c.benchmark_group("exchange");
    group.bench_function("baseline (build request + response heads)", |b| {
        b.iter(|| {
            (
                std::hint::black_box(request()),
                std::hint::black_box(response()),
            )
        })
    });
    for case in cases() {
        let (_runtime, chain) = setup(&rt, &case);
        group.bench_function(&case.name, |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iters {
                        one(&chain).await;
                    }
                    start.elapsed()
                })
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = exchange
}
criterion_main!(benches);
