//! Aggregates over orders, computed by the database in one grouped statement: counts, money
//! totals (exact integer fen) and counts per unified status, grouped by time (local day,
//! ISO week, month at a fixed UTC offset) and by the orders' own columns. The same statement
//! shape on SQLite and PostgreSQL; only the date arithmetic is written per backend.

use std::collections::HashMap;

use entity::orders;
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DbErr, EntityName, QueryResult,
    sea_query::{Alias, Expr, Query, SelectStatement},
};

use super::{OrderFilter, OrderService, search::condition};
use crate::domain::OrderStatus;

/// What buckets can be grouped by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dimension {
    /// The local calendar day of creation (`YYYY-MM-DD`).
    Day,
    /// The Monday of the ISO week of creation (`YYYY-MM-DD`).
    Week,
    /// The month of creation (`YYYY-MM`).
    Month,
    Provider,
    /// The courier company (null for orders without one).
    Company,
    /// The shop's id (null for orders without one).
    Shop,
    City,
    Status,
    CancelReason,
}

/// One bucket: the values of its dimensions (in the order asked; None for a null column)
/// and what it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bucket {
    pub key: Vec<Option<String>>,
    pub orders: i64,
    pub revenue_fen: i64,
    pub delivery_fee_fen: i64,
    pub tips_fen: i64,
    pub penalty_fen: i64,
    /// Orders per unified status, in [`OrderStatus::ALL`] order.
    pub by_status: Vec<(OrderStatus, i64)>,
    /// From creation to the first acceptance, start (pick-up or service start) and
    /// completion, over the bucket's orders that got there (when asked for).
    pub durations: [Option<Percentiles>; 3],
}

impl Bucket {
    fn empty(key: Vec<Option<String>>) -> Self {
        Self {
            key,
            orders: 0,
            revenue_fen: 0,
            delivery_fee_fen: 0,
            tips_fen: 0,
            penalty_fen: 0,
            by_status: OrderStatus::ALL.iter().map(|s| (*s, 0)).collect(),
            durations: [None; 3],
        }
    }
}

/// Nearest-rank percentiles of a duration, in seconds, and how many orders it covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Percentiles {
    pub orders: i64,
    pub p50: i64,
    pub p90: i64,
    pub p99: i64,
}

/// The timeline steps whose durations `orderStats` reports: the status first reached.
pub const STEPS: [OrderStatus; 3] = [
    OrderStatus::Accepted,
    OrderStatus::InProgress,
    OrderStatus::Completed,
];

/// A statement as `backend`'s SQL text, values inlined.
pub(super) fn text(q: &SelectStatement, backend: DatabaseBackend) -> String {
    match backend {
        DatabaseBackend::Postgres => q.to_string(sea_orm::sea_query::PostgresQueryBuilder),
        _ => q.to_string(sea_orm::sea_query::SqliteQueryBuilder),
    }
}

/// The step columns (`orders::steps`) of [`STEPS`], in order.
const STEP_COLUMNS: [&str; 3] = ["accept_secs", "pick_up_secs", "complete_secs"];

/// The durations statement (also for `EXPLAIN` in the analytics bench): each matching
/// order that reached a step, with its bucket's key and its step times (seconds after
/// creation, written with the timeline by `orders::steps`). One scan of an index that
/// covers it; the percentiles are taken from the rows (see [`Percentiles::of`]).
pub fn durations_sql(
    filter: &OrderFilter,
    group_by: &[Dimension],
    backend: DatabaseBackend,
    offset: Offset,
) -> String {
    text(
        &durations_statement(filter, group_by, backend, offset),
        backend,
    )
}

fn durations_statement(
    filter: &OrderFilter,
    group_by: &[Dimension],
    backend: DatabaseBackend,
    offset: Offset,
) -> SelectStatement {
    let mut q = Query::select();
    q.from(orders::Entity.table_ref());
    for (i, d) in group_by.iter().enumerate() {
        q.expr_as(
            Expr::cust(key_sql(*d, backend, offset)),
            Alias::new(format!("k{i}")),
        );
    }
    for (i, column) in STEP_COLUMNS.iter().enumerate() {
        q.expr_as(Expr::cust(*column), Alias::new(format!("t{i}")));
    }
    q.cond_where(condition(filter));
    q.and_where(Expr::cust(
        STEP_COLUMNS
            .iter()
            .map(|c| format!("{c} IS NOT NULL"))
            .collect::<Vec<_>>()
            .join(" OR "),
    ));
    q
}

