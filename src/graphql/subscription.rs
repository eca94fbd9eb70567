//! `orderStatusChanged`: every applied status change, from any platform, live. With
//! `afterEventId` the stream first replays what was committed after that event, so a
//! reconnecting client misses nothing; a subscriber that falls behind the live buffer
//! catches up from the database the same way.

use std::{
    collections::{BTreeSet, HashMap},
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
};

use async_graphql::{Context, ID, InputObject, Result, Subscription};
use futures::{StreamExt, stream::BoxStream};
use tokio::sync::broadcast::error::RecvError;

use super::{
    access::{Need, caller},
    errors::{internal, invalid},
    ids::{self, Kind, encode},
    resolve::services,
    types::{OrderKind, OrderStatus, OrderStatusChange, ProviderId},
};
use crate::{access::Scope, domain, events::StatusChange, graphql::Services};

/// Events can commit slightly out of id order (concurrent transactions); a catch-up
/// re-reads this many ids below the newest seen, skipping those already delivered.
const REORDER_WINDOW: i64 = 1_000;
const REPLAY_BATCH: u64 = 500;

/// Which status changes to stream; the fields combine.
#[derive(InputObject, Default, Clone)]
pub struct StatusChangeFilter {
    /// Only changes of this order.
    pub order_id: Option<ID>,
    /// Only changes of this provider's orders.
    pub provider: Option<ProviderId>,
    /// Only changes into one of these statuses.
    pub statuses: Option<Vec<OrderStatus>>,
    /// Only changes of this shop's orders (a `Shop` id).
    pub shop_id: Option<ID>,
    /// Only changes of service appointments, or only of courier deliveries.
    pub kind: Option<OrderKind>,
    /// Only changes of deliveries carried by this company on a network of several
    /// (`delivery.company`, e.g. `SFTC`).
    pub courier_company: Option<String>,
}

struct Filter {
    order_id: Option<i64>,
    provider: Option<domain::ProviderId>,
    statuses: Vec<domain::OrderStatus>,
}

impl Filter {
    fn matches(&self, c: &StatusChange) -> bool {
        self.order_id.is_none_or(|id| id == c.order_id)
            && self.provider.is_none_or(|p| p == c.provider)
            && (self.statuses.is_empty() || self.statuses.contains(&c.to))
    }
}

fn to_graphql(c: StatusChange) -> OrderStatusChange {
    OrderStatusChange {
        event_id: encode(Kind::Event, c.event_id),
        order_id: encode(Kind::Order, c.order_id),
        provider: c.provider.into(),
        old_status: c.from.map(Into::into),
        new_status: c.to.into(),
        raw_status: c.raw_status,
        source: c.source.into(),
        kind: c.kind.into(),
        occurred_at: c.occurred_at,
        detail: c.detail,
    }
}

/// The filter terms that need the order itself (its shop, kind, courier company), and what a
/// key restricted to some shops may see: each order is looked up once per subscription
/// (again while its courier company is not known yet, if the filter names one).
struct OrderGate {
    within: Option<Vec<i64>>,
    shop: Option<i64>,
    kind: Option<domain::OrderKind>,
    company: Option<String>,
    known: HashMap<i64, Facts>,
}

#[derive(Clone)]
struct Facts {
    shop_id: Option<i64>,
    kind: String,
    company: Option<String>,
}

impl OrderGate {
    fn idle(&self) -> bool {
        self.within.is_none()
            && self.shop.is_none()
            && self.kind.is_none()
            && self.company.is_none()
    }

    /// Whether the change of `order_id` passes. A failed lookup ends the stream with an
    /// error (the client resumes after its last event), never skips silently.
    async fn allows(&mut self, st: &Services, order_id: i64) -> Result<bool> {
        if self.idle() {
            return Ok(true);
        }
        let cached = self
            .known
            .get(&order_id)
            .filter(|f| self.company.is_none() || f.company.is_some())
            .cloned();
        let facts = match cached {
            Some(f) => f,
            None => {
                let Some(o) = st.orders.get(order_id).await.map_err(internal)? else {
                    return Ok(false);
                };
                let f = Facts {
                    shop_id: o.shop_id,
                    kind: o.kind,
                    company: o.courier_company,
                };
                self.known.insert(order_id, f.clone());
                f
            }
        };
        let in_shop = |s: i64| facts.shop_id == Some(s);
        Ok(self
            .within
            .as_ref()
            .is_none_or(|shops| shops.iter().any(|s| in_shop(*s)))
            && self.shop.is_none_or(in_shop)
            && self.kind.is_none_or(|k| facts.kind == k.as_str())
            && self
                .company
                .as_ref()
                .is_none_or(|c| facts.company.as_ref() == Some(c)))
    }
}

/// The resume point a graphql-ws connection gave in its `connection_init` payload
/// (`lastEventId`): every subscription on that connection resumes after it.
#[derive(Clone, Debug)]
pub struct ResumeAfter(pub ID);

/// Request data of a subscription executed once for many subscribers: the id of the last
/// event its stream yielded (before the first, its starting point), so that whoever fans
/// its answers out knows which event each answer is and where a subscriber that fell
/// behind resumes.
#[derive(Clone, Debug, Default)]
pub struct Yielded(pub Arc<Marks>);

/// Where a stream started, and the last event it yielded.
#[derive(Debug, Default)]
pub struct Marks {
    pub start: AtomicI64,
    pub last: AtomicI64,
}

/// Request data of an admission run: every check of the subscription runs (scope, cost,
/// arguments, resume point) and its stream then ends at once, without reading the database
/// or joining the bus; an admitted subscriber joins an execution shared with others.
#[derive(Clone, Copy, Debug)]
pub struct Admission;

