//! The sandbox's freight model and Dada's cancellation penalty.
//!
//! Dada does not publish its price list, so the model is the sandbox's own, chosen to be
//! deterministic (a test can compute the fee) and shaped like the real thing: a base fee per city
//! for the first 3 km, then 1 yuan per started kilometre (charged up to 50 km, so the document's
//! 1,762 km example does not cost a fortune), 0.5 yuan per started kilogram above 5 kg, 5 yuan for
//! direct delivery (直拿直送), insurance at 1 % of the cargo price rounded up to the fen. No coupons
//! are ever applied, so `couponFee` is 0 and `fee` equals `deliverFee`.
//!
//! The penalty follows the document's prose: cancelling within 1 minute of acceptance costs
//! nothing; from 1 to 15 minutes after acceptance 2 yuan goes to the courier; after 15 minutes it
//! costs nothing if the courier has not reached the store by then (or reached it late), and 2 yuan
//! if the courier was at the store within the 15 minutes. The penalty never exceeds what was paid.

use chrono::{DateTime, TimeDelta, Utc};

/// Distance included in the base fee.
pub const FREE_DISTANCE_M: u64 = 3_000;
/// Per started kilometre beyond the free distance.
pub const PER_KM_FEN: i64 = 100;
/// Kilometres beyond this distance are not charged.
pub const MAX_CHARGED_DISTANCE_M: u64 = 50_000;
/// Weight included in the base fee.
pub const FREE_WEIGHT_G: u64 = 5_000;
/// Per started kilogram beyond the free weight.
pub const PER_KG_FEN: i64 = 50;
/// Surcharge for `is_direct_delivery = 1`.
pub const DIRECT_DELIVERY_FEN: i64 = 500;
/// What the courier gets when an accepted order is cancelled inside the penalty window.
pub const PENALTY_FEN: i64 = 200;

/// A point as Dada sends it (GCJ-02 in reality; the difference does not matter for a model).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GeoPoint {
    pub lng: f64,
    pub lat: f64,
}

/// Great-circle distance in metres.
pub fn distance_m(a: GeoPoint, b: GeoPoint) -> f64 {
    const EARTH_RADIUS_M: f64 = 6_371_008.8;
    let (lat1, lat2) = (a.lat.to_radians(), b.lat.to_radians());
    let dlat = lat2 - lat1;
    let dlng = (b.lng - a.lng).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlng / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

/// What decides the price of one delivery.
#[derive(Clone, Copy, Debug)]
pub struct FeeInput {
    pub city_base_fee_fen: i64,
    pub distance_m: u64,
    pub weight_g: u64,
    pub direct_delivery: bool,
    pub insured: bool,
    pub cargo_price_fen: i64,
    pub tips_fen: i64,
}

/// The price of one delivery, every part in fen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FeeQuote {
    pub distance_m: u64,
    /// Freight before coupons (`deliverFee`).
    pub deliver_fee_fen: i64,
    pub coupon_fee_fen: i64,
    /// Freight after coupons (`fee`).
    pub fee_fen: i64,
    pub tips_fen: i64,
    pub insurance_fee_fen: i64,
}

impl FeeQuote {
    /// What publishing the order debits from the balance.
    pub fn total_fen(&self) -> i64 {
        self.fee_fen + self.tips_fen + self.insurance_fee_fen
    }
}

/// Prices a delivery.
pub fn quote(input: FeeInput) -> FeeQuote {
    let charged_m = input.distance_m.min(MAX_CHARGED_DISTANCE_M);
    let extra_km = charged_m.saturating_sub(FREE_DISTANCE_M).div_ceil(1_000);
    let extra_kg = input.weight_g.saturating_sub(FREE_WEIGHT_G).div_ceil(1_000);
    let deliver_fee_fen = input.city_base_fee_fen
        + saturating_fen(extra_km, PER_KM_FEN)
        + saturating_fen(extra_kg, PER_KG_FEN)
        + if input.direct_delivery {
            DIRECT_DELIVERY_FEN
        } else {
            0
        };
    let insurance_fee_fen = if input.insured {
        // 1 %, rounded up so that any insured cargo costs at least a fen.
        input.cargo_price_fen.max(0).saturating_add(99) / 100
    } else {
        0
    };
    let coupon_fee_fen = 0;
    FeeQuote {
        distance_m: input.distance_m,
        deliver_fee_fen,
        coupon_fee_fen,
        fee_fen: deliver_fee_fen - coupon_fee_fen,
        tips_fen: input.tips_fen,
        insurance_fee_fen,
    }
}

