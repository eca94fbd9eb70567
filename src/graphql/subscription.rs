//! `orderStatusChanged`: every applied status change, from any platform, live. With
//! `afterEventId` the stream first replays what was committed after that event, so a
//! reconnecting client misses nothing; a subscriber that falls behind the live buffer
//! catches up from the database the same way.

use std::collections::BTreeSet;

use async_graphql::{Context, ID, InputObject, Result, Subscription};
use futures::Stream;
use tokio::sync::broadcast::error::RecvError;

use super::{
    errors::{internal, invalid},
    ids::{self, Kind, encode},
    resolve::services,
    types::{OrderStatus, OrderStatusChange, ProviderId},
};
use crate::{domain, events::StatusChange};

/// Events can commit slightly out of id order (concurrent transactions); a catch-up
/// re-reads this many ids below the newest seen, skipping those already delivered.
const REORDER_WINDOW: i64 = 1_000;
const REPLAY_BATCH: u64 = 500;

#[derive(InputObject, Default, Clone)]
pub struct StatusChangeFilter {
    pub order_id: Option<ID>,
    pub provider: Option<ProviderId>,
    /// Only changes into one of these statuses.
    pub statuses: Option<Vec<OrderStatus>>,
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

#[derive(Default)]
pub struct Subscription;

#[Subscription]
impl Subscription {
    /// Streams every status change (with old and new unified status, the platform's raw
    /// status and the time), optionally filtered, optionally resuming after an event id.
    async fn order_status_changed(
        &self,
        ctx: &Context<'_>,
        filter: Option<StatusChangeFilter>,
        after_event_id: Option<ID>,
    ) -> Result<impl Stream<Item = Result<OrderStatusChange>> + use<>> {
        let st = services(ctx)?.clone();
        let f = filter.unwrap_or_default();
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
        let after = match &after_event_id {
            Some(id) => Some(
                ids::decode(Kind::Event, id)
                    .ok_or_else(|| invalid("afterEventId is not an event id"))?,
            ),
            None => None,
        };
        // Subscribe before reading the database, so nothing falls between the two.
        let mut rx = st.bus.subscribe();
        let baseline = match after {
            Some(a) => a,
            None => st.orders.last_event_id().await.map_err(internal)?,
        };
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
                                yield Ok(to_graphql(c));
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
                            yield Ok(to_graphql(c));
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
        })
    }
}
