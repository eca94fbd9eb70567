//! The public types. They wrap database rows and domain values but never expose either
//! directly, so storage and the API can change apart.

use async_graphql::{ComplexObject, Context, Enum, ID, Interface, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{category, order_event, order_item, orders, price, shop};

use super::{
    errors::internal,
    ids::{Kind, encode},
    loaders::Loaders,
};
use crate::{catalog::parse_json_list, domain};

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "crate::domain::ProviderId")]
pub enum ProviderId {
    Daoway,
    Dada,
    Wechat,
    /// 58到家 (spelled as in the database and the README).
    #[graphql(name = "DAOJIA58")]
    Daojia58,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "crate::domain::OrderStatus")]
pub enum OrderStatus {
    Pending,
    Accepted,
    Arrived,
    InProgress,
    Completed,
    Cancelled,
    Returning,
    Returned,
    Failed,
    Expired,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "crate::providers::ProviderRole")]
pub enum ProviderRole {
    ServiceMarketplace,
    CourierNetwork,
    OrderSource,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "crate::providers::Capability")]
pub enum Capability {
    ListCategories,
    ListShops,
    CreateOrder,
    CancelOrder,
    TrackStatusByPolling,
    ReceiveCancelNotification,
    /// Courier networks: fee quotes and dispatch (direct or from a quote), re-dispatch.
    QuoteDelivery,
    DispatchDelivery,
    AddTip,
    AppointCourier,
    ComplainAboutCourier,
    ConfirmReturnedGoods,
    /// Courier position and a tracking page.
    TrackCourier,
    /// Pushes every status change to our callback route.
    ReceiveStatusCallbacks,
    /// A courier may ask to cancel; we answer.
    AnswerCourierCancellation,
    /// Stores registered and updated at the platform, and the merchant's account.
    ManageStores,
    /// Pushes orders to us.
    ReceiveOrders,
    /// Takes our status changes back (through the outbox).
    SyncStatus,
}

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

/// A stored enum value that does not parse is a corrupt row: an internal error, not a guess.
pub(super) fn parse<T: std::str::FromStr>(s: &str) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    s.parse::<T>().map_err(internal)
}

/// An amount of money in integer fen, with its yuan rendering.
#[derive(Clone, Copy, Debug)]
pub struct Money(pub domain::Money);

#[Object]
impl Money {
    /// The amount in fen (1/100 yuan): exact, for arithmetic.
    async fn fen(&self) -> i64 {
        self.0.fen()
    }
    /// The amount in yuan with two decimals, e.g. "23.40".
    async fn yuan(&self) -> String {
        self.0.to_string()
    }
    async fn currency(&self) -> &'static str {
        "CNY"
    }
}

pub(super) fn money(fen: i64) -> Money {
    Money(domain::Money::from_fen(fen))
}

#[derive(SimpleObject, Clone, Copy, Debug)]
pub struct GeoPoint {
    /// BD-09 longitude.
    pub lng: f64,
    /// BD-09 latitude.
    pub lat: f64,
}

/// An object with a global id.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID"))]
// async-graphql's interface enum holds its implementors by value; nodes are built one
// at a time, so the size is of no consequence.
#[allow(clippy::large_enum_variant)]
pub enum Node {
    Shop(Shop),
    Order(Order),
    Category(Category),
}

pub struct Provider(pub crate::providers::ProviderInfo);

#[Object]
impl Provider {
    async fn id(&self) -> ProviderId {
        self.0.id.into()
    }
    async fn name(&self) -> &str {
        self.0.name
    }
    async fn role(&self) -> ProviderRole {
        self.0.role.into()
    }
    /// What this provider supports; mutations it lacks are refused with UNSUPPORTED_BY_PROVIDER.
    async fn capabilities(&self) -> Vec<Capability> {
        self.0.capabilities.iter().map(|c| (*c).into()).collect()
    }
    /// Configured and enabled in this deployment.
    async fn enabled(&self) -> bool {
        self.0.enabled
    }
    /// Talking to the in-process sandbox rather than the real platform.
    async fn sandbox(&self) -> bool {
        self.0.sandbox
    }
}

