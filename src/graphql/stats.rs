//! `orderStats`: how many orders, how much money, in which statuses, per day, week, month,
//! provider, courier company, shop, city, status or cancellation reason; computed by the
//! database (see `orders::stats`).

use async_graphql::{Context, Enum, Object, Result, SimpleObject};

use super::{
    access::Need,
    errors::invalid,
    finding::{OrderFilter, service_filter},
    ids::{Kind, encode},
    resolve::read,
    types::{Money, OrderStatus},
};
use crate::{
    access::Scope,
    domain,
    orders::stats::{Bucket, Dimension, Offset},
};

/// Dimensions one `orderStats` may group by at once.
const MAX_DIMENSIONS: usize = 4;

/// What `orderStats` can group by.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum StatsDimension {
    /// The local day the order was created (`YYYY-MM-DD`, in `timeZone`).
    Day,
    /// The Monday of the ISO week the order was created (`YYYY-MM-DD`).
    Week,
    /// The month the order was created (`YYYY-MM`).
    Month,
    /// The provider (`ProviderId` name).
    Provider,
    /// The courier company on a network of several (null for other orders).
    Company,
    /// The shop (a `Shop` id; null for orders without one).
    Shop,
    /// The city, as the order spells it.
    City,
    /// The unified status (`OrderStatus` name).
    Status,
    /// The cancellation reason (null for orders without one).
    CancelReason,
}

impl From<StatsDimension> for Dimension {
    fn from(d: StatsDimension) -> Self {
        match d {
            StatsDimension::Day => Self::Day,
            StatsDimension::Week => Self::Week,
            StatsDimension::Month => Self::Month,
            StatsDimension::Provider => Self::Provider,
            StatsDimension::Company => Self::Company,
            StatsDimension::Shop => Self::Shop,
            StatsDimension::City => Self::City,
            StatsDimension::Status => Self::Status,
            StatsDimension::CancelReason => Self::CancelReason,
        }
    }
}

/// One dimension's value in a bucket.
#[derive(SimpleObject)]
pub struct StatsKey {
    /// The dimension.
    pub dimension: StatsDimension,
    /// Its value for this bucket; null where the orders have none.
    pub value: Option<String>,
}

/// Orders of a bucket in one status.
#[derive(SimpleObject)]
pub struct StatusCount {
    /// The unified status.
    pub status: OrderStatus,
    /// How many of the bucket's orders are in it.
    pub orders: i32,
}

/// How long a step of the timeline took, from the order's creation to the first time it
/// reached the step: nearest-rank percentiles over the bucket's orders that reached it.
#[derive(SimpleObject)]
pub struct DurationStats {
    /// Orders of the bucket that reached the step.
    pub orders: i32,
    /// Median, in seconds.
    pub p50_seconds: i32,
    /// 90th percentile, in seconds.
    pub p90_seconds: i32,
    /// 99th percentile, in seconds.
    pub p99_seconds: i32,
}

/// One group of orders and its totals.
#[derive(SimpleObject)]
pub struct OrderStatsBucket {
    /// The bucket's value of each `groupBy` dimension, in the order asked.
    pub key: Vec<StatsKey>,
    /// Orders in the bucket.
    pub orders: i32,
    /// What the platforms charged, summed (`amounts.total`).
    pub revenue: Money,
    /// Delivery fees, summed.
    pub delivery_fees: Money,
    /// Tips, summed.
    pub tips: Money,
    /// Cancellation penalties, summed.
    pub penalties: Money,
    /// Orders per unified status (statuses with none left out).
    pub statuses: Vec<StatusCount>,
    /// Creation to acceptance (`ACCEPTED`); null when no order of the bucket got there.
    pub time_to_accept: Option<DurationStats>,
    /// Creation to the start of the work (`IN_PROGRESS`: picked up, or service begun).
    pub time_to_pick_up: Option<DurationStats>,
    /// Creation to completion (`COMPLETED`).
    pub time_to_complete: Option<DurationStats>,
}

fn count(n: i64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn to_graphql(b: Bucket, group_by: &[StatsDimension]) -> OrderStatsBucket {
    let key = group_by
        .iter()
        .zip(b.key)
        .map(|(d, value)| StatsKey {
            dimension: *d,
            value: match d {
                StatsDimension::Shop => value
                    .and_then(|v| v.parse::<i64>().ok())
                    .map(|id| encode(Kind::Shop, id).to_string()),
                _ => value,
            },
        })
        .collect();
    let money = |fen| Money(domain::Money::from_fen(fen));
    let [accept, pick_up, complete] = b.durations.map(|d| {
        d.map(|p| DurationStats {
            orders: count(p.orders),
            p50_seconds: count(p.p50),
            p90_seconds: count(p.p90),
            p99_seconds: count(p.p99),
        })
    });
    OrderStatsBucket {
        key,
        orders: count(b.orders),
        revenue: money(b.revenue_fen),
        delivery_fees: money(b.delivery_fee_fen),
        tips: money(b.tips_fen),
        penalties: money(b.penalty_fen),
        statuses: b
            .by_status
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(s, n)| StatusCount {
                status: s.into(),
                orders: count(n),
            })
            .collect(),
        time_to_accept: accept,
        time_to_pick_up: pick_up,
        time_to_complete: complete,
    }
}

#[derive(Default)]
pub struct StatsQuery;

#[Object]
impl StatsQuery {
    /// Totals of the orders the filter matches, grouped by up to four dimensions (none: one
    /// bucket for all); buckets come ordered by their keys. Money is exact (fen).
    #[graphql(guard = "Need(Scope::OrdersRead)", complexity = 100)]
    async fn order_stats(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which orders; leave out for every order the key may see.")]
        filter: Option<OrderFilter>,
        #[graphql(
            desc = "The dimensions of a bucket, at most four, each once.",
            default
        )]
        group_by: Vec<StatsDimension>,
        #[graphql(
            desc = "The fixed UTC offset days, weeks and months are counted in: `+08:00` \
                    (China, the default), `-05:00`, `UTC`.",
            default_with = "\"+08:00\".to_string()"
        )]
        time_zone: String,
    ) -> Result<Vec<OrderStatsBucket>> {
        if group_by.len() > MAX_DIMENSIONS {
            return Err(invalid(format!(
                "groupBy takes at most {MAX_DIMENSIONS} dimensions"
            )));
        }
        if group_by
            .iter()
            .enumerate()
            .any(|(i, d)| group_by[..i].contains(d))
        {
            return Err(invalid("groupBy names a dimension twice"));
        }
        let offset = Offset::parse(&time_zone).ok_or_else(|| {
            invalid("timeZone is a fixed UTC offset such as +08:00, -05:30 or UTC")
        })?;
        let f = service_filter(ctx, filter.unwrap_or_default())?;
        let dims: Vec<Dimension> = group_by.iter().map(|d| (*d).into()).collect();
        // The timeline's durations cost a statement of their own: read only when asked for.
        let look = ctx.look_ahead();
        let durations = ["timeToAccept", "timeToPickUp", "timeToComplete"]
            .iter()
            .any(|f| look.field(f).exists());
        read(
            ctx,
            async |s| s.orders.stats(&f, &dims, offset, durations).await,
            |buckets| {
                buckets
                    .into_iter()
                    .map(|b| to_graphql(b, &group_by))
                    .collect()
            },
        )
        .await
    }
}