#[derive(Default)]
pub struct Subscription;

/// Live streams over graphql-ws at `/graphql/ws`.
#[Subscription]
impl Subscription {
    /// Streams every status change (with old and new unified status, the platform's raw
    /// status and the time), optionally filtered, optionally resuming after an event id.
    #[graphql(guard = "Need(Scope::OrdersRead)")]
    async fn order_status_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which changes to stream; leave out for all the key may see.")]
        filter: Option<StatusChangeFilter>,
        #[graphql(
            desc = "Replay what was committed after this `eventId`, then go live (a `lastEventId` in the graphql-ws `connection_init` payload does the same for every subscription of the connection)."
        )]
        after_event_id: Option<ID>,
    ) -> Result<BoxStream<'static, Result<OrderStatusChange>>> {
        let st = services(ctx)?.clone();
        let f = filter.unwrap_or_default();
        let mut gate = OrderGate {
            within: caller(ctx)?.shops.clone(),
            shop: match &f.shop_id {
                Some(id) => Some(
                    ids::decode(Kind::Shop, id)
                        .ok_or_else(|| invalid("shopId is not a shop id"))?,
                ),
                None => None,
            },
            kind: f.kind.map(Into::into),
            company: f
                .courier_company
                .as_ref()
                .map(|c| c.trim().to_owned())
                .filter(|c| !c.is_empty()),
            known: HashMap::new(),
        };
        let filter = Filter {
            order_id: match &f.order_id {
                Some(id) => Some(
                    ids::decode(Kind::Order, id)
                        .ok_or_else(|| invalid("orderId is not an order id"))?,
                ),
                None => None,
            },
            provider: f.provider.map(Into::into),
            statuses: f
                .statuses
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
        };
        // The later of the subscription's own resume point and the connection's (graphql-ws
        // `connection_init` payload `lastEventId`, sent again on every reconnect).
        let mut after = None;
        for (name, id) in [
            ("afterEventId", after_event_id.as_ref()),
            ("lastEventId", ctx.data_opt::<ResumeAfter>().map(|r| &r.0)),
        ] {
            let Some(id) = id else { continue };
            let n = ids::decode(Kind::Event, id)
                .ok_or_else(|| invalid(format!("{name} is not an event id")))?;
            // An id that was never recorded (from another server, or the future) would mute
            // the stream until events caught up with it: refused instead.
            if !st.orders.event_exists(n).await.map_err(internal)? {
                return Err(invalid(format!(
                    "{name} {} is not a known event; resume from an eventId this server sent",
                    id.as_str()
                )));
            }
            after = after.max(Some(n));
        }
        if ctx.data_opt::<Admission>().is_some() {
            return Ok(futures::stream::empty().boxed());
        }
        let yielded = ctx.data_opt::<Yielded>().map(|y| y.0.clone());
        let start = yielded.clone();
        let note = move |id: i64| {
            if let Some(y) = &yielded {
                y.last.store(id, Ordering::Release);
            }
        };

        // Subscribe before reading the database, so nothing falls between the two.
        let mut rx = st.bus.subscribe();
        let baseline = match after {
            Some(a) => a,
            None => st.orders.last_event_id().await.map_err(internal)?,
        };
        if let Some(y) = &start {
            y.start.store(baseline, Ordering::Release);
            y.last.store(baseline, Ordering::Release);
        }
        Ok(async_stream::stream! {
            let mut delivered: BTreeSet<i64> = BTreeSet::new();
            let mut newest = baseline;
            let mut replay_from = after;
            loop {
                if let Some(from) = replay_from.take() {
                    let mut cursor = from;
                    loop {
                        let batch = match st.orders.events_after(cursor, REPLAY_BATCH).await {
                            Ok(b) => b,
                            Err(e) => { yield Err(internal(e)); return; }
                        };
                        let n = batch.len();
                        for row in batch {
                            cursor = row.id;
                            if !delivered.insert(row.id) { continue; }
                            newest = newest.max(row.id);
                            if let Some(c) = StatusChange::from_row(row) && filter.matches(&c) {
                                match gate.allows(&st, c.order_id).await {
                                    Ok(true) => { note(c.event_id); yield Ok(to_graphql(c)) }
                                    Ok(false) => {}
                                    Err(e) => { yield Err(e); return; }
                                }
                            }
                        }
                        if (n as u64) < REPLAY_BATCH { break; }
                    }
                }
                // Shutdown ends the stream, so the websocket closes and the server can stop.
                let received = tokio::select! {
                    r = rx.recv() => r,
                    _ = st.shutdown.cancelled() => return,
                };
                match received {
                    Ok(c) => {
                        if c.event_id <= baseline || !delivered.insert(c.event_id) { continue; }
                        newest = newest.max(c.event_id);
                        if filter.matches(&c) {
                            match gate.allows(&st, c.order_id).await {
                                Ok(true) => { note(c.event_id); yield Ok(to_graphql(c)) }
                                Ok(false) => {}
                                Err(e) => { yield Err(e); return; }
                            }
                        }
                    }
                    Err(RecvError::Lagged(n)) => {
                        tracing::warn!(missed = n, "subscriber lagged; catching up from the database");
                        replay_from = Some((newest - REORDER_WINDOW).max(baseline));
                    }
                    Err(RecvError::Closed) => return,
                }
                // Forget what can no longer come again.
                let floor = newest - REORDER_WINDOW;
                while delivered.first().is_some_and(|&id| id < floor) {
                    delivered.pop_first();
                }
            }
        }
        .boxed())
    }
}
