//! Publish-after-commit bus of order status changes. Services publish only after their
//! transaction committed; subscribers read from here, and a subscriber that falls behind
//! (or resumes after a reconnect) catches up from the `order_event` table, so no change is
//! ever missed.

use chrono::{DateTime, Utc};
use tokio::sync::broadcast;

use crate::domain::{EventSource, OrderStatus, ProviderId};

/// One applied status change of one order. `event_id` is the `order_event` row id:
/// increasing, so it doubles as the resume cursor.
#[derive(Clone, Debug)]
pub struct StatusChange {
    pub event_id: i64,
    pub order_id: i64,
    pub provider: ProviderId,
    pub from: Option<OrderStatus>,
    pub to: OrderStatus,
    pub raw_status: String,
    pub source: EventSource,
    pub occurred_at: DateTime<Utc>,
    pub detail: Option<String>,
}

#[derive(Clone)]
pub struct EventBus {
    tx: broadcast::Sender<StatusChange>,
}

impl EventBus {
    pub fn new(capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(capacity);
        Self { tx }
    }

    /// Hands a committed change to every live subscriber. Having none is fine.
    pub fn publish(&self, change: StatusChange) {
        metrics::counter!("orderhub_status_changes_published_total", "provider" => change.provider.as_str()).increment(1);
        let _ = self.tx.send(change);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<StatusChange> {
        self.tx.subscribe()
    }
}
