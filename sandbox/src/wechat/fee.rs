//! The sandbox's freight model and the companies' cancellation penalties.
//!
//! No company publishes prices through WeChat, so the model is the sandbox's own, deterministic
//! and configurable per company ([`CompanyConfig`]): `base_fee_fen` covers the first
//! `free_distance_m` and `free_weight_g`; every started kilometre beyond costs `per_km_fen` and
//! every started kilogram beyond costs `per_kg_fen`. Insurance (`is_insured = 1`) costs 1 % of
//! `declared_value`, rounded up to the fen. No coupons are applied: `couponfee` is 0 and `fee`
//! equals `deliverfee`. What the merchant is charged is `fee + tips + insurancefee`.
//!
//! Penalties follow each company's [`CancelRule`]: free while waiting for a rider (101), then a
//! fixed amount once a rider is assigned (102), another once the rider is at the store (201), and
//! after pick-up (202, 301) either an amount or no cancellation at all (Dada). A company may
//! leave the first seconds after the assignment free before pick-up (Dada's one minute). The penalty never
//! exceeds what the order was charged.

use chrono::TimeDelta;
use serde::Serialize;

use super::{CancelRule, CompanyConfig, store::Status};

/// A point in GCJ-02 (WeChat's "火星坐标"), where distances are measured.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct GeoPoint {
    pub lng: f64,
    pub lat: f64,
}

impl GeoPoint {
    /// Converts a point sent with `coordinate_type = 1` (Baidu BD-09) to GCJ-02 with the usual
    /// approximation; exact enough for a distance model.
    pub fn from_baidu(lng: f64, lat: f64) -> GeoPoint {
        let x_pi = std::f64::consts::PI * 3000.0 / 180.0;
        let (x, y) = (lng - 0.0065, lat - 0.006);
        let z = (x * x + y * y).sqrt() - 0.00002 * (y * x_pi).sin();
        let theta = y.atan2(x) - 0.000003 * (x * x_pi).cos();
        GeoPoint {
            lng: z * theta.cos(),
            lat: z * theta.sin(),
        }
    }

    /// `fraction` of the way to `other`.
    pub fn towards(self, other: GeoPoint, fraction: f64) -> GeoPoint {
        let f = fraction.clamp(0.0, 1.0);
        GeoPoint {
            lng: self.lng + (other.lng - self.lng) * f,
            lat: self.lat + (other.lat - self.lat) * f,
        }
    }
}

/// Great-circle distance in whole metres.
pub fn distance_m(a: GeoPoint, b: GeoPoint) -> u64 {
    const EARTH_RADIUS_M: f64 = 6_371_008.8;
    let (lat1, lat2) = (a.lat.to_radians(), b.lat.to_radians());
    let dlat = lat2 - lat1;
    let dlng = (b.lng - a.lng).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlng / 2.0).sin().powi(2);
    let metres = 2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin();
    // At most half the earth's circumference, so the cast cannot overflow.
    metres.round() as u64
}

/// What prices one delivery besides the company.
#[derive(Clone, Copy, Debug)]
pub struct FeeInput {
    pub distance_m: u64,
    pub weight_g: u64,
    pub tips_fen: i64,
    /// `Some(declared value)` when insured.
    pub insured_value_fen: Option<i64>,
}

/// The price of one delivery, every part in fen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FeeQuote {
    pub distance_m: u64,
    /// Freight before coupons (`deliverfee`).
    pub deliver_fee_fen: i64,
    pub coupon_fee_fen: i64,
    /// Freight after coupons (`fee`).
    pub fee_fen: i64,
    pub tips_fen: i64,
    pub insurance_fee_fen: i64,
}

impl FeeQuote {
    /// What the merchant is charged for the order.
    pub fn charged_fen(&self) -> i64 {
        self.fee_fen
            .saturating_add(self.tips_fen)
            .saturating_add(self.insurance_fee_fen)
    }
}

/// Prices a delivery with a company's model.
pub fn quote(company: &CompanyConfig, input: FeeInput) -> FeeQuote {
    let extra_km = input
        .distance_m
        .saturating_sub(company.free_distance_m)
        .div_ceil(1_000);
    let extra_kg = input
        .weight_g
        .saturating_sub(company.free_weight_g)
        .div_ceil(1_000);
    let deliver_fee_fen = company
        .base_fee_fen
        .saturating_add(times(extra_km, company.per_km_fen))
        .saturating_add(times(extra_kg, company.per_kg_fen));
    let insurance_fee_fen = input
        .insured_value_fen
        .map_or(0, |v| v.max(0).saturating_add(99) / 100);
    FeeQuote {
        distance_m: input.distance_m,
        deliver_fee_fen,
        coupon_fee_fen: 0,
        fee_fen: deliver_fee_fen,
        tips_fen: input.tips_fen,
        insurance_fee_fen,
    }
}

