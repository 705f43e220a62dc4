//! The labelled corpus (`plugins/waf/testdata/corpus.txt`) through the
//! engine with Debian's CRS at paranoia level 1: every category's
//! detection and the false positives, with floors a regression crosses.

mod common;

use std::collections::BTreeMap;

use seclang::crs::Settings;
use seclang::{Limits, RequestHead, Transaction};

/// Attacks that must be blocked, of all attacks; benign requests that may
/// be blocked, of all benign ones. Measured: see the README's table.
const MIN_DETECTION: f64 = 0.94;
const MAX_FALSE_POSITIVE_RATE: f64 = 0.0;

#[test]
fn corpus_at_paranoia_1() {
    let rules = common::crs(&Settings::default());
    let mut per_category: BTreeMap<(bool, String), (usize, usize)> = BTreeMap::new();
    let mut missed = Vec::new();
    for case in common::corpus() {
        let head = RequestHead {
            method: case.method.clone(),
            uri: case.target.clone(),
            protocol: "HTTP/1.1".into(),
            headers: case.headers.clone(),
            remote_addr: "192.0.2.10".into(),
            request_id: "corpus".into(),
        };
        let mut tx = Transaction::new(&rules, head, Limits::default());
        let blocked =
            tx.request_headers(&rules).is_some() || tx.request_body(&rules, &case.body).is_some();
        let entry = per_category
            .entry((case.attack, case.category.clone()))
            .or_default();
        entry.0 += 1;
        entry.1 += usize::from(blocked);
        if blocked != case.attack {
            let ids: Vec<u64> = tx.matches.iter().map(|m| m.id).collect();
            missed.push(format!(
                "{} {} {} {} (score {:?}, rules {ids:?})",
                if case.attack {
                    "MISSED"
                } else {
                    "FALSE POSITIVE"
                },
                case.category,
                case.method,
                case.target,
                tx.tx("anomaly_score")
            ));
        }
    }
    let (mut attacks, mut detected, mut benign, mut false_positives) = (0, 0, 0, 0);
    for ((attack, category), (total, blocked)) in &per_category {
        eprintln!(
            "{} {category}: {blocked}/{total} blocked",
            if *attack { "attack" } else { "benign" }
        );
        if *attack {
            attacks += total;
            detected += blocked;
        } else {
            benign += total;
            false_positives += blocked;
        }
    }
    for m in &missed {
        eprintln!("{m}");
    }
    let rate = detected as f64 / attacks as f64;
    eprintln!(
        "detection {detected}/{attacks} = {:.1}%, false positives {false_positives}",
        rate * 100.0
    );
    assert!(
        rate >= MIN_DETECTION,
        "detection {:.1}% under {:.0}%",
        rate * 100.0,
        MIN_DETECTION * 100.0
    );
    assert!(
        false_positives as f64 / benign as f64 <= MAX_FALSE_POSITIVE_RATE,
        "{false_positives}/{benign} false positives"
    );
}
