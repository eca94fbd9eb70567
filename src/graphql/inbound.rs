//! Orders pushed to us (58 Daojia): the mutations our staff work them with, technicians, and
//! the outbox that syncs every change back — visible per order, with a way to retry a row
//! that was parked as dead.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::access::{Need, check_order};
use super::{
    delivery::OrderPayload,
    errors::UserError,
    ids::{self, Kind},
    resolve::{bad_id, read, refused, services, settle},
    types::Order,
};
use crate::access::Scope;
use crate::{
    orders::{
        self, InboundAction, NewTechnician, OrderError, UserErrorCode,
        repo::{OrderRow, OutboxRow, TechnicianRow},
    },
    outbox,
};

fn bad_order_id() -> OrderPayload {
    OrderPayload {
        order: None,
        user_errors: bad_id("orderId", "an order id"),
    }
}

fn payload(r: Result<OrderRow, OrderError>) -> Result<OrderPayload> {
    let (order, user_errors) = settle(r, Order)?;
    Ok(OrderPayload { order, user_errors })
}

/// A technician of ours registered with 58.
pub struct Technician(pub TechnicianRow);

#[Object]
impl Technician {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The id we gave them at 58 (`userId`).
    async fn external_id(&self) -> &str {
        &self.0.external_id
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn phone(&self) -> &str {
        &self.0.phone
    }
    async fn active(&self) -> bool {
        self.0.active
    }
}

/// One durable outgoing call (a status sync to 58, an answer to a courier).
pub struct OutboxEntry(pub OutboxRow);

#[Object]
impl OutboxEntry {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// What it does, e.g. `UPDATE_ORDER_DETAIL`.
    async fn operation(&self) -> &str {
        &self.0.operation
    }
    /// `PENDING` (waiting or being retried), `SENT`, or `DEAD` (gave up; see `lastError`).
    async fn state(&self) -> &str {
        &self.0.state
    }
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    async fn next_attempt_at(&self) -> Option<DateTime<Utc>> {
        (self.0.state == outbox::PENDING).then_some(self.0.next_attempt_at)
    }
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
    /// The call's arguments (JSON).
    async fn payload(&self) -> &str {
        &self.0.payload
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn sent_at(&self) -> Option<DateTime<Utc>> {
        self.0.sent_at
    }
}

#[derive(Default)]
pub struct InboundQuery;

#[Object]
impl InboundQuery {
    /// Technicians registered with 58.
    #[graphql(guard = "Need(Scope::Inbound)")]
    async fn technicians(&self, ctx: &Context<'_>) -> Result<Vec<Technician>> {
        read(
            ctx,
            async |s| s.orders.technicians().await,
            |list| list.into_iter().map(Technician).collect(),
        )
        .await
    }
}

#[derive(InputObject)]
pub struct InboundOrderInput {
    pub order_id: ID,
}

#[derive(InputObject)]
pub struct AssignTechnicianInput {
    pub order_id: ID,
    /// From `technicians`.
    pub technician_id: ID,
}

#[derive(InputObject)]
pub struct RegisterTechnicianInput {
    /// Your id for them at 58 (`userId`).
    pub external_id: String,
    pub name: String,
    pub phone: String,
    pub age: Option<i32>,
    /// `M` or `F`.
    pub sex: Option<String>,
    pub remark: Option<String>,
}

#[derive(SimpleObject)]
pub struct TechnicianPayload {
    pub technician: Option<Technician>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct RetryOutboxEntryInput {
    pub id: ID,
}

#[derive(SimpleObject)]
pub struct OutboxEntryPayload {
    pub entry: Option<OutboxEntry>,
    pub user_errors: Vec<UserError>,
}

#[derive(Default)]
pub struct InboundMutation;

async fn act(ctx: &Context<'_>, id: &ID, action: InboundAction) -> Result<OrderPayload> {
    let st = services(ctx)?;
    let Some(id) = ids::decode(Kind::Order, id) else {
        return Ok(bad_order_id());
    };
    check_order(ctx, id).await?;
    payload(st.orders.work_inbound(id, action, None).await)
}

#[Object]
impl InboundMutation {
    /// Accepts an order 58 pushed (10 → 20).
    #[graphql(guard = "Need(Scope::Inbound)")]
    async fn accept_order(
        &self,
        ctx: &Context<'_>,
        input: InboundOrderInput,
    ) -> Result<OrderPayload> {
        act(ctx, &input.order_id, InboundAction::Accept).await
    }
    /// Asks the customer to pay (→ 30), before or after the service.
    #[graphql(guard = "Need(Scope::Inbound)")]
    async fn request_payment(
        &self,
        ctx: &Context<'_>,
        input: InboundOrderInput,
    ) -> Result<OrderPayload> {
        act(ctx, &input.order_id, InboundAction::RequestPayment).await
    }
    /// Records the payment (30 → 40).
    #[graphql(guard = "Need(Scope::Inbound)")]
    async fn confirm_payment(
        &self,
        ctx: &Context<'_>,
        input: InboundOrderInput,
    ) -> Result<OrderPayload> {
        act(ctx, &input.order_id, InboundAction::ConfirmPayment).await
    }
    /// The technician started (→ 50).
    #[graphql(guard = "Need(Scope::Inbound)")]
    async fn start_service(
        &self,
        ctx: &Context<'_>,
        input: InboundOrderInput,
    ) -> Result<OrderPayload> {
        act(ctx, &input.order_id, InboundAction::StartService).await
    }
    /// The service is done and paid (→ 60).
    #[graphql(guard = "Need(Scope::Inbound)")]
    async fn complete_service(
        &self,
        ctx: &Context<'_>,
        input: InboundOrderInput,
    ) -> Result<OrderPayload> {
        act(ctx, &input.order_id, InboundAction::Complete).await
    }