fn times(units: u64, per_unit: i64) -> i64 {
    i64::try_from(units)
        .unwrap_or(i64::MAX)
        .saturating_mul(per_unit)
}

/// The penalty for a merchant cancelling in `status`, `since_assign` after the rider was
/// assigned: `Some(fen)`, or `None` when the company does not allow it. Only call it for
/// statuses a merchant may cancel in.
pub fn penalty_fen(
    rule: &CancelRule,
    status: Status,
    since_assign: Option<TimeDelta>,
    charged_fen: i64,
) -> Option<i64> {
    let in_grace = since_assign.is_some_and(|d| {
        d < TimeDelta::seconds(i64::try_from(rule.free_secs_after_assign).unwrap_or(i64::MAX))
    });
    let raw = match status {
        Status::Waiting => 0,
        Status::Assigned | Status::AtShop if in_grace => 0,
        Status::Assigned => rule.after_assign_fen,
        Status::AtShop => rule.after_arrive_fen,
        _ => rule.after_pickup_fen?,
    };
    Some(raw.clamp(0, charged_fen.max(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn company() -> CompanyConfig {
        CompanyConfig {
            base_fee_fen: 1000,
            per_km_fen: 200,
            per_kg_fen: 100,
            ..CompanyConfig::default()
        }
    }

    fn input(distance_m: u64, weight_g: u64) -> FeeInput {
        FeeInput {
            distance_m,
            weight_g,
            tips_fen: 0,
            insured_value_fen: None,
        }
    }

    #[test]
    fn distance_is_plausible() {
        let a = GeoPoint {
            lng: 121.4903,
            lat: 31.2416,
        };
        let b = GeoPoint {
            lng: 121.5447,
            lat: 31.2216,
        };
        assert!((5_000..6_000).contains(&distance_m(a, b)));
        assert_eq!(distance_m(a, a), 0);
    }

    #[test]
    fn baidu_points_move_a_little() {
        let gcj = GeoPoint::from_baidu(121.5512, 31.2276);
        assert!((gcj.lng - 121.5447).abs() < 0.001, "{gcj:?}");
        assert!((gcj.lat - 31.2216).abs() < 0.001, "{gcj:?}");
    }

    #[test]
    fn fee_steps() {
        let c = company();
        assert_eq!(quote(&c, input(0, 1_000)).deliver_fee_fen, 1000);
        assert_eq!(quote(&c, input(3_000, 5_000)).deliver_fee_fen, 1000);
        assert_eq!(quote(&c, input(3_001, 5_000)).deliver_fee_fen, 1200);
        assert_eq!(
            quote(&c, input(5_500, 6_500)).deliver_fee_fen,
            1000 + 600 + 200
        );
        let insured = quote(
            &c,
            FeeInput {
                tips_fen: 300,
                insured_value_fen: Some(10_050),
                ..input(0, 0)
            },
        );
        assert_eq!(insured.insurance_fee_fen, 101);
        assert_eq!(insured.charged_fen(), 1000 + 300 + 101);
    }

    #[test]
    fn penalties() {
        let dada = CancelRule {
            after_assign_fen: 200,
            after_arrive_fen: 300,
            after_pickup_fen: None,
            free_secs_after_assign: 0,
        };
        let late = Some(TimeDelta::seconds(600));
        assert_eq!(penalty_fen(&dada, Status::Waiting, None, 1000), Some(0));
        assert_eq!(penalty_fen(&dada, Status::Assigned, late, 1000), Some(200));
        assert_eq!(penalty_fen(&dada, Status::AtShop, late, 1000), Some(300));
        assert_eq!(penalty_fen(&dada, Status::Delivering, late, 1000), None);
        assert_eq!(penalty_fen(&dada, Status::AtShop, late, 250), Some(250));
        // A minute's grace after the assignment, before pick-up only.
        let graced = CancelRule {
            free_secs_after_assign: 60,
            ..dada
        };
        let at = |s| Some(TimeDelta::seconds(s));
        assert_eq!(
            penalty_fen(&graced, Status::Assigned, at(59), 1000),
            Some(0)
        );
        assert_eq!(penalty_fen(&graced, Status::AtShop, at(30), 1000), Some(0));
        assert_eq!(
            penalty_fen(&graced, Status::Assigned, at(60), 1000),
            Some(200)
        );
        assert_eq!(penalty_fen(&graced, Status::Delivering, at(30), 1000), None);
    }
}
