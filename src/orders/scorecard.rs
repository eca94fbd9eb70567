//! The courier scorecard: for each courier network, company and city, how often couriers
//! accepted, how fast (median), how often deliveries were cancelled and by whom, and what
//! they cost per kilometre. One grouped statement over a covering index; the median comes
//! from the same rows, grouped by time to accept as well (a histogram per group), so no
//! duration is sorted in SQL.

use std::collections::BTreeMap;

use entity::orders;
use sea_orm::{
    DbErr, EntityName,
    sea_query::{Alias, Expr, Query, SelectStatement},
};

use super::{OrderFilter, OrderService, search::condition};
use crate::domain::{Money, OrderKind};

/// One network, company and city.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Score {
    /// The provider (`DADA`, `WECHAT`).
    pub network: String,
    /// The company on a network of several; None on Dada.
    pub company: Option<String>,
    pub city: String,
    pub deliveries: i64,
    /// Deliveries a courier accepted at some point.
    pub accepted: i64,
    /// Nearest-rank median of creation to acceptance, in seconds, over the accepted.
    pub median_accept_secs: Option<i64>,
    pub cancelled: i64,
    /// Cancelled by the merchant, through orderhub.
    pub cancelled_by_merchant: i64,
    /// Cancelled on the platform's side (its courier, the customer, or the platform).
    pub cancelled_by_platform: i64,
    /// Delivery fees summed, over all deliveries and over those with a known distance.
    pub fee_fen: i64,
    pub fee_fen_with_distance: i64,
    pub distance_m: i64,
    pub penalty_fen: i64,
}

impl Score {
    /// Delivery fee per kilometre over the deliveries with a known distance, rounded half
    /// up to the fen; None without any distance.
    pub fn fee_per_km(&self) -> Option<Money> {
        if self.distance_m <= 0 {
            return None;
        }
        let num = i128::from(self.fee_fen_with_distance) * 1000 * 2 + i128::from(self.distance_m);
        let fen = num / (i128::from(self.distance_m) * 2);
        Some(Money::from_fen(i64::try_from(fen).unwrap_or(i64::MAX)))
    }

    /// The average delivery fee, rounded half up to the fen; None without deliveries.
    pub fn average_fee(&self) -> Option<Money> {
        (self.deliveries > 0)
            .then(|| Money::from_fen((self.fee_fen * 2 + self.deliveries) / (self.deliveries * 2)))
    }
}

/// `SUM` as a 64-bit integer on both backends.
fn sum(expr: &str) -> Expr {
    Expr::cust(format!("CAST(COALESCE(SUM({expr}), 0) AS BIGINT)"))
}

/// The scorecard's statement for `backend`, values inlined (for `EXPLAIN` in the bench):
/// per network, company, city and time to accept, the counts and sums.
pub fn scorecard_sql(filter: &OrderFilter, backend: sea_orm::DatabaseBackend) -> String {
    super::stats::text(&scorecard_statement(filter), backend)
}

fn scorecard_statement(filter: &OrderFilter) -> SelectStatement {
    let mut q = Query::select();
    q.from(orders::Entity.table_ref());
    for (alias, column) in [
        ("network", "provider"),
        ("company", "courier_company"),
        ("city", "city"),
        ("accept", "accept_secs"),
    ] {
        q.expr_as(Expr::cust(column), Alias::new(alias));
        q.add_group_by([Expr::cust(column)]);
    }
    q.expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
        .expr_as(
            sum("CASE WHEN status = 'CANCELLED' THEN 1 ELSE 0 END"),
            Alias::new("cancelled"),
        )
        .expr_as(
            sum("CASE WHEN status = 'CANCELLED' AND cancelled_by = 'MERCHANT' THEN 1 ELSE 0 END"),
            Alias::new("by_merchant"),
        )
        .expr_as(
            sum("CASE WHEN status = 'CANCELLED' AND cancelled_by = 'PLATFORM' THEN 1 ELSE 0 END"),
            Alias::new("by_platform"),
        )
        .expr_as(sum("delivery_fee_fen"), Alias::new("fee"))
        .expr_as(
            sum("CASE WHEN distance_m > 0 THEN delivery_fee_fen END"),
            Alias::new("fee_with_distance"),
        )
        .expr_as(
            sum("CASE WHEN distance_m > 0 THEN distance_m END"),
            Alias::new("distance"),
        )
        .expr_as(sum("penalty_fen"), Alias::new("penalty"));
    let mut filter = filter.clone();
    filter.kind = Some(OrderKind::Delivery);
    q.cond_where(condition(&filter));
    q
}

