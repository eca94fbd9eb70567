//! Orders, their items and status timeline, and the status changes subscriptions stream.

use async_graphql::{ComplexObject, Context, Enum, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::{GeoPoint, Money, OrderStatus, ProviderId, Shop, money, parse};
use crate::{
    domain,
    graphql::{
        budget,
        delivery::{Courier, Delivery, DispatchPlan},
        errors::{internal, provider_error},
        ids::{self, Kind, encode},
        inbound::OutboxEntry,
        loaders::Loaders,
        prefetch,
        resolve::services,
    },
    orders::repo::{OrderEventRow, OrderItemRow, OrderRow},
};

/// How we learned of an event.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "crate::domain::EventSource")]
pub enum EventSource {
    /// We created the order (or the platform pushed it to us).
    Create,
    /// We asked the platform for the order's status.
    Poll,
    /// The platform called our callback route.
    Callback,
    /// A mutation of this API did it.
    Api,
}

crate::domain::event_kind_enum! {
    /// What an event records: a status change, or something around the order that leaves its
    /// status alone (then `fromStatus` equals `toStatus`).
    #[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
    #[graphql(remote = "crate::domain::EventKind")]
    pub enum EventKind
}

/// Who placed the order.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum OrderDirection {
    /// We placed it on the platform.
    Outbound,
    /// The platform pushed it to us.
    Inbound,
}

/// What the order is for.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum OrderKind {
    /// A home-service appointment (placed with Daoway, or pushed to us by 58 Daojia).
    Service,
    /// A courier delivery from one of our stores (Dada, WeChat); see `Order.delivery`.
    Delivery,
}

impl From<OrderKind> for crate::domain::OrderKind {
    fn from(k: OrderKind) -> Self {
        match k {
            OrderKind::Service => Self::Service,
            OrderKind::Delivery => Self::Delivery,
        }
    }
}

impl From<OrderDirection> for crate::domain::Direction {
    fn from(d: OrderDirection) -> Self {
        match d {
            OrderDirection::Outbound => Self::Outbound,
            OrderDirection::Inbound => Self::Inbound,
        }
    }
}

pub struct Order(pub OrderRow);

/// What an order costs, as the platform charged it.
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

/// The person to contact about an order.
#[derive(SimpleObject)]
pub struct Contact {
    /// Their name; empty when the platform did not give one (orders pushed to us).
    pub name: String,
    /// Their phone number.
    pub phone: String,
}

/// Where a service happens or a delivery goes.
#[derive(SimpleObject)]
pub struct Address {
    /// City name, e.g. "北京".
    pub city: String,
    /// Neighbourhood and street; for deliveries and orders pushed to us, the full address.
    pub street: String,
    /// Building, floor and door; empty when `street` holds the full address.
    pub house: String,
}

