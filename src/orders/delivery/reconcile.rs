//! Reconciling with the platform: asking it for an order's status when a callback may be
//! lost, disputed, or when a dispatch's outcome is unknown.

use chrono::Utc;
use entity::orders;

use crate::orders::{OrderError, OrderService};
use crate::{
    domain::{EventSource, OrderStatus, ProviderId},
    providers::{ProviderError, RejectKind, delivery::CourierNetwork, with_timeout},
};

use super::{SUBMIT_UNKNOWN, SUBMITTING, dispatched_from, floor_secs};

/// How long after disputed news the platform is asked (and asked again while the order is
/// still being dispatched).
const CONFIRM_DELAY: std::time::Duration = std::time::Duration::from_millis(300);

impl OrderService {
    /// What the platform itself says of a delivery's status now (unified and raw), for news
    /// that must not be taken on the word of a callback whose signature proves nothing.
    pub async fn platform_status(
        &self,
        order_id: i64,
    ) -> Result<(OrderStatus, String), OrderError> {
        let (order, network) = self.delivery_order(order_id).await?;
        let reference = self.order_ref(&order).await?;
        let detail = with_timeout(
            network.id(),
            self.delivery.timeout,
            network.detail(&reference),
        )
        .await
        .map_err(|e| crate::orders::provider_user_error(&e))?;
        Ok((detail.status, detail.raw_status))
    }

    /// Applies what a poll of the platform says about a delivery: a lost callback's change,
    /// or the fate of a dispatch whose answer never came.
    pub async fn reconcile_delivery(
        &self,
        network: &dyn CourierNetwork,
        order: &orders::Model,
    ) -> Result<(), OrderError> {
        if order.external_id.is_none() {
            return Ok(());
        }
        let reference = self.order_ref(order).await?;
        let provider = network.id();
        match with_timeout(provider, self.delivery.timeout, network.detail(&reference)).await {
            Ok(detail) => {
                if order.raw_status == SUBMIT_UNKNOWN || order.raw_status == SUBMITTING {
                    let done = dispatched_from(&detail);
                    if !self
                        .complete_unanswered_dispatch(order, provider, &done)
                        .await?
                    {
                        // Answered (or sent again) since `order` was read: what the platform
                        // says now is judged by the next callback or poll, against the
                        // order as it is.
                        return Ok(());
                    }
                }
                if detail.raw_status != order.raw_status {
                    let courier = detail.courier.clone();
                    let update = crate::orders::StatusUpdate {
                        order_id: order.id,
                        status: detail.status,
                        raw_status: detail.raw_status.clone(),
                        source: EventSource::Poll,
                        occurred_at: floor_secs(Utc::now()),
                        detail: detail.status_message.clone(),
                        cancel_reason: None,
                        inbound: None,
                        delivery: Some(crate::orders::DeliveryNews {
                            platform_ref: None,
                            courier: (courier.name.is_some()).then_some(courier),
                            finish_code: detail.finish_code.clone(),
                            penalty: detail.penalty.filter(|p| p.fen() > 0),
                            fees: None,
                            distance_m: None,
                            courier_eta: None,
                        }),
                    };
                    self.apply_status(update).await?;
                }
                Ok(())
            }
            Err(ProviderError::Rejected {
                kind: RejectKind::NotFound,
                ..
            }) if order.raw_status == SUBMIT_UNKNOWN || order.raw_status == SUBMITTING => {
                // The platform never got it.
                let update = crate::orders::StatusUpdate {
                    order_id: order.id,
                    status: OrderStatus::Failed,
                    raw_status: "NOT_SUBMITTED".into(),
                    source: EventSource::Poll,
                    occurred_at: Utc::now(),
                    detail: Some(format!(
                        "{provider} has no such order: the dispatch never arrived"
                    )),
                    cancel_reason: Some("the dispatch never reached the platform".into()),
                    inbound: None,
                    delivery: None,
                };
                self.apply_status(update).await?;
                Ok(())
            }
            Err(e) => {
                tracing::warn!(error = %e, order_id = order.id, "delivery poll failed");
                Ok(())
            }
        }
    }

    /// Asks the platform for the order's status a moment from now, in the background. For
    /// news whose order cannot be told from what it says: platforms date callbacks in whole
    /// seconds, so two changes within one second (appointed, then withdrawn) look alike, and
    /// a repeat of the first is indistinguishable from the last.
    pub(in crate::orders) fn confirm_in_background(&self, provider: ProviderId, order_id: i64) {
        let Some(network) = self.courier(provider).cloned() else {
            return;
        };
        let this = self.clone();
        // A dispatch on its way (a re-dispatch whose answer has not come) is left to its
        // request, as the poller leaves it: the request completes it, and the confirmation
        // then compares the platform with that. Past the request's timeout it has ended.
        let patience = self.delivery.timeout + CONFIRM_DELAY;
        tokio::spawn(async move {
            let started = tokio::time::Instant::now();
            let found = loop {
                tokio::time::sleep(CONFIRM_DELAY).await;
                match this.get(order_id).await {
                    Ok(Some(o)) if o.raw_status == SUBMITTING && started.elapsed() < patience => {}
                    other => break other,
                }
            };
            match found {
                Ok(Some(order)) => {
                    if let Err(e) = this.reconcile_delivery(network.as_ref(), &order).await {
                        tracing::warn!(error = ?e, order_id, "confirming a delivery's status failed");
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %e, order_id, "confirming a delivery's status failed")
                }
            }
        });
    }
}
