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
    types::{Money, OrderStatus, ProviderId},
};
use crate::{
    access::Scope,
    domain,
    orders::{
        scorecard::Score,
        stats::{Bucket, Dimension, Offset},
    },
};

/// Dimensions one `orderStats` may group by at once.
const MAX_DIMENSIONS: usize = 4;

/// What an `orderStats` weighs against the complexity budget: a statement over every
/// matching order (100), more per dimension (more buckets to build and send), plus what
/// each bucket selects.
fn stats_cost(dimensions: usize, child_complexity: usize) -> usize {
    100usize
        .saturating_add(dimensions.saturating_mul(50))
        .saturating_add(child_complexity)
}

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
    #[graphql(
        guard = "Need(Scope::OrdersRead)",
        complexity = "stats_cost(group_by.len(), child_complexity)"
    )]
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

/// How one courier network or company did in one city, over the deliveries the filter
/// matches.
pub struct CourierScore(Score);

fn rate(part: i64, whole: i64) -> f64 {
    if whole > 0 {
        part as f64 / whole as f64
    } else {
        0.0
    }
}

/// How one courier network or company did in one city, over the deliveries the filter
/// matches.
#[Object]
impl CourierScore {
    /// The courier network (`DADA`, `WECHAT`).
    async fn network(&self) -> Option<ProviderId> {
        self.0
            .network
            .parse::<domain::ProviderId>()
            .ok()
            .map(Into::into)
    }
    /// The courier company on a network of several (WeChat's `SFTC`, `MTPS`, …); null on
    /// Dada.
    async fn company(&self) -> Option<&str> {
        self.0.company.as_deref()
    }
    /// The city, as the orders spell it.
    async fn city(&self) -> &str {
        &self.0.city
    }
    /// Deliveries dispatched.
    async fn deliveries(&self) -> i32 {
        count(self.0.deliveries)
    }
    /// Deliveries a courier accepted at some point (cancelled later or not).
    async fn accepted(&self) -> i32 {
        count(self.0.accepted)
    }
    /// `accepted / deliveries`, 0 to 1.
    async fn acceptance_rate(&self) -> f64 {
        rate(self.0.accepted, self.0.deliveries)
    }
    /// Median time from dispatch to acceptance, in seconds (nearest rank, over the accepted
    /// deliveries); null when none was accepted.
    async fn median_time_to_accept_seconds(&self) -> Option<i32> {
        self.0.median_accept_secs.map(count)
    }
    /// Deliveries cancelled, by anyone.
    async fn cancelled(&self) -> i32 {
        count(self.0.cancelled)
    }
    /// Cancelled by the merchant, through this API (`cancelOrder`).
    async fn cancelled_by_merchant(&self) -> i32 {
        count(self.0.cancelled_by_merchant)
    }
    /// Cancelled on the platform's side: by its courier, the customer or the platform
    /// itself (learned from its notification or a poll).
    async fn cancelled_by_platform(&self) -> i32 {
        count(self.0.cancelled_by_platform)
    }
    /// `cancelledByMerchant / deliveries`, 0 to 1.
    async fn merchant_cancellation_rate(&self) -> f64 {
        rate(self.0.cancelled_by_merchant, self.0.deliveries)
    }
    /// `cancelledByPlatform / deliveries`, 0 to 1.
    async fn platform_cancellation_rate(&self) -> f64 {
        rate(self.0.cancelled_by_platform, self.0.deliveries)
    }
    /// The average delivery fee (tips and penalties apart), to the fen.
    async fn average_fee(&self) -> Option<Money> {
        self.0.average_fee().map(Money)
    }
    /// Delivery fees per kilometre, over the deliveries whose distance the network gave:
    /// their fees summed over their kilometres summed, to the fen; null with no distance.
    async fn fee_per_km(&self) -> Option<Money> {
        self.0.fee_per_km().map(Money)
    }
    /// Cancellation penalties paid, summed.
    async fn penalties(&self) -> Money {
        Money(domain::Money::from_fen(self.0.penalty_fen))
    }
}

#[derive(Default)]
pub struct ScorecardQuery;

#[Object]
impl ScorecardQuery {
    /// The courier scorecard: per courier network, company and city, over the deliveries
    /// the filter matches (other kinds of order never count), ordered by network, company
    /// and city. Which was cheapest and most reliable where.
    #[graphql(
        guard = "Need(Scope::OrdersRead)",
        complexity = "150usize.saturating_add(child_complexity)"
    )]
    async fn courier_scorecard(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which deliveries; leave out for every one the key may see.")]
        filter: Option<OrderFilter>,
    ) -> Result<Vec<CourierScore>> {
        let f = service_filter(ctx, filter.unwrap_or_default())?;
        read(
            ctx,
            async |s| s.orders.scorecard(&f).await,
            |scores| scores.into_iter().map(CourierScore).collect(),
        )
        .await
    }
}
