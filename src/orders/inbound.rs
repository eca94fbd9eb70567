//! Orders pushed to us (58 Daojia): taken in once however often they are pushed, worked by our
//! staff along 58's allowed sequences, and every change synced back through the outbox, in the
//! same transaction as the change, so a change is never lost or sent twice.

use chrono::Utc;
use entity::{order_event, orders, technician};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait, sea_query::OnConflict,
};
use serde::{Deserialize, Serialize};

use super::{OrderError, OrderService, UserError, UserErrorCode, provider_user_error};
use crate::{
    domain::{Direction, EventKind, EventSource, OrderStatus, ProviderId},
    events::StatusChange,
    outbox,
    providers::{OrderSource, ProviderError, SourceStep, StatusSync, TechnicianProfile},
};

/// The outbox operation that syncs an order's status (and technician) to 58.
pub const UPDATE_ORDER_DETAIL: &str = "UPDATE_ORDER_DETAIL";

/// What our staff do to an order pushed to us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboundAction {
    Accept,
    RequestPayment,
    ConfirmPayment,
    StartService,
    Complete,
    Cancel,
}

impl InboundAction {
    fn step(self) -> SourceStep {
        match self {
            Self::Accept => SourceStep::Accept,
            Self::RequestPayment => SourceStep::RequestPayment,
            Self::ConfirmPayment => SourceStep::ConfirmPayment,
            Self::StartService => SourceStep::StartService,
            Self::Complete => SourceStep::Complete,
            Self::Cancel => SourceStep::Cancel,
        }
    }
}

/// A technician to register with the platform.
#[derive(Debug, Clone)]
pub struct NewTechnician {
    pub external_id: String,
    pub name: String,
    pub phone: String,
    pub age: Option<i32>,
    /// `M` or `F`.
    pub sex: Option<String>,
    pub remark: Option<String>,
}

impl OrderService {
    /// The platform that pushes orders to us, when enabled.
    fn order_source(&self) -> Result<std::sync::Arc<dyn OrderSource>, UserError> {
        self.order_source.clone().ok_or_else(|| {
            UserError::new(
                &[],
                UserErrorCode::UnsupportedByProvider,
                "58 Daojia is not enabled",
            )
        })
    }

    async fn inbound_order(&self, id: i64) -> Result<orders::Model, OrderError> {
        let order = self.get(id).await?.ok_or_else(|| {
            UserError::new(&["orderId"], UserErrorCode::NotFound, "no such order")
        })?;
        if order.provider != ProviderId::Daojia58.as_str()
            || order.direction != Direction::Inbound.as_str()
        {
            return Err(UserError::new(
                &["orderId"],
                UserErrorCode::UnsupportedByProvider,
                "only orders pushed to us by 58 Daojia are worked this way",
            )
            .into());
        }
        Ok(order)
    }

    /// Moves an order pushed to us one step along 58's sequences, and queues the sync.
    #[tracing::instrument(skip_all, fields(order_id = id))]
    pub async fn work_inbound(
        &self,
        id: i64,
        action: InboundAction,
        reason: Option<String>,
    ) -> Result<orders::Model, OrderError> {
        self.inbound_order(id).await?;
        let source = self.order_source()?;
        let next = source.step_code(action.step());
        let txn = self.db.begin().await?;
        let order = orders::Entity::find_by_id(id)
            .lock_exclusive()
            .one(&txn)
            .await?
            .ok_or_else(|| DbErr::RecordNotFound(format!("order {id}")))?;
        let history = raw_history(&txn, id).await?;
        if !source.allows(&history, next) {
            txn.rollback().await?;
            let from = history.last().copied().unwrap_or(0);
            return Err(UserError::new(
                &["action"],
                UserErrorCode::InvalidState,
                source.refusal(from, next),
            )
            .into());
        }
        let current: OrderStatus = order
            .status
            .parse()
            .map_err(|e| DbErr::Custom(format!("order {id}: {e}")))?;
        let to = source.unified(next, current).unwrap_or(current);
        let now = Utc::now();
        let mut am: orders::ActiveModel = order.clone().into();
        am.status = Set(to.as_str().to_owned());
        am.raw_status = Set(next.to_string());
        am.status_at = Set(Some(now));
        am.updated_at = Set(now);
        if action == InboundAction::Cancel {
            am.cancel_reason = Set(reason.clone().filter(|r| !r.trim().is_empty()));
        }
        let order = am.update(&txn).await?;
        self.queue_sync(&txn, &order, next).await?;
        let change = self
            .record_event(
                &txn,
                StatusChange {
                    event_id: 0,
                    order_id: id,
                    provider: ProviderId::Daojia58,
                    from: Some(current),
                    to,
                    raw_status: next.to_string(),
                    source: EventSource::Api,
                    occurred_at: now,
                    detail: Some(source.describe(next).to_owned()),
                    kind: EventKind::Status,
                },
                true,
            )
            .await?;
        txn.commit().await?;
        self.bus.publish(change);
        self.outbox_wake.notify_one();
        Ok(order)
    }