/// An order on any platform: a service order or a delivery we placed, or an order a
/// platform pushed to us. Its `status` is unified across platforms; the platform's own is
/// kept in `rawStatus`.
#[Object]
impl Order {
    /// The order's global id.
    // Visible to `graphql::node`, where the `Node` interface calls it.
    pub(in crate::graphql) async fn id(&self) -> ID {
        encode(Kind::Order, self.0.id)
    }
    /// The platform the order is on.
    async fn provider(&self) -> Result<ProviderId> {
        Ok(parse::<domain::ProviderId>(&self.0.provider)?.into())
    }
    /// The platform's order id; null while the order is being submitted or if submission failed.
    async fn external_id(&self) -> Option<&str> {
        self.0.external_id.as_deref()
    }
    /// Whether we placed it or the platform pushed it to us.
    async fn direction(&self) -> OrderDirection {
        if self.0.direction == domain::Direction::Inbound.as_str() {
            OrderDirection::Inbound
        } else {
            OrderDirection::Outbound
        }
    }
    /// A service appointment or a delivery.
    async fn kind(&self) -> OrderKind {
        if self.0.kind == domain::OrderKind::Delivery.as_str() {
            OrderKind::Delivery
        } else {
            OrderKind::Service
        }
    }
    /// Where the order stands, the same on every platform.
    async fn status(&self) -> Result<OrderStatus> {
        Ok(parse::<domain::OrderStatus>(&self.0.status)?.into())
    }
    /// The platform's own status as it spells it, e.g. "PENDING_CONFIRM" (Daoway) or a
    /// status code such as "3" (Dada). While a delivery is being submitted, "SUBMITTING".
    async fn raw_status(&self) -> &str {
        &self.0.raw_status
    }
    /// The marketplace shop it was placed with, or our store a delivery leaves from; null
    /// for orders pushed to us.
    async fn shop(&self, ctx: &Context<'_>) -> Result<Option<Shop>> {
        let Some(id) = self.0.shop_id else {
            return Ok(None);
        };
        if let Some(read) = prefetch::shop(ctx, id) {
            return Ok(read.map(Shop));
        }
        Shop::load(ctx, id).await
    }
    /// The price items ordered, at the prices of the time; empty for deliveries.
    async fn items(&self, ctx: &Context<'_>) -> Result<Vec<OrderItem>> {
        let items = match prefetch::items(ctx, self.0.id) {
            Some(read) => read,
            None => ctx
                .data::<Loaders>()?
                .items
                .load_one(self.0.id)
                .await?
                .unwrap_or_default(),
        };
        Ok(items.into_iter().map(OrderItem).collect())
    }
    /// What the order costs.
    async fn amounts(&self) -> OrderAmounts {
        OrderAmounts {
            items_total: money(self.0.items_total_fen),
            fee: money(self.0.fee_fen),
            total: money(self.0.total_fen),
            balance_after: self.0.balance_after_fen.map(money),
        }
    }
    /// Whom to contact: the customer of a service order, the receiver of a delivery.
    async fn contact(&self) -> Contact {
        Contact {
            name: self.0.contact_person.clone(),
            phone: self.0.phone.clone(),
        }
    }
    /// Where the service happens or the delivery goes.
    async fn address(&self) -> Address {
        Address {
            city: self.0.city.clone(),
            street: self.0.street.clone(),
            house: self.0.house.clone(),
        }
    }
    /// When the service is booked for (for orders pushed to us, the start of the service
    /// window), or when a delayed delivery is published; null when not set.
    async fn appoint_time(&self) -> Option<DateTime<Utc>> {
        self.0.appoint_time
    }
    /// The customer's or our note for the shop or courier; null when none was given.
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
    /// Why the order was cancelled or failed.
    async fn cancel_reason(&self) -> Option<&str> {
        self.0.cancel_reason.as_deref()
    }
    /// Every status event, oldest first, including late or repeated ones that did not move the order.
    async fn events(&self, ctx: &Context<'_>) -> Result<Vec<StatusEvent>> {
        let events = match prefetch::events(ctx, self.0.id) {
            Some(read) => read,
            None => ctx
                .data::<Loaders>()?
                .events
                .load_one(self.0.id)
                .await?
                .unwrap_or_default(),
        };
        Ok(events.into_iter().map(StatusEvent).collect())
    }
    /// When we recorded the order.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When anything about the order last changed here.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// The durable outgoing calls about this order (status syncs, answers), oldest first.
    async fn outbox(&self, ctx: &Context<'_>) -> Result<Vec<OutboxEntry>> {
        let rows = match prefetch::outbox(ctx, self.0.id) {
            Some(read) => read,
            None => ctx
                .data::<Loaders>()?
                .outbox
                .load_one(self.0.id)
                .await?
                .unwrap_or_default(),
        };
        Ok(rows.into_iter().map(OutboxEntry).collect())
    }
    /// End of the service window (orders pushed to us); `appointTime` is its start.
    async fn service_end(&self) -> Option<DateTime<Utc>> {
        self.0.service_end
    }
    /// The automatic dispatch this delivery is an attempt of; null for other orders.
    async fn dispatch_plan(&self, ctx: &Context<'_>) -> Result<Option<DispatchPlan>> {
        let Some(id) = self.0.plan_id else {
            return Ok(None);
        };
        let st = services(ctx)?;
        Ok(st
            .orders
            .plan(id)
            .await
            .map_err(internal)?
            .map(DispatchPlan))
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

/// One line of an order: a price item and how many of it.
#[Object]
impl OrderItem {
    /// The price item's name at the time of the order.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The `Price` it was ordered at (global id); null when the item is not one of our
    /// stored prices (orders pushed to us).
    async fn price_id(&self) -> Option<ID> {
        self.0.price_id.map(|id| encode(Kind::Price, id))
    }
    /// The platform's id of the price item.
    async fn external_price_id(&self) -> &str {
        &self.0.external_price_id
    }
    /// What one unit is, e.g. "元/小时"; null when the platform does not say.
    async fn unit(&self) -> Option<&str> {
        self.0.unit.as_deref()
    }
    /// The price of one unit at the time of the order.
    async fn unit_price(&self) -> Money {
        money(self.0.unit_price_fen)
    }
    /// How many units.
    async fn quantity(&self) -> i32 {
        self.0.quantity
    }
    /// `unitPrice` times `quantity`.
    async fn amount(&self) -> Money {
        money(self.0.amount_fen)
    }
}

pub struct StatusEvent(pub OrderEventRow);

/// One entry of an order's timeline: a status report from the platform or us, or something
/// around the order (`kind`). Every report is kept, also those that arrived late or twice
/// and did not move the order (`applied` false).
#[Object]
#[allow(clippy::wrong_self_convention)] // `fromStatus` is a GraphQL field, not a conversion
impl StatusEvent {
    /// The event's global id; the same as `eventId` in `orderStatusChanged`.
    // Visible to `graphql::node`, where the `Node` interface calls it.
    pub(in crate::graphql) async fn id(&self) -> ID {
        encode(Kind::Event, self.0.id)
    }
    /// The order's status before the event; null for the order's first event.
    async fn from_status(&self) -> Result<Option<OrderStatus>> {
        self.0
            .from_status
            .as_deref()
            .map(|s| parse::<domain::OrderStatus>(s).map(Into::into))
            .transpose()
    }
    /// The status the event reported (equal to `fromStatus` for events that leave the
    /// status alone).
    async fn to_status(&self) -> Result<OrderStatus> {
        Ok(parse::<domain::OrderStatus>(&self.0.to_status)?.into())
    }
    /// The platform's own status the event carried, as it spells it.
    async fn raw_status(&self) -> &str {
        &self.0.raw_status
    }
    /// How we learned of it.
    async fn source(&self) -> Result<EventSource> {
        Ok(parse::<domain::EventSource>(&self.0.source)?.into())
    }
    /// What it records: a status report or something around the order.
    async fn kind(&self) -> Result<EventKind> {
        Ok(parse::<domain::EventKind>(&self.0.kind)?.into())
    }
    /// False when the event arrived late or repeated and did not move the order.
    async fn applied(&self) -> bool {
        self.0.applied
    }
    /// A note for people, e.g. a cancel reason or the technician's name; null when none.
    async fn detail(&self) -> Option<&str> {
        self.0.detail.as_deref()
    }
    /// When the platform says it happened (our receive time when it does not say).
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }
    /// When we recorded it.
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
    /// The order's global id (fetch it with `order(id:)`, or select `order` here).
    pub order_id: ID,
    /// The platform the order is on.
    pub provider: ProviderId,
    /// Null for the order's first event.
    pub old_status: Option<OrderStatus>,
    /// The order's status after the change.
    pub new_status: OrderStatus,
    /// The platform's own status.
    pub raw_status: String,
    /// How we learned of the change.
    pub source: EventSource,
    /// `STATUS` for a status change; other kinds (a courier asking to cancel, a tip) keep
    /// `oldStatus` equal to `newStatus`.
    pub kind: EventKind,
    /// When the platform says it happened (our receive time when it does not say).
    pub occurred_at: DateTime<Utc>,
    /// A note for people, e.g. a cancel reason; null when none.
    pub detail: Option<String>,
}
