//! What a merchant does with a dispatched delivery and its courier: tips, cancellation with
//! its penalty, appointing and releasing a courier, complaints, returned goods, the
//! sandbox's status simulation, and the live courier fields (position, tracking page).

use chrono::Utc;
use entity::orders;
use sea_orm::{ActiveModelTrait, ActiveValue::Set};

use crate::orders::{OrderError, OrderService, UserError, UserErrorCode, provider_user_error};
use crate::{
    domain::{EventKind, EventSource, GeoPoint, Money, OrderStatus, ProviderId},
    providers::{ProviderError, RejectKind, delivery::Courier, with_timeout},
};

use super::floor_secs;

/// The text sent with "other" when the caller gave no reason at all: the platforms require a
/// text with "other" (WeChat's 6, Dada's 10000), and this is WeChat's own label for it.
const UNSTATED_CANCEL_REASON: &str = "其他原因";

/// The reason id and text a cancellation (or its preview) sends: as given; a text alone is
/// "other" with that text; nothing at all is "other" with [`UNSTATED_CANCEL_REASON`]. A
/// listed reason chosen without a text goes as it is (the adapter supplies the label, or
/// refuses "other" chosen explicitly without saying what it is).
fn cancel_reason(other: i64, reason_id: Option<i64>, reason: Option<String>) -> (i64, String) {
    let text = reason.filter(|r| !r.trim().is_empty());
    match (reason_id, text) {
        (Some(id), text) => (id, text.unwrap_or_default()),
        (None, Some(text)) => (other, text),
        (None, None) => (other, UNSTATED_CANCEL_REASON.to_owned()),
    }
}

/// What a merchant has the network do about a delivery's courier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CourierAction {
    /// Appoints the delivery to one of the store's couriers.
    Assign { courier_id: String },
    /// Withdraws an appointment the courier has not accepted yet.
    Unassign,
    /// Files a complaint about the courier, for one of the network's reasons.
    Complain { reason_id: i64 },
    /// Confirms the store got back the goods of an undeliverable order.
    ConfirmReturnedGoods,
}

impl CourierAction {
    /// The timeline event it leaves, with its detail.
    fn note(&self) -> (EventKind, String) {
        match self {
            CourierAction::Assign { courier_id } => (
                EventKind::CourierAppointed,
                format!("appointed to courier {courier_id}"),
            ),
            CourierAction::Unassign => (
                EventKind::CourierAppointmentCancelled,
                "appointment cancelled".into(),
            ),
            CourierAction::Complain { reason_id } => (
                EventKind::ComplaintFiled,
                format!("complaint filed (reason {reason_id})"),
            ),
            CourierAction::ConfirmReturnedGoods => (
                EventKind::ReturnedGoodsConfirmed,
                "returned goods confirmed".into(),
            ),
        }
    }
}

impl OrderService {
    /// Raises the tip to `total` (the new total tip, not an increment).
    #[tracing::instrument(skip_all, fields(order_id = id))]
    pub async fn add_tip(
        &self,
        id: i64,
        total: Money,
        note: Option<String>,
    ) -> Result<orders::Model, OrderError> {
        if total.fen() <= 0 {
            return Err(UserError::new(
                &["tip"],
                UserErrorCode::InvalidInput,
                "tip must be positive",
            )
            .into());
        }
        let (order, network) = self.delivery_order(id).await?;
        let reference = self.order_ref(&order).await?;
        with_timeout(
            network.id(),
            self.delivery.timeout,
            network.add_tip(&reference, total, note.as_deref()),
        )
        .await
        .map_err(|e| provider_user_error(&e))?;
        self.note_event(
            id,
            EventKind::TipAdded,
            format!("tip raised to {total}"),
            |am, o| {
                let before = o.tips_fen.unwrap_or(0);
                am.tips_fen = Set(Some(total.fen()));
                am.fee_fen = Set(o.fee_fen + (total.fen() - before).max(0));
                am.total_fen = Set(o.total_fen + (total.fen() - before).max(0));
            },
        )
        .await
    }

