//! Applying status news to an order: one transaction records the inbound callback (its
//! unique key makes a second delivery a no-op), the event (always, for the timeline) and
//! the order's new status (only when it moves forward and is not older than what we have).

use chrono::{DateTime, Utc};
use entity::{inbound_callback, orders};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, DatabaseTransaction, DbErr, EntityTrait, QuerySelect,
    TransactionTrait, sea_query::OnConflict,
};

use super::OrderService;
use crate::{
    domain::{EventKind, EventSource, Money, OrderStatus, ProviderId},
    events::StatusChange,
    providers::delivery::{Courier, DeliveryFees},
};

/// News about one order's status.
#[derive(Debug, Clone)]
pub struct StatusUpdate {
    pub order_id: i64,
    pub status: OrderStatus,
    pub raw_status: String,
    pub source: EventSource,
    /// The platform's time of the change; our receive time when it gives none.
    pub occurred_at: DateTime<Utc>,
    pub detail: Option<String>,
    pub cancel_reason: Option<String>,
    /// Set for callbacks: recorded in the same transaction, and the key of de-duplication.
    pub inbound: Option<InboundRecord>,
    /// What a courier network says along with the status.
    pub delivery: Option<DeliveryNews>,
}

/// Courier and money details a courier network sends with a status.
#[derive(Debug, Clone, Default)]
pub struct DeliveryNews {
    /// The platform's own number for the order (Dada's waybill number).
    pub platform_ref: Option<String>,
    pub courier: Option<Courier>,
    pub finish_code: Option<String>,
    pub penalty: Option<Money>,
    pub fees: Option<DeliveryFees>,
    pub distance_m: Option<i64>,
    /// When the courier expects to arrive.
    pub courier_eta: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct InboundRecord {
    pub provider: ProviderId,
    pub kind: &'static str,
    pub dedup_key: String,
    pub payload: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ApplyOutcome {
    /// The order moved; the change was published.
    Applied { event_id: i64 },
    /// Recorded in the timeline, but the order did not move (late, repeated or backwards).
    RecordedOnly { event_id: i64 },
    /// Nothing new (a poll that saw the status we already have).
    Unchanged,
    /// This callback was already processed.
    Duplicate,
}

impl OrderService {
    #[tracing::instrument(skip_all, fields(order_id = update.order_id, status = %update.status, source = update.source.as_str()))]
    pub async fn apply_status(&self, update: StatusUpdate) -> Result<ApplyOutcome, DbErr> {
        let txn = self.db.begin().await?;
        if let Some(inbound) = &update.inbound
            && !record_inbound(&txn, inbound, update.order_id).await?
        {
            txn.rollback().await?;
            metrics::counter!("orderhub_callbacks_total", "provider" => inbound.provider.as_str(), "outcome" => "duplicate").increment(1);
            // A repeat that disagrees with what we hold is a later change the platform dated
            // in the same second as an earlier one: only the platform can say which is current.
            if let Some(order) = self.get(update.order_id).await?
                && order.raw_status != update.raw_status
                && let Ok(provider) = order.provider.parse::<ProviderId>()
            {
                self.confirm_in_background(provider, order.id);
            }
            return Ok(ApplyOutcome::Duplicate);
        }
        // Row lock on PostgreSQL (SQLite has a single writer): concurrent news about one
        // order are applied one after the other.
        let Some(order) = orders::Entity::find_by_id(update.order_id)
            .lock_exclusive()
            .one(&txn)
            .await?
        else {
            txn.rollback().await?;
            return Err(DbErr::RecordNotFound(format!("order {}", update.order_id)));
        };
        let current = order
            .status
            .parse::<OrderStatus>()
            .map_err(|e| DbErr::Custom(format!("order {}: {e}", order.id)))?;
        let provider = order
            .provider
            .parse::<ProviderId>()
            .map_err(|e| DbErr::Custom(format!("order {}: {e}", order.id)))?;
        let not_older = order.status_at.is_none_or(|t| update.occurred_at >= t);
        // A platform may have several codes for one unified status (Dada: 1 waiting and 8
        // appointed are both PENDING); a newer callback moving between them is a change too.
        let raw_moves = update.status == current
            && !current.is_terminal()
            && update.raw_status != order.raw_status
            // A draft's first news is recorded; the dispatch's own answer publishes it.
            && order.raw_status != super::delivery::SUBMITTING
            && self
                .registry
                .courier(provider)
                .is_none_or(|n| n.raw_step_allowed(&order.raw_status, &update.raw_status));
        let moves = (current.can_move_to(update.status) || raw_moves) && not_older;

        if !moves && update.inbound.is_none() && update.raw_status == order.raw_status {
            txn.rollback().await?;
            return Ok(ApplyOutcome::Unchanged);
        }
        if !moves && update.inbound.is_none() {
            // A poll answering something that is not a forward move: the platform and we
            // disagree. Keep it visible in the timeline once, without regressing the order.
            tracing::warn!(current = %current, seen = %update.raw_status, "poll saw a status that does not move the order");
        }

        let now = Utc::now();
        if moves {
            let mut am: orders::ActiveModel = order.clone().into();
            am.status = Set(update.status.as_str().to_owned());
            am.raw_status = Set(update.raw_status.clone());
            am.status_at = Set(Some(update.occurred_at));
            am.updated_at = Set(now);
            if update.cancel_reason.is_some() {
                am.cancel_reason = Set(update.cancel_reason.clone());
            }
            if let Some(news) = &update.delivery {
                apply_delivery_news(&mut am, news, now);
            }
            am.update(&txn).await?;
        } else {
            // Late news still fills in what we do not know yet (a courier from an accept
            // callback that arrived after the pick-up one; the reason of a cancellation a poll
            // saw before the platform's notification said why); it never overwrites.
            let mut am: orders::ActiveModel = order.clone().into();
            let mut changed = false;
            if let Some(news) = &update.delivery {
                if order.platform_ref.is_none() && news.platform_ref.is_some() {
                    am.platform_ref = Set(news.platform_ref.clone());
                    changed = true;
                }
                if order.courier_name.is_none()
                    && let Some(c) = news.courier.as_ref().filter(|c| c.name.is_some())
                {
                    set_courier(&mut am, c, now);
                    changed = true;
                }
            }
            if update.status == current
                && order.cancel_reason.is_none()
                && update.cancel_reason.is_some()
            {
                am.cancel_reason = Set(update.cancel_reason.clone());
                changed = true;
            }
            if changed {
                am.updated_at = Set(now);
                am.update(&txn).await?;
            }
        }
        let raw_differs = update.raw_status != order.raw_status;
        let change = StatusChange {
            event_id: 0,
            order_id: order.id,
            provider,
            from: Some(current),
            to: update.status,
            raw_status: update.raw_status,
            source: update.source,
            occurred_at: update.occurred_at,
            detail: update.detail,
            kind: EventKind::Status,
        };
        let change = self.record_event(&txn, change, moves).await?;
        txn.commit().await?;

        if let Some(inbound) = &update.inbound {
            metrics::counter!("orderhub_callbacks_total", "provider" => inbound.provider.as_str(), "outcome" => "accepted").increment(1);
        }
        let event_id = change.event_id;
        // Callbacks the timeline cannot order for sure: a late one that disagrees with the
        // order, or a move between two codes of one status (Dada's 1 and 8 can swap within a
        // second). The platform is asked which is current.
        let disputed = if moves { raw_moves } else { raw_differs };
        if update.inbound.is_some() && disputed {
            self.confirm_in_background(provider, order.id);
        }
        if !moves {
            return Ok(ApplyOutcome::RecordedOnly { event_id });
        }
        self.bus.publish(change);
        Ok(ApplyOutcome::Applied { event_id })
    }
}

fn apply_delivery_news(am: &mut orders::ActiveModel, news: &DeliveryNews, now: DateTime<Utc>) {
    if let Some(r) = news.platform_ref.as_ref().filter(|r| !r.is_empty()) {
        am.platform_ref = Set(Some(r.clone()));
    }
    if let Some(c) = news
        .courier
        .as_ref()
        .filter(|c| c.name.is_some() || c.id.is_some())
    {
        set_courier(am, c, now);
    }
    if let Some(code) = news.finish_code.as_ref().filter(|c| !c.is_empty()) {
        am.finish_code = Set(Some(code.clone()));
    }
    if let Some(p) = news.penalty {
        am.penalty_fen = Set(Some(p.fen()));
    }
    if let Some(f) = &news.fees {
        super::delivery::set_fees(am, f);
    }
    if let Some(d) = news.distance_m {
        am.distance_m = Set(Some(d));
    }
    if let Some(eta) = news.courier_eta {
        am.courier_eta = Set(Some(eta));
    }
}

pub(super) fn set_courier(am: &mut orders::ActiveModel, c: &Courier, now: DateTime<Utc>) {
    if c.id.is_some() {
        am.courier_id = Set(c.id.clone());
    }
    if c.name.is_some() {
        am.courier_name = Set(c.name.clone());
    }
    if c.phone.is_some() {
        am.courier_phone = Set(c.phone.clone());
    }
    if let Some(p) = c.position {
        am.courier_lng = Set(Some(p.lng));
        am.courier_lat = Set(Some(p.lat));
    }
    am.courier_seen_at = Set(Some(now));
}

/// Inserts the callback's row; false when the same callback was already recorded.
pub(super) async fn record_inbound(
    txn: &DatabaseTransaction,
    inbound: &InboundRecord,
    order_id: i64,
) -> Result<bool, DbErr> {
    let row = inbound_callback::ActiveModel {
        provider: Set(inbound.provider.as_str().to_owned()),
        kind: Set(inbound.kind.to_owned()),
        dedup_key: Set(inbound.dedup_key.clone()),
        order_id: Set(Some(order_id)),
        payload: Set(inbound.payload.clone()),
        received_at: Set(Utc::now()),
        ..Default::default()
    };
    let inserted = inbound_callback::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                inbound_callback::Column::Provider,
                inbound_callback::Column::DedupKey,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    Ok(inserted > 0)
}
