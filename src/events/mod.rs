//! Publish-after-commit bus of order status changes. Services publish only after their
//! transaction committed; subscribers read from here, and a subscriber that falls behind
//! (or resumes after a reconnect) catches up from the `order_event` table, so no change is
//! ever missed.

pub mod pg;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::broadcast;

use crate::domain::{EventKind, EventSource, OrderStatus, ProviderId};

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
    /// `Status` for a status change; other kinds leave `from == to`.
    pub kind: EventKind,
}

impl StatusChange {
    /// The change an applied `order_event` row records; None for a row that does not read
    /// (written by a newer version).
    pub fn from_row(e: entity::order_event::Model) -> Option<Self> {
        Some(Self {
            event_id: e.id,
            order_id: e.order_id,
            provider: e.provider.parse().ok()?,
            from: e.from_status.as_deref().and_then(|s| s.parse().ok()),
            to: e.to_status.parse().ok()?,
            raw_status: e.raw_status,
            source: e.source.parse().ok()?,
            occurred_at: e.occurred_at,
            detail: e.detail,
            kind: e.kind.parse().ok()?,
        })
    }
}

#[derive(Clone)]
pub struct EventBus {
    tx: broadcast::Sender<StatusChange>,
    /// Tags this instance's notifications so it does not publish its own changes twice.
    instance: Arc<str>,
}

impl EventBus {
    pub fn new(capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(capacity);
        Self {
            tx,
            instance: uuid::Uuid::new_v4().simple().to_string().into(),
        }
    }

    pub fn instance(&self) -> &str {
        &self.instance
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
