//! Load balancers: which endpoint of a cluster takes the next request.
//!
//! - `round_robin`: each available endpoint in turn;
//! - `weighted`: smooth weighted round robin (weights 3:1 give A A B A, not
//!   A A A B), precomputed into a schedule so picking takes no lock;
//! - `least_connections`: the fewest requests in flight per unit of weight;
//! - `ip_hash`: weighted rendezvous hashing of the client IP, so removing an
//!   endpoint moves only the clients that were on it;
//! - `random_two_choices`: two random endpoints, the less loaded wins.
//!
//! Every balancer skips unavailable endpoints and `exclude`d ones (endpoints
//! a retry already tried).

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rand::Rng;

use super::endpoint::EndpointState;
use crate::config::BalancerKind;

pub struct Balancer {
    kind: BalancerKind,
    next: AtomicUsize,
    /// For `weighted`: endpoint indexes in smooth weighted order.
    schedule: Vec<usize>,
}

impl Balancer {
    pub fn new(kind: BalancerKind, weights: &[u32]) -> Self {
        let schedule = if kind == BalancerKind::Weighted {
            smooth_schedule(weights)
        } else {
            Vec::new()
        };
        Self {
            kind,
            next: AtomicUsize::new(0),
            schedule,
        }
    }

    /// The endpoint for the next request, or `None` when none is available.
    pub fn pick(
        &self,
        endpoints: &[Arc<EndpointState>],
        client: IpAddr,
        exclude: &[usize],
    ) -> Option<usize> {
        let usable = |i: usize| endpoints[i].is_available() && !exclude.contains(&i);
        let picked = match self.kind {
            BalancerKind::RoundRobin => self.rotate(endpoints.len(), |i| i, usable),
            BalancerKind::Weighted => {
                self.rotate(self.schedule.len(), |i| self.schedule[i], usable)
            }
            BalancerKind::LeastConnections => {
                least_loaded(endpoints, (0..endpoints.len()).filter(|&i| usable(i)))
            }
            BalancerKind::IpHash => rendezvous(endpoints, client, usable),
            BalancerKind::RandomTwoChoices => two_choices(endpoints, usable),
        };
        // When health checks have ejected everything, try anything not yet
        // tried rather than refuse: a wrong "all down" verdict must not
        // become an outage (Envoy's panic threshold does the same).
        picked.or_else(|| {
            let untried = (0..endpoints.len()).filter(|i| !exclude.contains(i));
            least_loaded(endpoints, untried)
        })
    }

    /// The first usable entry of a cyclic sequence, starting at the cursor.
    fn rotate(
        &self,
        len: usize,
        entry: impl Fn(usize) -> usize,
        usable: impl Fn(usize) -> bool,
    ) -> Option<usize> {
        if len == 0 {
            return None;
        }
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..len)
            .map(|step| entry((start + step) % len))
            .find(|&i| usable(i))
    }
}

fn least_loaded(
    endpoints: &[Arc<EndpointState>],
    candidates: impl Iterator<Item = usize>,
) -> Option<usize> {
    let load = |i: usize| {
        endpoints[i].in_flight() as u64 * 1_000_000 / u64::from(endpoints[i].weight.max(1))
    };
    let loads: Vec<(usize, u64)> = candidates.map(|i| (i, load(i))).collect();
    let min = loads.iter().map(|&(_, l)| l).min()?;
    let tied: Vec<usize> = loads
        .into_iter()
        .filter(|&(_, l)| l == min)
        .map(|(i, _)| i)
        .collect();
    Some(tied[rand::rng().random_range(0..tied.len())])
}

fn two_choices(endpoints: &[Arc<EndpointState>], usable: impl Fn(usize) -> bool) -> Option<usize> {
    let candidates: Vec<usize> = (0..endpoints.len()).filter(|&i| usable(i)).collect();
    let mut rng = rand::rng();
    match candidates.len() {
        0 => None,
        1 => Some(candidates[0]),
        n => {
            let a = candidates[rng.random_range(0..n)];
            let mut b = candidates[rng.random_range(0..n - 1)];
            if b == a {
                b = candidates[n - 1];
            }
            least_loaded(endpoints, [a, b].into_iter())
        }
    }
}

