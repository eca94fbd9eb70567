//! A courier asking to cancel (Dada's message push): recorded and streamed, then answered
//! by the merchant (`respondToCourierCancellation`) or by the configured policy through the
//! outbox, whose row this module also performs.

use chrono::Utc;
use entity::orders;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DbErr, TransactionTrait};
use serde::{Deserialize, Serialize};

use crate::orders::{OrderError, OrderService, UserError, UserErrorCode, provider_user_error};
use crate::{
    domain::delivery::CourierCancelPolicy,
    domain::{EventKind, EventSource, OrderStatus, ProviderId},
    events::StatusChange,
    outbox,
    providers::{ProviderError, with_timeout},
};

use super::lock;

/// A courier's request to cancel, as the message route hands it over.
#[derive(Clone, Debug)]
pub struct CourierCancelRequest {
    pub provider: ProviderId,
    pub origin_id: String,
    pub platform_order_id: String,
    pub reason: Option<String>,
    pub dedup_key: String,
    pub payload: String,
}

/// The operation name of the outbox rows that answer a courier's request to cancel.
pub const ANSWER_COURIER_CANCELLATION: &str = "ANSWER_COURIER_CANCELLATION";

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AnswerPayload {
    pub accept: bool,
}

impl OrderService {
    /// Answers a courier's pending request to cancel.
    pub async fn respond_to_courier_cancellation(
        &self,
        id: i64,
        accept: bool,
    ) -> Result<orders::Model, OrderError> {
        let (order, network) = self.delivery_order(id).await?;
        let (Some(reference), Some("PENDING")) = (
            order.courier_cancel_ref.clone(),
            order.courier_cancel_answer.as_deref(),
        ) else {
            return Err(UserError::new(
                &["orderId"],
                UserErrorCode::InvalidState,
                "no courier is waiting for an answer on this order",
            )
            .into());
        };
        let order_ref = self.order_ref(&order).await?;
        with_timeout(
            network.id(),
            self.delivery.timeout,
            network.answer_courier_cancellation(&order_ref, &reference, accept),
        )
        .await
        .map_err(|e| provider_user_error(&e))?;
        self.record_courier_answer(id, accept, EventSource::Api)
            .await
    }

    pub(crate) async fn record_courier_answer(
        &self,
        id: i64,
        accept: bool,
        source: EventSource,
    ) -> Result<orders::Model, OrderError> {
        let answer = if accept { "ACCEPTED" } else { "REJECTED" };
        let by = match source {
            EventSource::Api => "by us",
            _ => "automatically",
        };
        self.note_event(
            id,
            EventKind::CourierCancelAnswered,
            format!("courier's cancel request {} {by}", answer.to_lowercase()),
            |am, _| am.courier_cancel_answer = Set(Some(answer.to_owned())),
        )
        .await
    }