    /// Puts a registered technician on the order; 58 is told their name and phone.
    #[graphql(guard = "Need(Scope::Inbound)")]
    async fn assign_technician(
        &self,
        ctx: &Context<'_>,
        input: AssignTechnicianInput,
    ) -> Result<OrderPayload> {
        let st = services(ctx)?;
        let Some(id) = ids::decode(Kind::Order, &input.order_id) else {
            return Ok(bad_order_id());
        };
        check_order(ctx, id).await?;
        let Ok(tech) = input.technician_id.parse::<i64>() else {
            return Ok(OrderPayload {
                order: None,
                user_errors: refused(vec![orders::UserError::new(
                    &["technicianId"],
                    UserErrorCode::InvalidInput,
                    "technicianId is not a technician id",
                )]),
            });
        };
        payload(st.orders.assign_technician(id, tech).await)
    }

    /// Registers a technician with 58 (`serviceUser/saveServiceUser`).
    #[graphql(guard = "Need(Scope::Inbound)")]
    async fn register_technician(
        &self,
        ctx: &Context<'_>,
        input: RegisterTechnicianInput,
    ) -> Result<TechnicianPayload> {
        let st = services(ctx)?;
        let t = NewTechnician {
            external_id: input.external_id,
            name: input.name,
            phone: input.phone,
            age: input.age,
            sex: input.sex,
            remark: input.remark,
        };
        let (technician, user_errors) = settle(st.orders.register_technician(t).await, Technician)?;
        Ok(TechnicianPayload {
            technician,
            user_errors,
        })
    }

    /// Puts an outbox row that was parked as dead back in line.
    #[graphql(guard = "Need(Scope::Admin)")]
    async fn retry_outbox_entry(
        &self,
        ctx: &Context<'_>,
        input: RetryOutboxEntryInput,
    ) -> Result<OutboxEntryPayload> {
        let st = services(ctx)?;
        let refuse = |msg: &str, code| OutboxEntryPayload {
            entry: None,
            user_errors: refused(vec![orders::UserError::new(&["id"], code, msg)]),
        };
        let Ok(id) = input.id.parse::<i64>() else {
            return Ok(refuse(
                "id is not an outbox entry id",
                UserErrorCode::InvalidInput,
            ));
        };
        let (entry, user_errors) = settle(st.orders.retry_outbox_entry(id).await, OutboxEntry)?;
        Ok(OutboxEntryPayload { entry, user_errors })
    }
}
