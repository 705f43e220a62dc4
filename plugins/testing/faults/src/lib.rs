//! Test guest: misbehaves on purpose. Its config `{"mode": ...}` picks how;
//! with `"by-path"` the request path does (`/trap`, `/loop`, ...), and
//! `/global` answers with a module-global counter (to see instance reuse).
//! `"slow-load"` burns `load_ms` of CPU in `configure`, `"loop-at-load"`
//! never returns from it. It lists no hooks beyond `on-request`.
use ravelin_sdk::{Config, Decision, Plugin, Reply, Request};
use std::sync::atomic::{AtomicU64, Ordering};

static GLOBAL: AtomicU64 = AtomicU64::new(0);

#[derive(serde::Deserialize)]
struct Settings {
    mode: String,
    /// For `"slow-load"`: how long `configure` burns CPU, in ms.
    #[serde(default)]
    load_ms: u64,
}

struct Faults {
    mode: String,
}

fn misbehave(what: &str) -> Decision {
    match what {
        "trap" => std::process::abort(),
        "loop" => {
            let mut x: u64 = 0;
            loop {
                x = std::hint::black_box(x.wrapping_add(1));
            }
        }
        "hog" => {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                hoard.push(vec![1u8; 1 << 20]);
                std::hint::black_box(&hoard);
            }
        }
        "panic" => panic!("the faults guest panicked on purpose"),
        "big" => Reply::new(200).body(vec![b'x'; 50 << 20]).into(),
        "global" => {
            let n = GLOBAL.fetch_add(1, Ordering::Relaxed) + 1;
            Reply::text(200, n.to_string()).into()
        }
        _ => Decision::Continue,
    }
}

impl Plugin for Faults {
    fn configure(config: Config) -> Result<Self, String> {
        let settings: Settings = config.parse()?;
        match settings.mode.as_str() {
            "refuse" => Err("mode \"refuse\": this config is refused".into()),
            "trap-at-load" => panic!("trapping at load on purpose"),
            "loop-at-load" => {
                misbehave("loop");
                unreachable!("the loop never ends")
            }
            "slow-load" => {
                let until = ravelin_sdk::now_ms() + settings.load_ms;
                while ravelin_sdk::now_ms() < until {
                    std::hint::black_box(until);
                }
                Ok(Faults {
                    mode: settings.mode,
                })
            }
            _ => Ok(Faults {
                mode: settings.mode,
            }),
        }
    }

    fn on_request(&mut self, req: &Request) -> Decision {
        if self.mode == "by-path" {
            return misbehave(req.path().trim_start_matches('/'));
        }
        misbehave(&self.mode)
    }
}

ravelin_sdk::export!(Faults);