    /// Cancels on the platform with a reason; the penalty it keeps is stored on the order.
    #[tracing::instrument(skip_all, fields(order_id = id))]
    pub async fn cancel_delivery(
        &self,
        id: i64,
        reason_id: Option<i64>,
        reason: Option<String>,
    ) -> Result<(orders::Model, Money), OrderError> {
        let (order, network) = self.delivery_order(id).await?;
        let reference = self.order_ref(&order).await?;
        let (reason_id, text) = cancel_reason(network.other_cancel_reason_id(), reason_id, reason);
        let penalty = with_timeout(
            network.id(),
            self.delivery.timeout,
            network.cancel(&reference, reason_id, &text),
        )
        .await
        .map_err(|e| provider_user_error(&e))?;
        let label = if text.trim().is_empty() {
            format!("reason {reason_id}")
        } else {
            text.clone()
        };
        // Where a cancellation leads depends on the company and the moment (after pick-up
        // the goods come back: WeChat's 303, not 103), so ask; assume the plain cancelled
        // status only when the platform cannot say right now.
        let (status, raw_status) = match with_timeout(
            network.id(),
            self.delivery.timeout,
            network.detail(&reference),
        )
        .await
        {
            Ok(d) if d.status == OrderStatus::Cancelled || d.status == OrderStatus::Returning => {
                (d.status, d.raw_status)
            }
            _ => (
                OrderStatus::Cancelled,
                network.raw_status_cancelled().to_owned(),
            ),
        };
        let update = crate::orders::StatusUpdate {
            order_id: id,
            status,
            raw_status,
            source: EventSource::Api,
            occurred_at: floor_secs(Utc::now()),
            detail: Some(format!("cancelled by us: {label}; penalty {penalty}")),
            cancel_reason: Some(label.clone()),
            inbound: None,
            delivery: Some(crate::orders::DeliveryNews {
                penalty: Some(penalty),
                ..Default::default()
            }),
        };
        self.apply_status(update).await?;
        // The platform's own news of the cancellation may have been written first (then the
        // update above moved nothing): the penalty and our reason are ours to record anyway.
        let order = self.get_or_gone(id).await?;
        if order.penalty_fen.is_none() || order.cancel_reason.as_deref() != Some(label.as_str()) {
            let mut am: orders::ActiveModel = order.into();
            am.penalty_fen = Set(Some(penalty.fen()));
            am.cancel_reason = Set(Some(label));
            am.updated_at = Set(Utc::now());
            am.update(&self.db).await?;
        }
        let order = self.get_or_gone(id).await?;
        Ok((order, penalty))
    }

    /// Has the network do `action` to the order's courier, then notes it in the timeline.
    #[tracing::instrument(skip_all, fields(order_id = id))]
    pub async fn courier_action(
        &self,
        id: i64,
        action: CourierAction,
    ) -> Result<orders::Model, OrderError> {
        let (order, network) = self.delivery_order(id).await?;
        let reference = self.order_ref(&order).await?;
        let call = async {
            match &action {
                CourierAction::Assign { courier_id } => {
                    network.appoint(&reference, courier_id).await
                }
                CourierAction::Unassign => network.cancel_appointment(&reference).await,
                CourierAction::Complain { reason_id } => {
                    network.complain(&reference, *reason_id).await
                }
                CourierAction::ConfirmReturnedGoods => {
                    network.confirm_returned_goods(&reference).await
                }
            }
        };
        with_timeout(network.id(), self.delivery.timeout, call)
            .await
            .map_err(|e| provider_user_error(&e))?;
        let (kind, detail) = action.note();
        self.note_event(id, kind, detail, |_, _| {}).await
    }

    /// Test environments only: has the platform move the order as a courier would. Nothing
    /// is written here; the change arrives through the platform's callback or push.
    pub async fn simulate_delivery_status(
        &self,
        id: i64,
        raw_status: i64,
    ) -> Result<orders::Model, OrderError> {
        let (order, network) = self.delivery_order(id).await?;
        let reference = self.order_ref(&order).await?;
        with_timeout(
            network.id(),
            self.delivery.timeout,
            network.simulate_status(&reference, raw_status),
        )
        .await
        .map_err(|e| provider_user_error(&e))?;
        Ok(order)
    }

    pub async fn appointable_couriers(&self, shop_id: i64) -> Result<Vec<Courier>, OrderError> {
        let (shop, provider) = self.store_of(shop_id).await?;
        let network = self.courier_or_refuse(provider, &["shopId"])?;
        with_timeout(
            provider,
            self.delivery.timeout,
            network.appointable_couriers(&shop.external_id),
        )
        .await
        .map_err(|e| provider_user_error(&e).into())
    }

