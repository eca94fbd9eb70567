//! Orders pushed to us (58 Daojia): the mutations our staff work them with, technicians, and
//! the outbox that syncs every change back — visible per order, with a way to retry a row
//! that was parked as dead.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::access::{Need, check_order};
use super::{
    delivery::OrderPayload,
    errors::{UserError, internal},
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

pub struct Technician(pub TechnicianRow);

/// A technician of ours registered with 58, who can be put on orders 58 pushes to us.
#[Object]
impl Technician {
    /// The technician's global id (what `assignTechnician` takes as `technicianId`).
    // Visible to `graphql::node`, where the `Node` interface calls it.
    pub(in crate::graphql) async fn id(&self) -> ID {
        ids::encode(Kind::Technician, self.0.id)
    }
    /// The id we gave them at 58 (`userId`).
    async fn external_id(&self) -> &str {
        &self.0.external_id
    }
    /// The technician's name (58 shows it to the customer).
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The technician's phone number (58 gives it to the customer).
    async fn phone(&self) -> &str {
        &self.0.phone
    }
    /// Whether the technician can be put on orders.
    async fn active(&self) -> bool {
        self.0.active
    }
}

/// Where an outgoing call stands.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum OutboxState {
    /// Waiting for its turn, or for its next attempt after a failure (`nextAttemptAt`).
    Pending,
    /// The platform took it. It is never sent again.
    Sent,
    /// Given up: the platform refused it for good, or every attempt failed (`lastError`
    /// says why). `retryOutboxEntry` puts it back in line.
    Dead,
}

impl OutboxState {
    /// The stored state; a value the outbox never writes is a corrupt row, reported as an
    /// internal error rather than guessed at.
    fn of(stored: &str) -> Result<Self> {
        match stored {
            outbox::PENDING => Ok(Self::Pending),
            outbox::SENT => Ok(Self::Sent),
            outbox::DEAD => Ok(Self::Dead),
            other => Err(internal(format!("unknown outbox state {other:?}"))),
        }
    }
}

pub struct OutboxEntry(pub OutboxRow);