impl Percentiles {
    /// Nearest-rank p50/p90/p99 of `values` (reordered), None when empty. The rank of
    /// percentile p is the smallest r with r ≥ p·n/100, in integers.
    pub fn of(values: &mut [i64]) -> Option<Self> {
        let n = values.len();
        if n == 0 {
            return None;
        }
        let mut at = |p: usize| {
            let rank = (p * n).div_ceil(100).max(1);
            *values.select_nth_unstable(rank - 1).1
        };
        let (p50, p90, p99) = (at(50), at(90), at(99));
        Some(Self {
            orders: i64::try_from(n).unwrap_or(i64::MAX),
            p50,
            p90,
            p99,
        })
    }
}

/// A UTC offset in whole minutes, -14:00 to +14:00 (a fixed offset: no daylight saving).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Offset(i32);

impl Offset {
    /// China Standard Time.
    pub const CHINA: Offset = Offset(8 * 60);

    /// Reads `+08:00`, `-05:30`, `UTC`, `Z`.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("utc") || s == "Z" {
            return Some(Self(0));
        }
        let (sign, rest) = match s.as_bytes().first()? {
            b'+' => (1, &s[1..]),
            b'-' => (-1, &s[1..]),
            _ => return None,
        };
        let (h, m) = rest.split_once(':')?;
        if h.len() != 2 || m.len() != 2 {
            return None;
        }
        let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
        let minutes = sign * (h * 60 + m);
        (h <= 14 && m < 60 && minutes.abs() <= 14 * 60).then_some(Self(minutes))
    }
}

/// The SQL of a dimension's value, as text.
fn key_sql(d: Dimension, backend: DatabaseBackend, offset: Offset) -> String {
    let (group, select) = key_group_sql(d, backend, offset);
    select.unwrap_or(group)
}

/// What a dimension is grouped by, and (when it differs) how its value is written. On
/// PostgreSQL, days, weeks and months group as dates (not as text, which sorts by the
/// database's collation, slowly) and text columns by their bytes (`COLLATE "C"`, the order
/// SQLite uses too).
fn key_group_sql(
    d: Dimension,
    backend: DatabaseBackend,
    offset: Offset,
) -> (String, Option<String>) {
    let m = offset.0;
    if backend == DatabaseBackend::Sqlite {
        let sql = match d {
            Dimension::Day => format!("date(created_at, '{m:+} minutes')"),
            Dimension::Week => format!("date(created_at, '{m:+} minutes', 'weekday 0', '-6 days')"),
            Dimension::Month => format!("strftime('%Y-%m', created_at, '{m:+} minutes')"),
            Dimension::Shop => "CAST(shop_id AS TEXT)".into(),
            other => column(other).into(),
        };
        return (sql, None);
    }
    let local = format!("((created_at AT TIME ZONE 'UTC') + interval '{m} minutes')");
    match d {
        Dimension::Day => {
            let g = format!("CAST({local} AS DATE)");
            let text = format!("to_char({g}, 'YYYY-MM-DD')");
            (g, Some(text))
        }
        Dimension::Week => {
            let g = format!("date_trunc('week', {local})");
            let text = format!("to_char({g}, 'YYYY-MM-DD')");
            (g, Some(text))
        }
        Dimension::Month => {
            let g = format!("date_trunc('month', {local})");
            let text = format!("to_char({g}, 'YYYY-MM')");
            (g, Some(text))
        }
        Dimension::Shop => ("shop_id".into(), Some("CAST(shop_id AS TEXT)".into())),
        other => (format!("{} COLLATE \"C\"", column(other)), None),
    }
}

/// The orders column of a dimension that is one.
fn column(d: Dimension) -> &'static str {
    match d {
        Dimension::Provider => "provider",
        Dimension::Company => "courier_company",
        Dimension::City => "city",
        Dimension::Status => "status",
        Dimension::CancelReason => "cancel_reason",
        Dimension::Day | Dimension::Week | Dimension::Month | Dimension::Shop => "created_at",
    }
}