    /// Records a courier's request to cancel (idempotent per message), streams it, and when
    /// the policy answers automatically queues the answer in the outbox, all in one
    /// transaction. Returns None when the order is not ours.
    pub async fn record_courier_cancel_request(
        &self,
        req: CourierCancelRequest,
    ) -> Result<Option<crate::orders::ApplyOutcome>, DbErr> {
        let Some(order) = self.by_external_id(req.provider, &req.origin_id).await? else {
            return Ok(None);
        };
        let policy = self.delivery.courier_cancel_policy;
        let txn = self.db.begin().await?;
        let inbound = crate::orders::InboundRecord {
            provider: req.provider,
            kind: "message",
            dedup_key: req.dedup_key.clone(),
            payload: req.payload.clone(),
        };
        if !crate::orders::status::record_inbound(&txn, &inbound, order.id).await? {
            txn.rollback().await?;
            metrics::counter!("orderhub_callbacks_total", "provider" => req.provider.as_str(), "outcome" => "duplicate").increment(1);
            return Ok(Some(crate::orders::ApplyOutcome::Duplicate));
        }
        let order = lock(&txn, order.id).await?;
        let now = Utc::now();
        let mut am: orders::ActiveModel = order.clone().into();
        am.courier_cancel_reason = Set(req.reason.clone());
        am.courier_cancel_ref = Set(Some(req.platform_order_id.clone()));
        am.courier_cancel_at = Set(Some(now));
        am.courier_cancel_answer = Set(Some("PENDING".into()));
        am.updated_at = Set(now);
        am.update(&txn).await?;
        if policy != CourierCancelPolicy::Manual {
            let payload = AnswerPayload {
                accept: policy == CourierCancelPolicy::Accept,
            };
            outbox::enqueue(
                &txn,
                req.provider,
                ANSWER_COURIER_CANCELLATION,
                Some(order.id),
                &serde_json::to_string(&payload).map_err(|e| DbErr::Custom(e.to_string()))?,
            )
            .await?;
        }
        let status = order
            .status
            .parse::<OrderStatus>()
            .map_err(|e| DbErr::Custom(e.to_string()))?;
        let change = self
            .record_event(
                &txn,
                StatusChange {
                    event_id: 0,
                    order_id: order.id,
                    provider: req.provider,
                    from: Some(status),
                    to: status,
                    raw_status: order.raw_status.clone(),
                    source: EventSource::Callback,
                    occurred_at: now,
                    detail: Some(format!(
                        "courier asks to cancel: {}",
                        req.reason.as_deref().unwrap_or("no reason given")
                    )),
                    kind: EventKind::CourierCancelRequested,
                },
                true,
            )
            .await?;
        txn.commit().await?;
        metrics::counter!("orderhub_callbacks_total", "provider" => req.provider.as_str(), "outcome" => "accepted").increment(1);
        let event_id = change.event_id;
        self.bus.publish(change);
        if policy != CourierCancelPolicy::Manual {
            self.outbox_wake.notify_one();
        }
        Ok(Some(crate::orders::ApplyOutcome::Applied { event_id }))
    }

    /// Runs one outbox row that belongs to deliveries. Returns the failure text to retry on.
    pub async fn perform_delivery_outbox(
        &self,
        provider: ProviderId,
        operation: &str,
        order_id: Option<i64>,
        payload: &str,
    ) -> Result<(), outbox::Failure> {
        match operation {
            ANSWER_COURIER_CANCELLATION => {
                let answer: AnswerPayload = serde_json::from_str(payload)
                    .map_err(|e| outbox::Failure::Permanent(format!("payload: {e}")))?;
                let id = order_id.ok_or_else(|| outbox::Failure::Permanent("no order".into()))?;
                let order = self
                    .get(id)
                    .await
                    .map_err(|e| outbox::Failure::Retry(e.to_string()))?
                    .ok_or_else(|| outbox::Failure::Permanent(format!("order {id} is gone")))?;
                if order.courier_cancel_answer.as_deref() != Some("PENDING") {
                    // Answered by hand in the meantime.
                    return Ok(());
                }
                let network = self
                    .courier(provider)
                    .cloned()
                    .ok_or_else(|| outbox::Failure::Retry(format!("{provider} is not enabled")))?;
                let (Ok(order_ref), Some(reference)) = (
                    self.order_ref(&order).await,
                    order.courier_cancel_ref.clone(),
                ) else {
                    return Err(outbox::Failure::Permanent("order lacks references".into()));
                };
                match with_timeout(
                    provider,
                    self.delivery.timeout,
                    network.answer_courier_cancellation(&order_ref, &reference, answer.accept),
                )
                .await
                {
                    Ok(()) => {}
                    Err(e @ ProviderError::Rejected { .. }) => {
                        return Err(outbox::Failure::Permanent(e.to_string()));
                    }
                    Err(e) => return Err(outbox::Failure::Retry(e.to_string())),
                }
                self.record_courier_answer(id, answer.accept, EventSource::Callback)
                    .await
                    .map_err(|e| outbox::Failure::Retry(format!("{e:?}")))?;
                Ok(())
            }
            other => Err(outbox::Failure::Permanent(format!(
                "unknown operation {other}"
            ))),
        }
    }
}