/// One durable outgoing call about an order (a status sync to 58, an answer to a courier):
/// written with the change that needs it and retried with growing pauses until the
/// platform takes it.
#[Object]
impl OutboxEntry {
    /// The entry's global id (what `retryOutboxEntry` takes).
    // Visible to `graphql::node`, where the `Node` interface calls it.
    pub(in crate::graphql) async fn id(&self) -> ID {
        ids::encode(Kind::OutboxEntry, self.0.id)
    }
    /// What the call does: `UPDATE_ORDER_DETAIL` (syncs an order pushed to us, its status
    /// and technician, back to 58) or `ANSWER_COURIER_CANCELLATION` (answers a courier's
    /// request to cancel); more may be added.
    async fn operation(&self) -> &str {
        &self.0.operation
    }
    /// Where the call stands.
    async fn state(&self) -> Result<OutboxState> {
        OutboxState::of(&self.0.state)
    }
    /// How many times it was tried (back to 0 when a dead entry is retried).
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    /// When the next attempt is due, for a `PENDING` entry; null otherwise.
    async fn next_attempt_at(&self) -> Option<DateTime<Utc>> {
        (self.0.state == outbox::PENDING).then_some(self.0.next_attempt_at)
    }
    /// Why the last attempt failed; null before any failure and once `SENT`.
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
    /// The call's arguments (JSON).
    async fn payload(&self) -> &str {
        &self.0.payload
    }
    /// When it was queued, with the change that needed it.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the platform took it; null until `SENT`.
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

/// An order 58 pushed to us.
#[derive(InputObject)]
pub struct InboundOrderInput {
    /// The order's global id.
    pub order_id: ID,
}

/// Which technician to put on which order pushed to us.
#[derive(InputObject)]
pub struct AssignTechnicianInput {
    /// The order's global id.
    pub order_id: ID,
    /// From `technicians`.
    pub technician_id: ID,
}

/// A technician to register with 58.
#[derive(InputObject)]
pub struct RegisterTechnicianInput {
    /// Your id for them at 58 (`userId`).
    pub external_id: String,
    /// Their name, as 58 shows it to customers.
    pub name: String,
    /// Their phone number.
    pub phone: String,
    /// Their age in years; leave out if unknown.
    pub age: Option<i32>,
    /// `M` (male) or `F` (female); leave out if not given. Any other value is refused with
    /// `INVALID_INPUT`.
    pub sex: Option<String>,
    /// A note about them for 58, e.g. their experience.
    pub remark: Option<String>,
}

/// What `registerTechnician` did.
#[derive(SimpleObject)]
pub struct TechnicianPayload {
    /// The registered technician; null when the request was refused (see `userErrors`).
    pub technician: Option<Technician>,
    /// Why the request was refused; empty when it went through.
    pub user_errors: Vec<UserError>,
}

/// The dead outbox entry to retry.
#[derive(InputObject)]
pub struct RetryOutboxEntryInput {
    /// The entry's id (`OutboxEntry.id`).
    pub id: ID,
}

/// What `retryOutboxEntry` did.
#[derive(SimpleObject)]
pub struct OutboxEntryPayload {
    /// The entry, back in line as `PENDING`; null when the request was refused (see
    /// `userErrors`: it was already sent, or is still being retried).
    pub entry: Option<OutboxEntry>,
    /// Why the request was refused; empty when it went through.
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
        #[graphql(desc = "The order pushed to us.")] input: InboundOrderInput,
    ) -> Result<OrderPayload> {
        act(ctx, &input.order_id, InboundAction::Accept).await
    }
    /// Asks the customer to pay (→ 30), before or after the service.
    #[graphql(guard = "Need(Scope::Inbound)")]
    async fn request_payment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The order pushed to us.")] input: InboundOrderInput,
    ) -> Result<OrderPayload> {
        act(ctx, &input.order_id, InboundAction::RequestPayment).await
    }
    /// Records the payment (30 → 40).
    #[graphql(guard = "Need(Scope::Inbound)")]
    async fn confirm_payment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The order pushed to us.")] input: InboundOrderInput,
    ) -> Result<OrderPayload> {
        act(ctx, &input.order_id, InboundAction::ConfirmPayment).await
    }
    /// The technician started (→ 50).
    #[graphql(guard = "Need(Scope::Inbound)")]
    async fn start_service(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The order pushed to us.")] input: InboundOrderInput,
    ) -> Result<OrderPayload> {
        act(ctx, &input.order_id, InboundAction::StartService).await
    }
    /// The service is done and paid (→ 60).
    #[graphql(guard = "Need(Scope::Inbound)")]
    async fn complete_service(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The order pushed to us.")] input: InboundOrderInput,
    ) -> Result<OrderPayload> {
        act(ctx, &input.order_id, InboundAction::Complete).await
    }

    /// Puts a registered technician on the order; 58 is told their name and phone.
    #[graphql(guard = "Need(Scope::Inbound)")]
    async fn assign_technician(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The order and the technician.")] input: AssignTechnicianInput,
    ) -> Result<OrderPayload> {
        let st = services(ctx)?;
        let Some(id) = ids::decode(Kind::Order, &input.order_id) else {
            return Ok(bad_order_id());
        };
        check_order(ctx, id).await?;
        let Some(tech) = ids::decode(Kind::Technician, &input.technician_id) else {
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
        #[graphql(desc = "Who the technician is.")] input: RegisterTechnicianInput,
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
        #[graphql(desc = "The dead entry.")] input: RetryOutboxEntryInput,
    ) -> Result<OutboxEntryPayload> {
        let st = services(ctx)?;
        let refuse = |msg: &str, code| OutboxEntryPayload {
            entry: None,
            user_errors: refused(vec![orders::UserError::new(&["id"], code, msg)]),
        };
        let Some(id) = ids::decode(Kind::OutboxEntry, &input.id) else {
            return Ok(refuse(
                "id is not an outbox entry id",
                UserErrorCode::InvalidInput,
            ));
        };
        let (entry, user_errors) = settle(st.orders.retry_outbox_entry(id).await, OutboxEntry)?;
        Ok(OutboxEntryPayload { entry, user_errors })
    }
}