fn saturating_fen(units: u64, per_unit: i64) -> i64 {
    i64::try_from(units)
        .unwrap_or(i64::MAX)
        .saturating_mul(per_unit)
}

/// When a merchant cancels an accepted order.
#[derive(Clone, Copy, Debug)]
pub struct CancelTiming {
    pub accepted_at: DateTime<Utc>,
    /// When the courier reached the store (status 100), if ever.
    pub arrived_at: Option<DateTime<Utc>>,
    pub now: DateTime<Utc>,
}

/// The penalty, in fen, for a merchant cancelling an accepted order; `paid_fen` caps it.
pub fn penalty_fen(timing: CancelTiming, paid_fen: i64) -> i64 {
    let since_accept = timing.now - timing.accepted_at;
    let window = TimeDelta::minutes(15);
    let penalised = if since_accept < TimeDelta::minutes(1) {
        false
    } else if since_accept < window {
        true
    } else {
        // Past 15 minutes the courier is only owed something if they were at the store in time.
        timing
            .arrived_at
            .is_some_and(|arrived| arrived - timing.accepted_at <= window)
    };
    if penalised {
        PENALTY_FEN.min(paid_fen.max(0))
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(distance_m: u64, weight_g: u64) -> FeeInput {
        FeeInput {
            city_base_fee_fen: 1000,
            distance_m,
            weight_g,
            direct_delivery: false,
            insured: false,
            cargo_price_fen: 0,
            tips_fen: 0,
        }
    }

    #[test]
    fn distance_is_plausible() {
        let bund = GeoPoint {
            lng: 121.4903,
            lat: 31.2416,
        };
        let lujiazui = GeoPoint {
            lng: 121.5447,
            lat: 31.2216,
        };
        let d = distance_m(bund, lujiazui);
        assert!((5_000.0..6_000.0).contains(&d), "{d}");
        assert_eq!(distance_m(bund, bund), 0.0);
    }

    #[test]
    fn fee_steps() {
        assert_eq!(quote(input(0, 1_000)).deliver_fee_fen, 1000);
        assert_eq!(quote(input(3_000, 5_000)).deliver_fee_fen, 1000);
        assert_eq!(quote(input(3_001, 5_000)).deliver_fee_fen, 1100);
        assert_eq!(quote(input(6_800, 5_001)).deliver_fee_fen, 1000 + 400 + 50);
        assert_eq!(quote(input(1_762_904, 0)).deliver_fee_fen, 1000 + 4700);
    }

    #[test]
    fn extras_and_total() {
        let q = quote(FeeInput {
            direct_delivery: true,
            insured: true,
            cargo_price_fen: 10_050,
            tips_fen: 150,
            ..input(0, 0)
        });
        assert_eq!(q.deliver_fee_fen, 1500);
        assert_eq!(q.fee_fen, 1500);
        assert_eq!(q.insurance_fee_fen, 101);
        assert_eq!(q.total_fen(), 1500 + 150 + 101);
    }

    #[test]
    fn penalty_windows() {
        let t0 = DateTime::<Utc>::UNIX_EPOCH;
        let at = |secs: i64| t0 + TimeDelta::seconds(secs);
        let timing = |now, arrived| CancelTiming {
            accepted_at: t0,
            arrived_at: arrived,
            now,
        };
        assert_eq!(penalty_fen(timing(at(59), None), 1000), 0);
        assert_eq!(penalty_fen(timing(at(60), None), 1000), 200);
        assert_eq!(penalty_fen(timing(at(899), None), 1000), 200);
        assert_eq!(penalty_fen(timing(at(900), None), 1000), 0);
        assert_eq!(penalty_fen(timing(at(1200), Some(at(600))), 1000), 200);
        assert_eq!(penalty_fen(timing(at(1200), Some(at(1000))), 1000), 0);
        assert_eq!(penalty_fen(timing(at(120), None), 150), 150);
    }
}
