//! How a simulator's couriers take orders, when a test or a simulation sets it: each order is
//! accepted after a delay drawn between `minMs` and `maxMs`, or never (with probability
//! `neverRate`). The draw comes from the order's own reference and `seed`, not from a clock or
//! a shared random stream, so the same order meets the same courier on every run, whatever
//! else runs beside it. Two networks given the same delay for an order accept it in the same
//! instant. A late acceptance racing a cancellation is drawn too (`lateRate`): the courier of
//! such an order accepts in the instant the merchant's cancellation arrives, just before it is
//! processed, so a penalty preview that said "free" a moment before is out of date.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Acceptance {
    pub min_ms: u64,
    pub max_ms: u64,
    /// 0 to 1: the share of orders nobody ever accepts.
    #[serde(default)]
    pub never_rate: f64,
    /// 0 to 1: the share of orders whose courier, if the order is still waiting, accepts in
    /// the instant the merchant's cancellation arrives.
    #[serde(default)]
    pub late_rate: f64,
    #[serde(default)]
    pub seed: u64,
}

/// FNV-1a over the seed and the reference: a stable 64-bit draw per order.
fn draw(seed: u64, key: &str, salt: u8) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in seed
        .to_le_bytes()
        .iter()
        .chain([salt].iter())
        .chain(key.as_bytes())
    {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    // Mix the high bits down (FNV's low bits are weak for short keys).
    h ^= h >> 29;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^ (h >> 32)
}

/// A draw as a number in [0, 1).
fn unit(d: u64) -> f64 {
    (d >> 11) as f64 / (1u64 << 53) as f64
}

impl Acceptance {
    /// Refuses settings that cannot be drawn from.
    pub fn check(&self) -> Result<(), String> {
        if self.min_ms > self.max_ms {
            return Err("minMs is above maxMs".into());
        }
        if !(0.0..=1.0).contains(&self.never_rate) {
            return Err("neverRate is between 0 and 1".into());
        }
        if !(0.0..=1.0).contains(&self.late_rate) {
            return Err("lateRate is between 0 and 1".into());
        }
        Ok(())
    }

    /// Whether the order `key`'s courier accepts as the merchant's cancellation arrives.
    pub fn accepts_late(&self, key: &str) -> bool {
        unit(draw(self.seed, key, 3)) < self.late_rate
    }

    /// When the order `key` published at `from` is accepted; None: never.
    pub fn accepted_at(&self, key: &str, from: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if unit(draw(self.seed, key, 1)) < self.never_rate {
            return None;
        }
        let span = self.max_ms.saturating_sub(self.min_ms).saturating_add(1);
        let ms = self.min_ms + draw(self.seed, key, 2) % span;
        from.checked_add_signed(TimeDelta::milliseconds(i64::try_from(ms).ok()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_stable_and_spread() {
        let a = Acceptance {
            min_ms: 1000,
            max_ms: 5000,
            never_rate: 0.25,
            late_rate: 0.5,
            seed: 7,
        };
        let t0 = DateTime::<Utc>::UNIX_EPOCH;
        let draws: Vec<Option<DateTime<Utc>>> = (0..2000)
            .map(|i| a.accepted_at(&format!("OH-{i}"), t0))
            .collect();
        let again: Vec<_> = (0..2000)
            .map(|i| a.accepted_at(&format!("OH-{i}"), t0))
            .collect();
        assert_eq!(draws, again, "the same order, the same courier");
        let never = draws.iter().filter(|d| d.is_none()).count();
        assert!(
            (400..600).contains(&never),
            "about a quarter never: {never}"
        );
        let ms: Vec<i64> = draws
            .iter()
            .flatten()
            .map(|t| (*t - t0).num_milliseconds())
            .collect();
        assert!(ms.iter().all(|m| (1000..=5000).contains(m)));
        let low = ms.iter().filter(|m| **m < 3000).count();
        assert!(
            low * 3 > ms.len() && low * 3 < ms.len() * 2,
            "spread: {low} of {}",
            ms.len()
        );
        let late = (0..2000)
            .filter(|i| a.accepts_late(&format!("OH-{i}")))
            .count();
        assert!((900..1100).contains(&late), "about half late: {late}");
        let other = Acceptance {
            seed: 8,
            ..a.clone()
        };
        assert_ne!(
            draws,
            (0..2000)
                .map(|i| other.accepted_at(&format!("OH-{i}"), t0))
                .collect::<Vec<_>>()
        );
        assert!(
            Acceptance {
                min_ms: 2,
                max_ms: 1,
                never_rate: 0.0,
                late_rate: 0.0,
                seed: 0
            }
            .check()
            .is_err()
        );
        assert!(
            Acceptance {
                min_ms: 1,
                max_ms: 1,
                never_rate: 1.5,
                late_rate: 0.0,
                seed: 0
            }
            .check()
            .is_err()
        );
    }
}
