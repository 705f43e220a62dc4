//! One exchange (instance checkout or instantiation + on-request +
//! on-response + check-in) with the no-op and header-rewrite plugins, in
//! both isolation modes. Run:
//! `cargo bench -p ravelin-runtime --bench exchange -- --warm-up-time 1 --measurement-time 3`

use criterion::{Criterion, criterion_group, criterion_main};
use ravelin_runtime::{
    Chain, Isolation, NoOutbound, PluginSpec, RequestInfo, Runtime, RuntimeConfig,
};
use ravelin_test_guests::{HEADER_REWRITE, NOOP};
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

fn setup(
    rt: &tokio::runtime::Runtime,
    path: &str,
    isolation: Isolation,
    config: RuntimeConfig,
) -> (Runtime, Chain) {
    rt.block_on(async {
        let runtime = Runtime::new(config, Arc::new(NoOutbound), None).expect("runtime");
        let mut spec = PluginSpec::new("bench", path);
        spec.isolation = isolation;
        spec.recycle_after = u32::MAX;
        let set = runtime.load(spec).await.expect("load");
        let chain = set.chain(&["bench"]).expect("chain");
        (runtime, chain)
    })
}

/// (name, guest, isolation, runtime settings) of each measured case.
fn cases() -> Vec<(String, &'static str, Isolation, RuntimeConfig)> {
    let tuned = RuntimeConfig {
        max_instances: 64,
        ..RuntimeConfig::default()
    };
    let mut cases = Vec::new();
    for (plugin, path) in [("noop", NOOP), ("header-rewrite", HEADER_REWRITE)] {
        for (mode, isolation) in [
            ("pooled", Isolation::Pooled),
            ("exchange", Isolation::Exchange),
        ] {
            cases.push((format!("{plugin}/{mode}"), path, isolation, tuned.clone()));
        }
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
        cases.push((name.to_string(), NOOP, Isolation::Exchange, config));
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
    for (name, path, isolation, config) in cases() {
        let (_runtime, chain) = setup(&rt, path, isolation, config);
        group.bench_function(name, |b| {
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