impl OrderService {
    /// The scorecard of the deliveries `filter` matches (other kinds of order are left
    /// out; a filter on another kind matches none), ordered by network, company, city.
    pub async fn scorecard(&self, filter: &OrderFilter) -> Result<Vec<Score>, DbErr> {
        if filter.kind.is_some_and(|k| k != OrderKind::Delivery) {
            return Ok(Vec::new());
        }
        let rows = self.aggregate(&scorecard_statement(filter)).await?;
        // (network, company, city) → the score and its times to accept with their counts.
        type Key = (String, Option<String>, String);
        let mut groups: BTreeMap<Key, (Score, Vec<(i64, i64)>)> = BTreeMap::new();
        for row in rows {
            let key: Key = (
                row.try_get("", "network")?,
                row.try_get("", "company")?,
                row.try_get("", "city")?,
            );
            let (score, histogram) = groups.entry(key.clone()).or_insert_with(|| {
                let (network, company, city) = key;
                (
                    Score {
                        network,
                        company,
                        city,
                        ..Score::default()
                    },
                    Vec::new(),
                )
            });
            let n: i64 = row.try_get("", "n")?;
            score.deliveries += n;
            if let Some(secs) = row.try_get::<Option<i64>>("", "accept")? {
                score.accepted += n;
                histogram.push((secs, n));
            }
            score.cancelled += row.try_get::<i64>("", "cancelled")?;
            score.cancelled_by_merchant += row.try_get::<i64>("", "by_merchant")?;
            score.cancelled_by_platform += row.try_get::<i64>("", "by_platform")?;
            score.fee_fen += row.try_get::<i64>("", "fee")?;
            score.fee_fen_with_distance += row.try_get::<i64>("", "fee_with_distance")?;
            score.distance_m += row.try_get::<i64>("", "distance")?;
            score.penalty_fen += row.try_get::<i64>("", "penalty")?;
        }
        Ok(groups
            .into_values()
            .map(|(mut score, mut histogram)| {
                score.median_accept_secs = median(&mut histogram, score.accepted);
                score
            })
            .collect())
    }
}

/// The nearest-rank median of `total` values given as (value, how many) pairs.
fn median(histogram: &mut [(i64, i64)], total: i64) -> Option<i64> {
    histogram.sort_unstable();
    let rank = (total + 1) / 2;
    let mut seen = 0;
    for (value, n) in histogram.iter() {
        seen += n;
        if seen >= rank {
            return Some(*value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_of_histograms() {
        assert_eq!(median(&mut [], 0), None);
        assert_eq!(median(&mut [(30, 1)], 1), Some(30));
        // 10, 20, 20, 40: rank 2.
        assert_eq!(median(&mut [(40, 1), (10, 1), (20, 2)], 4), Some(20));
        // 10 ×3, 50 ×2: rank 3.
        assert_eq!(median(&mut [(50, 2), (10, 3)], 5), Some(10));
    }

    #[test]
    fn fees_per_km_round_half_up() {
        let s = Score {
            deliveries: 3,
            fee_fen: 1000,
            fee_fen_with_distance: 1001,
            distance_m: 2000,
            ..Score::default()
        };
        // 1001 fen over 2 km = 500.5 fen/km → 501; 1000 / 3 = 333.3 → 333.
        assert_eq!(s.fee_per_km(), Some(Money::from_fen(501)));
        assert_eq!(s.average_fee(), Some(Money::from_fen(333)));
        assert_eq!(Score::default().fee_per_km(), None);
        assert_eq!(Score::default().average_fee(), None);
    }
}