/// `SUM` as a 64-bit integer on both backends (PostgreSQL sums bigints as numeric).
fn sum(expr: &str) -> Expr {
    Expr::cust(format!("CAST(COALESCE(SUM({expr}), 0) AS BIGINT)"))
}

fn statement(
    filter: &OrderFilter,
    group_by: &[Dimension],
    backend: DatabaseBackend,
    offset: Offset,
) -> SelectStatement {
    let mut q = Query::select();
    q.from(orders::Entity.table_ref());
    for (i, d) in group_by.iter().enumerate() {
        let (group, select) = key_group_sql(*d, backend, offset);
        q.expr_as(
            Expr::cust(select.unwrap_or_else(|| group.clone())),
            Alias::new(format!("k{i}")),
        );
        q.add_group_by([Expr::cust(group)]);
    }
    // Per status too: the counts per status come from the groups (cheaper than a CASE per
    // status and row), and rows of one bucket are folded together (`fold`).
    q.expr_as(Expr::cust("status"), Alias::new("st"));
    q.add_group_by([Expr::cust("status")]);
    q.expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
        .expr_as(sum("total_fen"), Alias::new("revenue"))
        .expr_as(sum("delivery_fee_fen"), Alias::new("delivery_fee"))
        .expr_as(sum("tips_fen"), Alias::new("tips"))
        .expr_as(sum("penalty_fen"), Alias::new("penalty"));
    q.cond_where(condition(filter));
    for i in 0..group_by.len() {
        q.order_by(Alias::new(format!("k{i}")), sea_orm::Order::Asc);
    }
    q
}

/// The statement `stats` runs, as text with its values inlined (for `EXPLAIN` in the
/// analytics bench).
pub fn stats_sql(
    filter: &OrderFilter,
    group_by: &[Dimension],
    backend: DatabaseBackend,
    offset: Offset,
) -> String {
    text(&statement(filter, group_by, backend, offset), backend)
}

/// The statement's rows (one per bucket and status, a bucket's rows together) as buckets;
/// with no dimension, one bucket even when no order matches.
fn fold(rows: &[QueryResult], dimensions: usize) -> Result<Vec<Bucket>, DbErr> {
    let keys: Vec<String> = (0..dimensions).map(|i| format!("k{i}")).collect();
    let mut buckets: Vec<Bucket> = Vec::new();
    for row in rows {
        let mut key = Vec::with_capacity(dimensions);
        for k in &keys {
            key.push(row.try_get::<Option<String>>("", k)?);
        }
        if buckets.last().is_none_or(|b| b.key != key) {
            buckets.push(Bucket::empty(key));
        }
        let Some(b) = buckets.last_mut() else {
            continue;
        };
        let n: i64 = row.try_get("", "n")?;
        b.orders += n;
        b.revenue_fen += row.try_get::<i64>("", "revenue")?;
        b.delivery_fee_fen += row.try_get::<i64>("", "delivery_fee")?;
        b.tips_fen += row.try_get::<i64>("", "tips")?;
        b.penalty_fen += row.try_get::<i64>("", "penalty")?;
        let status: String = row.try_get("", "st")?;
        if let Some(slot) = b.by_status.iter_mut().find(|(s, _)| s.as_str() == status) {
            slot.1 += n;
        }
    }
    if dimensions == 0 && buckets.is_empty() {
        buckets.push(Bucket::empty(Vec::new()));
    }
    Ok(buckets)
}

/// A bucket's key.
type Key = Vec<Option<String>>;
/// Each bucket's orders' step times.
type StepTimes = HashMap<Key, [Vec<i64>; 3]>;

/// The durations scan's rows, per bucket key (rows of one key tend to come together: the
/// last key is checked before the map).
fn step_times(rows: Vec<QueryResult>, dimensions: usize) -> Result<StepTimes, DbErr> {
    let keys: Vec<String> = (0..dimensions).map(|i| format!("k{i}")).collect();
    let steps: Vec<String> = (0..STEPS.len()).map(|i| format!("t{i}")).collect();
    let mut by_key = StepTimes::new();
    let mut last: Option<(Key, [Vec<i64>; 3])> = None;
    for row in rows {
        let mut key = Vec::with_capacity(dimensions);
        for k in &keys {
            key.push(row.try_get::<Option<String>>("", k)?);
        }
        if last.as_ref().is_none_or(|(k, _)| *k != key) {
            if let Some((k, times)) = last.take() {
                by_key.insert(k, times);
            }
            let times = by_key.remove(&key).unwrap_or_default();
            last = Some((key, times));
        }
        if let Some((_, times)) = last.as_mut() {
            for (values, column) in times.iter_mut().zip(&steps) {
                if let Some(secs) = row.try_get::<Option<i64>>("", column)? {
                    values.push(secs);
                }
            }
        }
    }
    if let Some((k, times)) = last {
        by_key.insert(k, times);
    }
    Ok(by_key)
}