    /// Puts a registered technician on an order pushed to us, and queues the sync.
    #[tracing::instrument(skip_all, fields(order_id = id))]
    pub async fn assign_technician(
        &self,
        id: i64,
        technician_id: i64,
    ) -> Result<orders::Model, OrderError> {
        self.inbound_order(id).await?;
        let tech = technician::Entity::find_by_id(technician_id)
            .one(&self.db)
            .await?
            .filter(|t| t.provider == ProviderId::Daojia58.as_str() && t.active)
            .ok_or_else(|| {
                UserError::new(
                    &["technicianId"],
                    UserErrorCode::NotFound,
                    "no such active technician registered with 58",
                )
            })?;
        let txn = self.db.begin().await?;
        let order = orders::Entity::find_by_id(id)
            .lock_exclusive()
            .one(&txn)
            .await?
            .ok_or_else(|| DbErr::RecordNotFound(format!("order {id}")))?;
        let status: OrderStatus = order
            .status
            .parse()
            .map_err(|e| DbErr::Custom(format!("order {id}: {e}")))?;
        // Still booking (not yet accepted) is the only pending status of a pushed order.
        let raw: Option<i64> = order.raw_status.parse().ok();
        let Some(raw) = raw.filter(|_| !status.is_terminal() && status != OrderStatus::Pending)
        else {
            txn.rollback().await?;
            return Err(UserError::new(
                &["orderId"],
                UserErrorCode::InvalidState,
                "a technician can be assigned once the order is accepted and until it ends",
            )
            .into());
        };
        let now = Utc::now();
        let mut am: orders::ActiveModel = order.clone().into();
        am.technician_id = Set(Some(tech.id));
        am.courier_name = Set(Some(tech.name.clone()));
        am.courier_phone = Set(Some(tech.phone.clone()));
        am.courier_seen_at = Set(Some(now));
        am.updated_at = Set(now);
        let order = am.update(&txn).await?;
        self.queue_sync(&txn, &order, raw).await?;
        let change = self
            .record_event(
                &txn,
                StatusChange {
                    event_id: 0,
                    order_id: id,
                    provider: ProviderId::Daojia58,
                    from: Some(status),
                    to: status,
                    raw_status: order.raw_status.clone(),
                    source: EventSource::Api,
                    occurred_at: now,
                    detail: Some(format!("technician {} ({})", tech.name, tech.external_id)),
                    kind: EventKind::TechnicianAssigned,
                },
                true,
            )
            .await?;
        txn.commit().await?;
        self.bus.publish(change);
        self.outbox_wake.notify_one();
        Ok(order)
    }

    /// Queues `updateOrderDetail` for the order's state now, in the caller's transaction.
    async fn queue_sync(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        order: &orders::Model,
        code: i64,
    ) -> Result<(), DbErr> {
        let order_id: i64 = order
            .external_id
            .as_deref()
            .and_then(|e| e.parse().ok())
            .ok_or_else(|| DbErr::Custom(format!("order {}: no 58 order id", order.id)))?;
        let payload = SyncPayload {
            order_id,
            third_order_id: order.id.to_string(),
            order_status: code,
            service_user_name: order.courier_name.clone(),
            service_user_phone: order.courier_phone.clone(),
        };
        outbox::enqueue(
            txn,
            ProviderId::Daojia58,
            UPDATE_ORDER_DETAIL,
            Some(order.id),
            &serde_json::to_string(&payload).map_err(|e| DbErr::Custom(e.to_string()))?,
        )
        .await?;
        Ok(())
    }