pub struct Category(pub category::Model);

#[Object]
impl Category {
    async fn id(&self) -> ID {
        encode(Kind::Category, self.0.id)
    }
    async fn provider(&self) -> Result<ProviderId> {
        Ok(parse::<domain::ProviderId>(&self.0.provider)?.into())
    }
    /// The platform's id of the category.
    async fn external_id(&self) -> &str {
        &self.0.external_id
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn icon_url(&self) -> Option<&str> {
        self.0.icon_url.as_deref()
    }
}

pub struct Shop(pub shop::Model);

/// Opening hours in China time.
#[derive(SimpleObject)]
pub struct ServiceHours {
    /// "HH:MM"
    pub start: Option<String>,
    /// "HH:MM", exclusive.
    pub end: Option<String>,
    /// Days open, 0 = Monday … 6 = Sunday.
    pub days: Vec<i32>,
    /// How long in advance an appointment must be made, in minutes.
    pub ahead_minutes: i32,
}

#[derive(SimpleObject)]
pub struct ShopFees {
    /// Call-out fee added to an order…
    pub fix_fee: Money,
    /// …unless the items reach this amount (zero: never waived).
    pub no_fix_fee_price: Money,
    /// The smallest order the shop takes.
    pub min_buy_price: Money,
}

#[Object]
impl Shop {
    async fn id(&self) -> ID {
        encode(Kind::Shop, self.0.id)
    }
    async fn provider(&self) -> Result<ProviderId> {
        Ok(parse::<domain::ProviderId>(&self.0.provider)?.into())
    }
    async fn external_id(&self) -> &str {
        &self.0.external_id
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    async fn city(&self) -> Option<&str> {
        self.0.city.as_deref()
    }
    async fn category(&self, ctx: &Context<'_>) -> Result<Option<Category>> {
        let Some(ext) = self.0.category_external_id.clone() else {
            return Ok(None);
        };
        let loaders = ctx.data::<Loaders>()?;
        Ok(loaders
            .categories
            .load_one((self.0.provider.clone(), ext))
            .await?
            .map(Category))
    }
    async fn images(&self) -> Vec<String> {
        parse_json_list(&self.0.image_urls)
    }
    async fn tag_icons(&self) -> Vec<String> {
        parse_json_list(&self.0.tag_icons)
    }
    async fn location(&self) -> Option<GeoPoint> {
        Some(GeoPoint {
            lng: self.0.lng?,
            lat: self.0.lat?,
        })
    }
    /// For our own stores at a courier network: address, contact, business type, city code.
    async fn store(&self) -> Option<super::delivery::StoreInfo> {
        self.0.business_type?;
        Some(super::delivery::StoreInfo(self.0.clone()))
    }
    /// Null until the shop's detail has been fetched (`shop(id:)` fetches it), and for stores.
    async fn hours(&self) -> Option<ServiceHours> {
        self.0.detail_fetched_at?;
        if self.0.business_type.is_some() {
            return None;
        }
        Some(ServiceHours {
            start: self.0.start_time.clone(),
            end: self.0.end_time.clone(),
            days: self
                .0
                .available_days
                .as_deref()
                .unwrap_or_default()
                .split(',')
                .filter_map(|d| d.trim().parse().ok())
                .collect(),
            ahead_minutes: self.0.ahead_minutes.unwrap_or(0),
        })
    }
    /// Null until the shop's detail has been fetched, and for stores.
    async fn fees(&self) -> Option<ShopFees> {
        self.0.detail_fetched_at?;
        if self.0.business_type.is_some() {
            return None;
        }
        Some(ShopFees {
            fix_fee: money(self.0.fix_fee_fen.unwrap_or(0)),
            no_fix_fee_price: money(self.0.no_fix_fee_price_fen.unwrap_or(0)),
            min_buy_price: money(self.0.min_buy_price_fen.unwrap_or(0)),
        })
    }
    /// The shop's price items: all of them once the detail was fetched, else the main one.
    async fn prices(&self, ctx: &Context<'_>) -> Result<Vec<Price>> {
        let loaders = ctx.data::<Loaders>()?;
        Ok(loaders
            .prices
            .load_one(self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Price)
            .collect())
    }
    /// Whether hours, fees and the full price list have been fetched.
    async fn detail_loaded(&self) -> bool {
        self.0.detail_fetched_at.is_some()
    }
    async fn fetched_at(&self) -> DateTime<Utc> {
        self.0.fetched_at
    }
    /// The last refresh from the platform failed: this is the stored copy.
    async fn stale(&self) -> bool {
        self.0.stale
    }
}

pub struct Price(pub price::Model);

#[Object]
impl Price {
    async fn id(&self) -> ID {
        encode(Kind::Price, self.0.id)
    }
    async fn external_id(&self) -> &str {
        &self.0.external_id
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    async fn amount(&self) -> Money {
        money(self.0.amount_fen)
    }
    /// e.g. "元/小时".
    async fn unit(&self) -> Option<&str> {
        self.0.unit.as_deref()
    }
    async fn image_url(&self) -> Option<&str> {
        self.0.img_url.as_deref()
    }
    /// The smallest quantity that can be ordered.
    async fn min_buy_num(&self) -> i32 {
        self.0.min_buy_num
    }
}

pub struct Order(pub orders::Model);

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
    async fn id(&self) -> ID {
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
    async fn outbox(&self, ctx: &Context<'_>) -> Result<Vec<super::inbound::OutboxEntry>> {
        Ok(ctx
            .data::<Loaders>()?
            .outbox
            .load_one(self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(super::inbound::OutboxEntry)
            .collect())
    }
    /// End of the service window (orders pushed to us); `appointTime` is its start.
    async fn service_end(&self) -> Option<DateTime<Utc>> {
        self.0.service_end
    }
    /// Delivery details (fees, cargo, courier); null for service orders.
    async fn delivery(&self) -> Option<super::delivery::Delivery> {
        (self.0.kind == domain::OrderKind::Delivery.as_str())
            .then(|| super::delivery::Delivery(self.0.clone()))
    }
    /// The courier as last reported (callbacks, polls, position lookups); null until one
    /// accepts.
    async fn courier(&self) -> Option<super::delivery::Courier> {
        super::delivery::Courier::of_order(&self.0)
    }
    /// Where the courier is now, asked of the platform (the last known position when it
    /// cannot say). Null for orders without a courier. A call to the platform, so it weighs
    /// 50 against the query's complexity limit: a page cannot fan out without bound.
    #[graphql(complexity = 50)]
    async fn courier_position(&self, ctx: &Context<'_>) -> Result<Option<GeoPoint>> {
        if self.0.kind != domain::OrderKind::Delivery.as_str() || self.0.courier_name.is_none() {
            return Ok(None);
        }
        let st = ctx.data::<crate::AppState>()?;
        match st.orders.courier_position(&self.0).await {
            Ok(p) => Ok(p.map(|p| GeoPoint {
                lng: p.lng,
                lat: p.lat,
            })),
            Err(e) => Err(super::errors::provider_error(&e).into()),
        }
    }
    /// A page showing the courier on a map, from the platform; null for orders without one.
    /// A call to the platform: weighs 50 against the complexity limit.
    #[graphql(complexity = 50)]
    async fn track_url(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        if self.0.kind != domain::OrderKind::Delivery.as_str() || self.0.courier_name.is_none() {
            return Ok(None);
        }
        let st = ctx.data::<crate::AppState>()?;
        st.orders
            .track_url(&self.0)
            .await
            .map_err(|e| super::errors::provider_error(&e).into())
    }
}

pub struct OrderItem(pub order_item::Model);

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

pub struct StatusEvent(pub order_event::Model);

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
        let id = super::ids::decode(Kind::Order, &self.order_id)
            .ok_or_else(|| internal("bad order id"))?;
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