/// Memory PostgreSQL may give one analytics statement's grouping: a year of orders grouped
/// by day fits, so it is hashed in memory (the planner cannot tell how few groups a day
/// expression makes and otherwise sorts every row, or spills the hash to disk).
const ANALYTICS_WORK_MEM: &str = "64MB";

impl OrderService {
    /// Runs a grouping statement of the analytics on the readers; on PostgreSQL in a
    /// read-only transaction with [`ANALYTICS_WORK_MEM`].
    pub(super) async fn aggregate(&self, q: &SelectStatement) -> Result<Vec<QueryResult>, DbErr> {
        use sea_orm::TransactionTrait;
        let backend = self.reader.get_database_backend();
        // Values bound, not inlined: SQLite compares times as text in the format it stores.
        let statement = backend.build(q);
        if backend != DatabaseBackend::Postgres {
            return self.reader.query_all_raw(statement).await;
        }
        let txn = self.reader.begin().await?;
        txn.execute_unprepared(&format!("SET LOCAL work_mem = '{ANALYTICS_WORK_MEM}'"))
            .await?;
        let rows = txn.query_all_raw(statement).await?;
        txn.commit().await?;
        Ok(rows)
    }

    /// The buckets of the orders `filter` matches, grouped by `group_by` (one bucket for
    /// all with no dimension), ordered by their keys.
    pub async fn stats(
        &self,
        filter: &OrderFilter,
        group_by: &[Dimension],
        offset: Offset,
        with_durations: bool,
    ) -> Result<Vec<Bucket>, DbErr> {
        let backend = self.reader.get_database_backend();
        let totals_statement = statement(filter, group_by, backend, offset);
        let totals = self.aggregate(&totals_statement);
        // The durations' scan runs beside the totals' statement, on another connection.
        let durations = async {
            if !with_durations {
                return Ok(HashMap::new());
            }
            let rows = self
                .reader
                .query_all(&durations_statement(filter, group_by, backend, offset))
                .await?;
            step_times(rows, group_by.len())
        };
        let (rows, mut by_key) = futures::try_join!(totals, durations)?;
        let mut buckets = fold(&rows, group_by.len())?;
        for b in &mut buckets {
            if let Some(steps) = by_key.get_mut(&b.key) {
                for (slot, values) in b.durations.iter_mut().zip(steps.iter_mut()) {
                    *slot = Percentiles::of(values);
                }
            }
        }
        Ok(buckets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        assert_eq!(Percentiles::of(&mut []), None);
        let p = Percentiles::of(&mut [7]).unwrap();
        assert_eq!((p.orders, p.p50, p.p90, p.p99), (1, 7, 7, 7));
        // 1..=10 shuffled: ranks 5, 9, 10.
        let p = Percentiles::of(&mut [4, 9, 1, 10, 3, 8, 2, 7, 5, 6]).unwrap();
        assert_eq!((p.orders, p.p50, p.p90, p.p99), (10, 5, 9, 10));
        // 1..=200: ranks 100, 180, 198.
        let mut v: Vec<i64> = (1..=200).rev().collect();
        let p = Percentiles::of(&mut v).unwrap();
        assert_eq!((p.p50, p.p90, p.p99), (100, 180, 198));
    }

    #[test]
    fn offsets() {
        assert_eq!(Offset::parse("+08:00"), Some(Offset::CHINA));
        assert_eq!(Offset::parse("-05:30"), Some(Offset(-330)));
        assert_eq!(Offset::parse("UTC"), Some(Offset(0)));
        assert_eq!(Offset::parse("+15:00"), None);
        assert_eq!(Offset::parse("08:00"), None);
        assert_eq!(Offset::parse("+8"), None);
        assert_eq!(Offset::parse("Asia/Shanghai"), None);
    }
}