    /// Registers a technician with 58, then stores them.
    pub async fn register_technician(
        &self,
        t: NewTechnician,
    ) -> Result<technician::Model, OrderError> {
        let mut errors = Vec::new();
        for (field, value) in [
            ("externalId", &t.external_id),
            ("name", &t.name),
            ("phone", &t.phone),
        ] {
            if value.trim().is_empty() {
                errors.push(UserError::new(
                    &[field],
                    UserErrorCode::InvalidInput,
                    format!("{field} is required"),
                ));
            }
        }
        if t.sex.as_deref().is_some_and(|s| s != "M" && s != "F") {
            errors.push(UserError::new(
                &["sex"],
                UserErrorCode::InvalidInput,
                "sex is M or F",
            ));
        }
        if !errors.is_empty() {
            return Err(OrderError::User(errors));
        }
        self.order_source()?
            .register_technician(&TechnicianProfile {
                external_id: t.external_id.trim().to_owned(),
                name: t.name.trim().to_owned(),
                phone: t.phone.trim().to_owned(),
                age: t.age,
                male: t.sex.as_deref().map(|s| s == "M"),
                remark: t.remark.clone().unwrap_or_default(),
            })
            .await
            .map_err(|e| provider_user_error(&e))?;
        let row = technician::ActiveModel {
            provider: Set(ProviderId::Daojia58.as_str().to_owned()),
            external_id: Set(t.external_id.trim().to_owned()),
            name: Set(t.name.trim().to_owned()),
            phone: Set(t.phone.trim().to_owned()),
            age: Set(t.age),
            sex: Set(t.sex),
            remark: Set(t.remark),
            active: Set(true),
            created_at: Set(Utc::now()),
            ..Default::default()
        };
        technician::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([technician::Column::Provider, technician::Column::ExternalId])
                    .update_columns([
                        technician::Column::Name,
                        technician::Column::Phone,
                        technician::Column::Age,
                        technician::Column::Sex,
                        technician::Column::Remark,
                        technician::Column::Active,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await?;
        technician::Entity::find()
            .filter(technician::Column::Provider.eq(ProviderId::Daojia58.as_str()))
            .filter(technician::Column::ExternalId.eq(t.external_id.trim()))
            .one(&self.db)
            .await?
            .ok_or_else(|| DbErr::RecordNotFound("technician just written".into()).into())
    }

    pub async fn technicians(&self) -> Result<Vec<technician::Model>, DbErr> {
        technician::Entity::find()
            .order_by_asc(technician::Column::Id)
            .all(&self.db)
            .await
    }

    /// Runs one 58 outbox row: a refusal parks it (it would be refused again), anything
    /// transient is retried.
    pub async fn perform_inbound_outbox(
        &self,
        operation: &str,
        payload: &str,
    ) -> Result<(), outbox::Failure> {
        if operation != UPDATE_ORDER_DETAIL {
            return Err(outbox::Failure::Permanent(format!(
                "unknown operation {operation}"
            )));
        }
        let p: SyncPayload = serde_json::from_str(payload)
            .map_err(|e| outbox::Failure::Permanent(format!("payload: {e}")))?;
        let source = self
            .order_source
            .clone()
            .ok_or_else(|| outbox::Failure::Retry("58 Daojia is not enabled".into()))?;
        let sync = StatusSync {
            platform_order_id: p.order_id,
            our_ref: p.third_order_id,
            status_code: p.order_status,
            technician_name: p.service_user_name,
            technician_phone: p.service_user_phone,
        };
        match source.sync_status(&sync).await {
            Ok(()) => Ok(()),
            Err(e @ ProviderError::Rejected { .. }) => {
                Err(outbox::Failure::Permanent(e.to_string()))
            }
            Err(e) => Err(outbox::Failure::Retry(e.to_string())),
        }
    }
}

/// The order's 58 status codes as applied, oldest first.
async fn raw_history(txn: &sea_orm::DatabaseTransaction, id: i64) -> Result<Vec<i64>, DbErr> {
    let rows: Vec<String> = order_event::Entity::find()
        .select_only()
        .column(order_event::Column::RawStatus)
        .filter(order_event::Column::OrderId.eq(id))
        .filter(order_event::Column::Applied.eq(true))
        .filter(order_event::Column::Kind.eq(EventKind::Status.as_str()))
        .order_by_asc(order_event::Column::Id)
        .into_tuple()
        .all(txn)
        .await?;
    Ok(rows.iter().filter_map(|r| r.parse().ok()).collect())
}

/// The outbox row's arguments.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SyncPayload {
    order_id: i64,
    third_order_id: String,
    order_status: i64,
    service_user_name: Option<String>,
    service_user_phone: Option<String>,
}
