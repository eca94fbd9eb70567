//! Orders, their items and status timeline, and the status changes subscriptions stream.

use async_graphql::{ComplexObject, Context, Enum, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::{GeoPoint, Money, OrderStatus, ProviderId, Shop, money, parse};
use crate::{
    domain,
    graphql::{
        budget,
        delivery::{Courier, Delivery},
        errors::{internal, provider_error},
        ids::{self, Kind, encode},
        inbound::OutboxEntry,
        loaders::Loaders,
        resolve::services,
    },
    orders::repo::{OrderEventRow, OrderItemRow, OrderRow},
};

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "crate::domain::EventSource")]
pub enum EventSource {
    Create,
    Poll,
    Callback,
    Api,
}

/// What an event records: a status change, or something around the order that leaves its
/// status alone (then `fromStatus` equals `toStatus`).
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "crate::domain::EventKind")]
pub enum EventKind {
    Status,
    CourierCancelRequested,
    CourierCancelAnswered,
    TipAdded,
    CourierAppointed,
    CourierAppointmentCancelled,
    CourierUpdated,
    ReturnedGoodsConfirmed,
    ComplaintFiled,
    TechnicianAssigned,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum OrderDirection {
    /// We placed it on the platform.
    Outbound,
    /// The platform pushed it to us.
    Inbound,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum OrderKind {
    Service,
    Delivery,
}

pub struct Order(pub OrderRow);

#[derive(SimpleObject)]
pub struct OrderAmounts {
    /// Sum of the items at the shop's prices.
    pub items_total: Money,
    /// Call-out / delivery fee.
    pub fee: Money,
    /// What the platform charged.
    pub total: Money,
    /// The pre-paid balance left after this order, when the platform says.
    pub balance_after: Option<Money>,
}

#[derive(SimpleObject)]
pub struct Contact {
    pub name: String,
    pub phone: String,
}

#[derive(SimpleObject)]
pub struct Address {
    pub city: String,
    pub street: String,
    pub house: String,
}

#[Object]
impl Order {
    // Visible to `types`, where the `Node` interface calls it.
    pub(super) async fn id(&self) -> ID {
        encode(Kind::Order, self.0.id)
    }
    async fn provider(&self) -> Result<ProviderId> {
        Ok(parse::<domain::ProviderId>(&self.0.provider)?.into())
    }
    /// The platform's order id; null while the order is being submitted or if submission failed.
    async fn external_id(&self) -> Option<&str> {
        self.0.external_id.as_deref()
    }
    async fn direction(&self) -> OrderDirection {
        if self.0.direction == domain::Direction::Inbound.as_str() {
            OrderDirection::Inbound
        } else {
            OrderDirection::Outbound
        }
    }
    async fn kind(&self) -> OrderKind {
        if self.0.kind == domain::OrderKind::Delivery.as_str() {
            OrderKind::Delivery
        } else {
            OrderKind::Service
        }
    }
    async fn status(&self) -> Result<OrderStatus> {
        Ok(parse::<domain::OrderStatus>(&self.0.status)?.into())
    }
    /// The platform's own status, e.g. "PENDING_CONFIRM".
    async fn raw_status(&self) -> &str {
        &self.0.raw_status
    }
    async fn shop(&self, ctx: &Context<'_>) -> Result<Option<Shop>> {
        let Some(id) = self.0.shop_id else {
            return Ok(None);
        };
        Ok(ctx.data::<Loaders>()?.shops.load_one(id).await?.map(Shop))
    }
    async fn items(&self, ctx: &Context<'_>) -> Result<Vec<OrderItem>> {
        Ok(ctx
            .data::<Loaders>()?
            .items
            .load_one(self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(OrderItem)
            .collect())
    }
    async fn amounts(&self) -> OrderAmounts {
        OrderAmounts {
            items_total: money(self.0.items_total_fen),
            fee: money(self.0.fee_fen),
            total: money(self.0.total_fen),
            balance_after: self.0.balance_after_fen.map(money),
        }
    }
    async fn contact(&self) -> Contact {
        Contact {
            name: self.0.contact_person.clone(),
            phone: self.0.phone.clone(),
        }
    }
    async fn address(&self) -> Address {
        Address {
            city: self.0.city.clone(),
            street: self.0.street.clone(),
            house: self.0.house.clone(),
        }
    }
    async fn appoint_time(&self) -> Option<DateTime<Utc>> {
        self.0.appoint_time
    }
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
    /// Why the order was cancelled or failed.
    async fn cancel_reason(&self) -> Option<&str> {
        self.0.cancel_reason.as_deref()
    }
    /// Every status event, oldest first, including late or repeated ones that did not move the order.
    async fn events(&self, ctx: &Context<'_>) -> Result<Vec<StatusEvent>> {
        Ok(ctx
            .data::<Loaders>()?
            .events
            .load_one(self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(StatusEvent)
            .collect())
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// The durable outgoing calls about this order (status syncs, answers), oldest first.
    async fn outbox(&self, ctx: &Context<'_>) -> Result<Vec<OutboxEntry>> {
        Ok(ctx
            .data::<Loaders>()?
            .outbox
            .load_one(self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(OutboxEntry)
            .collect())
    }
    /// End of the service window (orders pushed to us); `appointTime` is its start.
    async fn service_end(&self) -> Option<DateTime<Utc>> {
        self.0.service_end
    }
    /// Delivery details (fees, cargo, courier); null for service orders.
    async fn delivery(&self) -> Option<Delivery> {
        (self.0.kind == domain::OrderKind::Delivery.as_str()).then(|| Delivery(self.0.clone()))
    }
    /// The courier as last reported (callbacks, polls, position lookups); null until one
    /// accepts.
    async fn courier(&self) -> Option<Courier> {
        Courier::of_order(&self.0)
    }
    /// Where the courier is now, asked of the platform (the last known position when it
    /// cannot say). Null for orders without a courier. A call to the platform, so it weighs
    /// 50 against the query's complexity limit: a page cannot fan out without bound.
    #[graphql(complexity = 50)]
    async fn courier_position(&self, ctx: &Context<'_>) -> Result<Option<GeoPoint>> {
        if self.0.kind != domain::OrderKind::Delivery.as_str() || self.0.courier_name.is_none() {
            return Ok(None);
        }
        let st = services(ctx)?;
        budget::platform_call(ctx)?;
        match st.orders.courier_position(&self.0).await {
            Ok(p) => Ok(p.map(|p| GeoPoint {
                lng: p.lng,
                lat: p.lat,
            })),
            Err(e) => Err(provider_error(&e).into()),
        }
    }
    /// A page showing the courier on a map, from the platform; null for orders without one.
    /// A call to the platform: weighs 50 against the complexity limit.
    #[graphql(complexity = 50)]
    async fn track_url(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        if self.0.kind != domain::OrderKind::Delivery.as_str() || self.0.courier_name.is_none() {
            return Ok(None);
        }
        let st = services(ctx)?;
        budget::platform_call(ctx)?;
        st.orders
            .track_url(&self.0)
            .await
            .map_err(|e| provider_error(&e).into())
    }
}

pub struct OrderItem(pub OrderItemRow);

#[Object]
impl OrderItem {
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn price_id(&self) -> Option<ID> {
        self.0.price_id.map(|id| encode(Kind::Price, id))
    }
    async fn external_price_id(&self) -> &str {
        &self.0.external_price_id
    }
    async fn unit(&self) -> Option<&str> {
        self.0.unit.as_deref()
    }
    async fn unit_price(&self) -> Money {
        money(self.0.unit_price_fen)
    }
    async fn quantity(&self) -> i32 {
        self.0.quantity
    }
    async fn amount(&self) -> Money {
        money(self.0.amount_fen)
    }
}

pub struct StatusEvent(pub OrderEventRow);

#[Object]
#[allow(clippy::wrong_self_convention)] // `fromStatus` is a GraphQL field, not a conversion
impl StatusEvent {
    async fn id(&self) -> ID {
        encode(Kind::Event, self.0.id)
    }
    async fn from_status(&self) -> Result<Option<OrderStatus>> {
        self.0
            .from_status
            .as_deref()
            .map(|s| parse::<domain::OrderStatus>(s).map(Into::into))
            .transpose()
    }
    async fn to_status(&self) -> Result<OrderStatus> {
        Ok(parse::<domain::OrderStatus>(&self.0.to_status)?.into())
    }
    async fn raw_status(&self) -> &str {
        &self.0.raw_status
    }
    async fn source(&self) -> Result<EventSource> {
        Ok(parse::<domain::EventSource>(&self.0.source)?.into())
    }
    async fn kind(&self) -> Result<EventKind> {
        Ok(parse::<domain::EventKind>(&self.0.kind)?.into())
    }
    /// False when the event arrived late or repeated and did not move the order.
    async fn applied(&self) -> bool {
        self.0.applied
    }
    async fn detail(&self) -> Option<&str> {
        self.0.detail.as_deref()
    }
    /// When the platform says it happened (our receive time when it does not say).
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }
    async fn recorded_at(&self) -> DateTime<Utc> {
        self.0.recorded_at
    }
}

#[ComplexObject]
impl OrderStatusChange {
    /// The order as it is now.
    async fn order(&self, ctx: &Context<'_>) -> Result<Option<Order>> {
        let id =
            ids::decode(Kind::Order, &self.order_id).ok_or_else(|| internal("bad order id"))?;
        Ok(ctx.data::<Loaders>()?.orders.load_one(id).await?.map(Order))
    }
}

/// One status change of one order, from any platform.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct OrderStatusChange {
    /// Increasing; pass the last one seen as `afterEventId` to resume without missing any.
    pub event_id: ID,
    pub order_id: ID,
    pub provider: ProviderId,
    /// Null for the order's first event.
    pub old_status: Option<OrderStatus>,
    pub new_status: OrderStatus,
    /// The platform's own status.
    pub raw_status: String,
    pub source: EventSource,
    /// `STATUS` for a status change; other kinds (a courier asking to cancel, a tip) keep
    /// `oldStatus` equal to `newStatus`.
    pub kind: EventKind,
    pub occurred_at: DateTime<Utc>,
    pub detail: Option<String>,
}