/// Weighted rendezvous (highest random weight) hashing: each endpoint's score
/// is `-weight / ln(u)` with `u` a uniform hash of (client, endpoint).
fn rendezvous(
    endpoints: &[Arc<EndpointState>],
    client: IpAddr,
    usable: impl Fn(usize) -> bool,
) -> Option<usize> {
    let client_hash = match client {
        IpAddr::V4(v4) => fnv1a(&v4.octets()),
        IpAddr::V6(v6) => fnv1a(&v6.octets()),
    };
    let score = |i: usize| {
        let h = mix(client_hash ^ endpoints[i].address_hash);
        let unit = ((h >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
        -f64::from(endpoints[i].weight) / unit.ln()
    };
    (0..endpoints.len())
        .filter(|&i| usable(i))
        .max_by(|&a, &b| score(a).total_cmp(&score(b)))
}

pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// splitmix64's finaliser: spreads hash bits so nearby inputs diverge.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// nginx's smooth weighted round robin, run once over a whole cycle.
fn smooth_schedule(weights: &[u32]) -> Vec<usize> {
    let total: i64 = weights.iter().map(|&w| i64::from(w)).sum();
    let mut current = vec![0i64; weights.len()];
    let mut schedule = Vec::with_capacity(total as usize);
    for _ in 0..total {
        for (c, &w) in current.iter_mut().zip(weights) {
            *c += i64::from(w);
        }
        let Some(best) = (0..weights.len()).max_by_key(|&i| (current[i], std::cmp::Reverse(i)))
        else {
            break;
        };
        current[best] -= total;
        schedule.push(best);
    }
    schedule
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoints(weights: &[u32]) -> Vec<Arc<EndpointState>> {
        weights
            .iter()
            .enumerate()
            .map(|(i, &w)| Arc::new(EndpointState::new(format!("10.0.0.{i}:80"), w).unwrap()))
            .collect()
    }

    fn counts(kind: BalancerKind, weights: &[u32], n: usize) -> Vec<usize> {
        let eps = endpoints(weights);
        let b = Balancer::new(kind, weights);
        let mut counts = vec![0; weights.len()];
        for i in 0..n {
            let ip = IpAddr::from([192, 0, (i / 256) as u8, (i % 256) as u8]);
            counts[b.pick(&eps, ip, &[]).unwrap()] += 1;
        }
        counts
    }

    #[test]
    fn round_robin_is_even() {
        assert_eq!(
            counts(BalancerKind::RoundRobin, &[1, 1, 1], 300),
            vec![100, 100, 100]
        );
    }

    #[test]
    fn weighted_follows_weights_smoothly() {
        assert_eq!(counts(BalancerKind::Weighted, &[3, 1], 400), vec![300, 100]);
        assert_eq!(smooth_schedule(&[3, 1]), vec![0, 0, 1, 0]);
        assert_eq!(smooth_schedule(&[5, 1, 1]), vec![0, 0, 1, 0, 2, 0, 0]);
    }

    #[test]
    fn unavailable_and_excluded_endpoints_are_skipped() {
        let eps = endpoints(&[1, 1, 1]);
        eps[1].eject_for(std::time::Duration::from_secs(60));
        let b = Balancer::new(BalancerKind::RoundRobin, &[1, 1, 1]);
        for _ in 0..10 {
            let picked = b.pick(&eps, IpAddr::from([127, 0, 0, 1]), &[2]).unwrap();
            assert_eq!(picked, 0);
        }
    }

    #[test]
    fn all_down_falls_back_to_any_untried() {
        let eps = endpoints(&[1, 1]);
        for e in &eps {
            e.eject_for(std::time::Duration::from_secs(60));
        }
        let b = Balancer::new(BalancerKind::RoundRobin, &[1, 1]);
        assert_eq!(b.pick(&eps, IpAddr::from([127, 0, 0, 1]), &[0]), Some(1));
        assert_eq!(b.pick(&eps, IpAddr::from([127, 0, 0, 1]), &[0, 1]), None);
    }

    #[test]
    fn least_connections_prefers_the_idle_endpoint() {
        let eps = endpoints(&[1, 1, 1]);
        let _busy = [
            eps[0].start_request(),
            eps[0].start_request(),
            eps[2].start_request(),
        ];
        let b = Balancer::new(BalancerKind::LeastConnections, &[1, 1, 1]);
        assert_eq!(b.pick(&eps, IpAddr::from([127, 0, 0, 1]), &[]), Some(1));
    }

    #[test]
    fn two_choices_never_picks_the_busiest_of_two() {
        let eps = endpoints(&[1, 1]);
        let _busy: Vec<_> = (0..5).map(|_| eps[0].start_request()).collect();
        let b = Balancer::new(BalancerKind::RandomTwoChoices, &[1, 1]);
        for _ in 0..50 {
            assert_eq!(b.pick(&eps, IpAddr::from([127, 0, 0, 1]), &[]), Some(1));
        }
    }

    #[test]
    fn ip_hash_is_sticky_spread_and_moves_only_the_removed_share() {
        let eps = endpoints(&[1, 1, 1, 1]);
        let b = Balancer::new(BalancerKind::IpHash, &[1, 1, 1, 1]);
        let ips: Vec<IpAddr> = (0..4000u32)
            .map(|i| IpAddr::from((0x0a00_0000 + i * 7919).to_be_bytes()))
            .collect();
        let before: Vec<usize> = ips
            .iter()
            .map(|&ip| b.pick(&eps, ip, &[]).unwrap())
            .collect();
        let again: Vec<usize> = ips
            .iter()
            .map(|&ip| b.pick(&eps, ip, &[]).unwrap())
            .collect();
        assert_eq!(before, again, "same client, same endpoint");
        for e in 0..4 {
            let share = before.iter().filter(|&&x| x == e).count();
            assert!(
                (800..1200).contains(&share),
                "endpoint {e} got {share} of 4000"
            );
        }
        eps[2].eject_for(std::time::Duration::from_secs(60));
        let after: Vec<usize> = ips
            .iter()
            .map(|&ip| b.pick(&eps, ip, &[]).unwrap())
            .collect();
        for (x, y) in before.iter().zip(&after) {
            if *x != 2 {
                assert_eq!(x, y, "a client not on the removed endpoint moved");
            }
        }
    }
}
