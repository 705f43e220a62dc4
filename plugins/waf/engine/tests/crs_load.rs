//! The whole OWASP CRS of Debian's `modsecurity-crs` package (3.3.4,
//! installed by `scripts/setup`) loads at paranoia levels 1 and 2: how
//! many rules load and which are skipped, and why.

mod common;

use seclang::crs::Settings;

#[test]
fn debian_crs_loads_at_paranoia_1_and_2() {
    for paranoia_level in [1, 2] {
        let settings = Settings {
            paranoia_level,
            ..Settings::default()
        };
        let started = std::time::Instant::now();
        let rules = common::crs(&settings);
        let r = &rules.report;
        eprintln!(
            "PL{paranoia_level}: {} rules loaded, {} skipped, in {:?}",
            r.rules,
            r.skipped.len(),
            started.elapsed()
        );
        for s in &r.skipped {
            eprintln!("  skipped {:?} at {}: {}", s.id, s.at, s.reason);
        }
        assert_eq!(r.signature.as_deref(), Some("OWASP_CRS/3.3.4"));
        assert!(r.rules >= 633, "only {} rules loaded", r.rules);
        assert!(r.skipped.len() <= 3, "{} rules skipped", r.skipped.len());
    }
}