    /// The courier's position now, asked of the platform, and stored on the order; the
    /// stored one when the platform cannot say.
    pub async fn courier_position(
        &self,
        order: &orders::Model,
    ) -> Result<Option<GeoPoint>, ProviderError> {
        let stored = match (order.courier_lng, order.courier_lat) {
            (Some(lng), Some(lat)) => GeoPoint::new(lng, lat),
            _ => None,
        };
        let (Some(origin), Ok(provider)) = (
            order.external_id.clone(),
            order.provider.parse::<ProviderId>(),
        ) else {
            return Ok(stored);
        };
        let Some(network) = self.courier(provider).cloned() else {
            return Ok(stored);
        };
        let asked = with_timeout(
            provider,
            self.delivery.timeout,
            network.courier_positions(std::slice::from_ref(&origin)),
        )
        .await;
        let seen = match asked {
            Ok(positions) => positions
                .into_iter()
                .find(|p| p.origin_id == origin)
                .and_then(|p| p.courier.position),
            // Networks without a position call tell it with the order's detail.
            Err(ProviderError::Rejected {
                kind: RejectKind::Unsupported,
                ..
            }) => {
                let reference =
                    self.order_ref(order)
                        .await
                        .map_err(|e| ProviderError::Protocol {
                            provider,
                            detail: format!("{e:?}"),
                        })?;
                with_timeout(provider, self.delivery.timeout, network.detail(&reference))
                    .await?
                    .courier
                    .position
            }
            Err(e) => return Err(e),
        };
        let Some(seen) = seen else {
            return Ok(stored);
        };
        let mut am: orders::ActiveModel = order.clone().into();
        am.courier_lng = Set(Some(seen.lng));
        am.courier_lat = Set(Some(seen.lat));
        am.courier_seen_at = Set(Some(Utc::now()));
        if let Err(e) = am.update(&self.db).await {
            tracing::warn!(error = %e, order_id = order.id, "storing the courier's position failed");
        }
        Ok(Some(seen))
    }

    pub async fn track_url(&self, order: &orders::Model) -> Result<Option<String>, ProviderError> {
        let Ok(provider) = order.provider.parse::<ProviderId>() else {
            return Ok(None);
        };
        let Some(network) = self.courier(provider).cloned() else {
            return Ok(None);
        };
        let Ok(reference) = self.order_ref(order).await else {
            return Ok(None);
        };
        match with_timeout(
            provider,
            self.delivery.timeout,
            network.track_url(&reference),
        )
        .await
        {
            Ok(url) => Ok(Some(url)),
            Err(ProviderError::Rejected {
                kind: RejectKind::Unsupported,
                ..
            }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// What cancelling would cost now (the platform's preview), without cancelling.
    pub async fn preview_cancellation(
        &self,
        id: i64,
        reason_id: Option<i64>,
        reason: Option<String>,
    ) -> Result<crate::providers::delivery::CancelPreview, OrderError> {
        let (order, network) = self.delivery_order(id).await?;
        let reference = self.order_ref(&order).await?;
        let (reason_id, text) = cancel_reason(network.other_cancel_reason_id(), reason_id, reason);
        with_timeout(
            network.id(),
            self.delivery.timeout,
            network.preview_cancel(&reference, reason_id, &text),
        )
        .await
        .map_err(|e| provider_user_error(&e).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_absent_reason_is_other_with_a_text() {
        assert_eq!(
            cancel_reason(6, None, None),
            (6, UNSTATED_CANCEL_REASON.to_owned())
        );
        assert_eq!(
            cancel_reason(6, None, Some("  ".into())),
            (6, UNSTATED_CANCEL_REASON.to_owned())
        );
        assert_eq!(
            cancel_reason(10000, None, Some("顾客改主意了".into())),
            (10000, "顾客改主意了".to_owned())
        );
        // A chosen reason goes as chosen: its label (or the refusal of a bare "other") is
        // the adapter's business.
        assert_eq!(cancel_reason(6, Some(1), None), (1, String::new()));
        assert_eq!(cancel_reason(6, Some(6), None), (6, String::new()));
        assert_eq!(
            cancel_reason(6, Some(2), Some("太贵".into())),
            (2, "太贵".to_owned())
        );
    }
}
