//! Stable-toolchain replay of the fuzz checks: every file in
//! `corpus/<target>/` (seeds plus whatever libFuzzer saved there), and a
//! bounded number of deterministic mutations of each, through the same
//! functions the libFuzzer targets call. No nightly, no sanitizers: this is
//! a smoke test that keeps the targets honest, not a substitute for fuzzing.

use std::path::Path;

type Check = fn(&[u8]);

fn replay(target: &str, check: Check) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    let mut inputs: Vec<Vec<u8>> = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("corpus entry").path();
        inputs.push(std::fs::read(&path).expect("corpus file"));
    }
    assert!(!inputs.is_empty(), "{} has no seeds", dir.display());
    let mutations: usize = std::env::var("RAVELIN_FUZZ_MUTATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    const BYTES: &[u8] = b"\r\n\t :/%.\\@,;=\"[]*?#\x00\x0b\x7f\xffaZ09-_~";
    for seed in &inputs {
        check(seed);
    }
    for i in 0..mutations {
        let mut input = inputs[i % inputs.len()].clone();
        for _ in 0..1 + next() % 8 {
            let at = if input.is_empty() {
                0
            } else {
                (next() as usize) % (input.len() + 1)
            };
            let byte = BYTES[(next() as usize) % BYTES.len()];
            match next() % 4 {
                0 if at < input.len() => input[at] = byte,
                1 if at < input.len() => {
                    input.remove(at);
                }
                2 => {
                    let other = &inputs[(next() as usize) % inputs.len()];
                    let from = (next() as usize) % (other.len() + 1);
                    let to = (from + (next() as usize) % 16).min(other.len());
                    input.splice(at..at, other[from..to].iter().copied());
                }
                _ => input.insert(at, byte),
            }
        }
        check(&input);
    }
}

#[test]
fn config_parse_corpus() {
    replay("config_parse", ravelin_fuzz::config_parse);
}

#[test]
fn hygiene_headers_corpus() {
    replay("hygiene_headers", ravelin_fuzz::hygiene_headers);
}

#[test]
fn plugin_host_api_corpus() {
    replay("plugin_host_api", ravelin_fuzz::plugin_host_api);
}

#[test]
fn path_normalize_corpus() {
    replay("path_normalize", ravelin_fuzz::path_normalize);
}

#[test]
fn seclang_rules_corpus() {
    replay("seclang_rules", ravelin_fuzz::seclang_rules);
}

#[test]
fn seclang_request_corpus() {
    replay("seclang_request", ravelin_fuzz::seclang_request);
}
