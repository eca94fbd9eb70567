//! Deliveries through courier networks (Dada): the delivery side of `Order`, quotes, our
//! stores and the merchant account, and the mutations that dispatch and manage deliveries.
//! Same conventions as the rest: one `input`, a payload with `userErrors`, every platform
//! refusal kept with its own code in `platformCode`.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{delivery_quote, orders as order_row, shop};
use rust_decimal::Decimal;

use super::{
    errors::{UserError, internal, refusal},
    ids::{self, Kind, encode},
    query::GeoPointInput,
    refused, state,
    types::{GeoPoint, Money, Order, ProviderId, Shop, money},
};
use crate::{
    AppState, domain,
    orders::{self, DeliveryInput, DispatchDelivery, DispatchSource, OrderError, UserErrorCode},
    providers::delivery as net,
};

fn bad_id(field: &str, what: &str) -> Vec<UserError> {
    refused(vec![orders::UserError::new(
        &[field],
        UserErrorCode::InvalidInput,
        format!("{field} is not {what}"),
    )])
}

/// Splits a service result into the payload's object and its user errors.
fn settle<T, U>(
    r: Result<T, OrderError>,
    wrap: impl FnOnce(T) -> U,
) -> Result<(Option<U>, Vec<UserError>)> {
    match r {
        Ok(v) => Ok((Some(wrap(v)), vec![])),
        Err(OrderError::User(e)) => Ok((None, refused(e))),
        Err(OrderError::Db(e)) => Err(internal(e)),
    }
}

/// The read side's version: a refusal becomes a GraphQL error with its codes.
fn answer<T>(r: Result<T, OrderError>) -> Result<T> {
    match r {
        Ok(v) => Ok(v),
        Err(OrderError::User(mut e)) if !e.is_empty() => Err(refusal(e.remove(0))),
        Err(OrderError::User(_)) => Err(internal("empty refusal")),
        Err(OrderError::Db(e)) => Err(internal(e)),
    }
}

/// The delivery side of an order.
pub struct Delivery(pub order_row::Model);

#[derive(SimpleObject)]
pub struct DeliveryFees {
    /// What the merchant pays: freight after coupons, plus tips and insurance.
    pub total: Money,
    /// Freight before coupons.
    pub delivery_fee: Option<Money>,
    pub coupon: Option<Money>,
    pub tips: Option<Money>,
    pub insurance: Option<Money>,
    /// What the platform kept when the order was cancelled.
    pub penalty: Option<Money>,
}

/// A courier's request to cancel, and our answer.
#[derive(SimpleObject)]
pub struct CourierCancellation {
    pub reason: Option<String>,
    pub requested_at: Option<DateTime<Utc>>,
    pub answer: CourierCancellationAnswer,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum CourierCancellationAnswer {
    /// Waiting for `respondToCourierCancellation` (or the automatic policy).
    Pending,
    Accepted,
    Rejected,
}

#[Object]
impl Delivery {
    /// Our reference for the order at the platform (Dada `origin_id`).
    async fn origin_id(&self) -> Option<&str> {
        self.0.external_id.as_deref()
    }
    /// The platform's own number (the waybill number), once it has one.
    async fn platform_order_id(&self) -> Option<&str> {
        self.0.platform_ref.as_deref()
    }
    /// The courier company carrying it, on a network of several (WeChat `delivery_id`).
    async fn company(&self) -> Option<&str> {
        self.0.courier_company.as_deref()
    }
    async fn city_code(&self) -> Option<&str> {
        self.0.city_code.as_deref()
    }
    async fn receiver_location(&self) -> Option<GeoPoint> {
        Some(GeoPoint {
            lng: self.0.receiver_lng?,
            lat: self.0.receiver_lat?,
        })
    }
    async fn cargo_price(&self) -> Option<Money> {
        self.0.cargo_price_fen.map(money)
    }
    /// Kilograms, as a decimal string ("1.5").
    async fn cargo_weight_kg(&self) -> Option<String> {
        self.0.cargo_weight_g.map(|g| {
            (Decimal::from(g) / Decimal::from(1000))
                .normalize()
                .to_string()
        })
    }
    async fn fees(&self) -> DeliveryFees {
        DeliveryFees {
            total: money(self.0.fee_fen),
            delivery_fee: self.0.delivery_fee_fen.map(money),
            coupon: self.0.coupon_fen.map(money),
            tips: self.0.tips_fen.map(money),
            insurance: self.0.insurance_fen.map(money),
            penalty: self.0.penalty_fen.map(money),
        }
    }
    async fn distance_meters(&self) -> Option<i64> {
        self.0.distance_m
    }
    /// The code the receiver gives the courier, when the platform uses one.
    async fn finish_code(&self) -> Option<&str> {
        self.0.finish_code.as_deref()
    }
    /// 1 for the first dispatch, one more per `redispatchDelivery`.
    async fn dispatch_round(&self) -> i32 {
        self.0.dispatch_round
    }
    /// When the platform should publish the order (delayed dispatch).
    async fn publish_at(&self) -> Option<DateTime<Utc>> {
        self.0.appoint_time
    }
    /// The latest request of a courier to cancel, if any.
    async fn courier_cancellation(&self) -> Option<CourierCancellation> {
        let answer = match self.0.courier_cancel_answer.as_deref()? {
            "ACCEPTED" => CourierCancellationAnswer::Accepted,
            "REJECTED" => CourierCancellationAnswer::Rejected,
            _ => CourierCancellationAnswer::Pending,
        };
        Some(CourierCancellation {
            reason: self.0.courier_cancel_reason.clone(),
            requested_at: self.0.courier_cancel_at,
            answer,
        })
    }
}

/// A courier of a courier network.
#[derive(SimpleObject, Clone)]
pub struct Courier {
    /// The platform's id of the courier (what `assignCourier` takes).
    pub id: Option<String>,
    pub name: Option<String>,
    pub phone: Option<String>,
    /// Last known position.
    pub position: Option<GeoPoint>,
    /// When we last heard of the courier.
    pub seen_at: Option<DateTime<Utc>>,
    /// When the courier expects to arrive, as the company last said.
    pub eta: Option<DateTime<Utc>>,
}

impl Courier {
    pub fn of_order(o: &order_row::Model) -> Option<Self> {
        if o.courier_name.is_none() && o.courier_id.is_none() {
            return None;
        }
        Some(Self {
            id: o.courier_id.clone(),
            name: o.courier_name.clone(),
            phone: o.courier_phone.clone(),
            position: match (o.courier_lng, o.courier_lat) {
                (Some(lng), Some(lat)) => Some(GeoPoint { lng, lat }),
                _ => None,
            },
            seen_at: o.courier_seen_at,
            eta: o.courier_eta,
        })
    }

    fn from_net(c: net::Courier) -> Self {
        Self {
            id: c.id,
            name: c.name,
            phone: c.phone,
            position: c.position.map(|p| GeoPoint {
                lng: p.lng,
                lat: p.lat,
            }),
            seen_at: None,
            eta: None,
        }
    }
}

/// Our store at a courier network.
pub struct StoreInfo(pub shop::Model);

#[Object]
impl StoreInfo {
    async fn address(&self) -> Option<&str> {
        self.0.address.as_deref()
    }
    async fn area_name(&self) -> Option<&str> {
        self.0.area_name.as_deref()
    }
    async fn contact_name(&self) -> Option<&str> {
        self.0.contact_name.as_deref()
    }
    async fn phone(&self) -> Option<&str> {
        self.0.contact_phone.as_deref()
    }
    /// The platform's business type (Dada: 1 food, 2 drinks, 3 flowers, …).
    async fn business_type(&self) -> Option<i32> {
        self.0.business_type
    }
    /// The platform's code of the store's city; dispatches default to it.
    async fn city_code(&self) -> Option<&str> {
        self.0.city_code.as_deref()
    }
    /// Whether the store takes orders, when we set it.
    async fn open(&self) -> Option<bool> {
        self.0.open
    }
}

/// What a delivery would cost; dispatch it with `dispatchDelivery(input: {quoteId})` before
/// `expiresAt`.
pub struct DeliveryQuote(pub delivery_quote::Model);

#[Object]
impl DeliveryQuote {
    async fn id(&self) -> ID {
        encode(Kind::Quote, self.0.id)
    }
    async fn provider(&self) -> Result<ProviderId> {
        Ok(super::types::parse::<domain::ProviderId>(&self.0.provider)?.into())
    }
    async fn shop(&self, ctx: &Context<'_>) -> Result<Option<Shop>> {
        Ok(ctx
            .data::<super::loaders::Loaders>()?
            .shops
            .load_one(self.0.shop_id)
            .await?
            .map(Shop))
    }
    /// The courier company quoting (WeChat `delivery_id`); null on single-company networks.
    async fn company(&self) -> Option<&str> {
        self.0.company.as_deref()
    }
    /// Expected minutes until a courier is found, when the company says.
    async fn dispatch_minutes(&self) -> Option<i64> {
        self.0.dispatch_minutes
    }
    /// The reference the dispatched order will carry.
    async fn origin_id(&self) -> &str {
        &self.0.origin_id
    }
    /// The platform's handle of the quote (Dada `deliveryNo`).
    async fn platform_quote_id(&self) -> &str {
        &self.0.token
    }
    async fn fees(&self) -> DeliveryFees {
        DeliveryFees {
            total: money(self.0.fee_fen),
            delivery_fee: Some(money(self.0.delivery_fee_fen)),
            coupon: Some(money(self.0.coupon_fen)),
            tips: Some(money(self.0.tips_fen)),
            insurance: Some(money(self.0.insurance_fen)),
            penalty: None,
        }
    }
    async fn distance_meters(&self) -> i64 {
        self.0.distance_m
    }
    async fn expires_at(&self) -> DateTime<Utc> {
        self.0.expires_at
    }
    /// The order it was dispatched as, if it was.
    async fn order(&self, ctx: &Context<'_>) -> Result<Option<Order>> {
        let Some(id) = self.0.order_id else {
            return Ok(None);
        };
        Ok(ctx
            .data::<super::loaders::Loaders>()?
            .orders
            .load_one(id)
            .await?
            .map(Order))
    }
}

#[derive(SimpleObject)]
pub struct Reason {
    pub id: i64,
    pub text: String,
}

fn reasons(list: Result<Vec<net::Reason>, OrderError>) -> Result<Vec<Reason>> {
    Ok(answer(list)?
        .into_iter()
        .map(|r| Reason {
            id: r.id,
            text: r.text,
        })
        .collect())
}

#[derive(SimpleObject)]
pub struct City {
    pub name: String,
    pub code: String,
}

#[derive(SimpleObject)]
pub struct DeliveryBalance {
    /// Prepaid freight balance.
    pub delivery: Option<Money>,
    /// Red-packet (coupon) balance.
    pub red_packet: Option<Money>,
}

#[derive(SimpleObject)]
pub struct DeliveryCompany {
    /// The network's id of the company (WeChat `delivery_id`, e.g. `SFTC`).
    pub id: String,
    pub name: String,
}

#[derive(SimpleObject)]
pub struct BoundDeliveryAccount {
    /// The company (`deliveryCompanies`).
    pub company: String,
    /// Our account at the company (WeChat `shopid`).
    pub shop_id: String,
    pub audit: AuditState,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "crate::providers::delivery::AuditState")]
pub enum AuditState {
    Passed,
    Reviewing,
    Rejected,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "crate::providers::delivery::RechargeChannel")]
pub enum RechargeChannel {
    Pc,
    H5,
}

#[derive(Default)]
pub struct DeliveryQuery;

#[Object]
impl DeliveryQuery {
    /// The reasons `cancelOrder` takes for a delivery (`reasonId`).
    async fn delivery_cancel_reasons(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "ProviderId::Dada")] provider: ProviderId,
    ) -> Result<Vec<Reason>> {
        reasons(state(ctx)?.orders.cancel_reasons(provider.into()).await)
    }

    /// The reasons `complainAboutCourier` takes.
    async fn delivery_complaint_reasons(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "ProviderId::Dada")] provider: ProviderId,
    ) -> Result<Vec<Reason>> {
        reasons(state(ctx)?.orders.complaint_reasons(provider.into()).await)
    }

    /// The cities the network serves, with their codes.
    async fn delivery_cities(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "ProviderId::Dada")] provider: ProviderId,
    ) -> Result<Vec<City>> {
        let list = answer(state(ctx)?.catalog.cities(provider.into()).await)?;
        Ok(list
            .into_iter()
            .map(|c| City {
                name: c.name,
                code: c.code,
            })
            .collect())
    }

    /// The merchant's balances at the network.
    async fn delivery_balance(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "ProviderId::Dada")] provider: ProviderId,
    ) -> Result<DeliveryBalance> {
        let b = answer(state(ctx)?.catalog.balance(provider.into()).await)?;
        Ok(DeliveryBalance {
            delivery: b.delivery.map(|m| money(m.fen())),
            red_packet: b.red_packet.map(|m| money(m.fen())),
        })
    }

    /// A payment page that tops up the freight balance by `amountFen`.
    async fn delivery_recharge_link(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "ProviderId::Dada")] provider: ProviderId,
        amount_fen: i64,
        #[graphql(default_with = "RechargeChannel::Pc")] channel: RechargeChannel,
        notify_url: Option<String>,
    ) -> Result<String> {
        answer(
            state(ctx)?
                .catalog
                .recharge_link(
                    provider.into(),
                    domain::Money::from_fen(amount_fen),
                    channel.into(),
                    notify_url.as_deref(),
                )
                .await,
        )
    }

    /// Couriers a delivery of this store can be appointed to (`assignCourier`).
    async fn appointable_couriers(&self, ctx: &Context<'_>, shop_id: ID) -> Result<Vec<Courier>> {
        let Some(id) = ids::decode(Kind::Shop, &shop_id) else {
            return Err(super::errors::invalid("shopId is not a shop id"));
        };
        let list = answer(state(ctx)?.orders.appointable_couriers(id).await)?;
        Ok(list.into_iter().map(Courier::from_net).collect())
    }

    /// The courier companies of a network of several (WeChat).
    async fn delivery_companies(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "ProviderId::Wechat")] provider: ProviderId,
    ) -> Result<Vec<DeliveryCompany>> {
        Ok(answer(state(ctx)?.orders.companies(provider.into()).await)?
            .into_iter()
            .map(|c| DeliveryCompany {
                id: c.id,
                name: c.name,
            })
            .collect())
    }

    /// Our accounts at those companies, with their review state.
    async fn bound_delivery_accounts(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "ProviderId::Wechat")] provider: ProviderId,
    ) -> Result<Vec<BoundDeliveryAccount>> {
        Ok(
            answer(state(ctx)?.orders.bound_accounts(provider.into()).await)?
                .into_iter()
                .map(|a| BoundDeliveryAccount {
                    company: a.company_id,
                    shop_id: a.shop_id,
                    audit: a.audit.into(),
                })
                .collect(),
        )
    }

    async fn delivery_quote(&self, ctx: &Context<'_>, id: ID) -> Result<Option<DeliveryQuote>> {
        let Some(id) = ids::decode(Kind::Quote, &id) else {
            return Err(super::errors::invalid("id is not a quote id"));
        };
        Ok(state(ctx)?
            .orders
            .quote(id)
            .await
            .map_err(internal)?
            .map(DeliveryQuote))
    }
}

#[derive(InputObject)]
pub struct ReceiverInput {
    pub name: String,
    pub phone: String,
    /// Full street address.
    pub address: String,
    /// Helps the platform price the distance.
    pub location: Option<GeoPointInput>,
}

#[derive(InputObject)]
pub struct DeliveryInputGql {
    /// One of our stores at a courier network (`shops(filter: {provider: DADA})`).
    pub shop_id: ID,
    pub receiver: ReceiverInput,
    /// The network's city code; defaults to the store's.
    pub city_code: Option<String>,
    /// Value of the goods, in fen.
    pub cargo_price_fen: i64,
    pub cargo_weight_kg: f64,
    /// Whether the courier pays the store for the goods.
    #[graphql(default)]
    pub prepaid: bool,
    /// Tip for the courier, in fen.
    #[graphql(default)]
    pub tip_fen: i64,
    pub note: Option<String>,
    /// Publish later instead of now.
    pub publish_at: Option<DateTime<Utc>>,
    /// Your own order number for it (unique per network); generated when absent.
    pub origin_id: Option<String>,
    /// On a network of several courier companies (WeChat): the company (`deliveryCompanies`)
    /// to dispatch with, or to quote with only.
    pub company: Option<String>,
}

impl DeliveryInputGql {
    fn into_domain(self, errors: &mut Vec<orders::UserError>) -> Option<DeliveryInput> {
        let shop_id = ids::decode(Kind::Shop, &self.shop_id);
        if shop_id.is_none() {
            errors.push(orders::UserError::new(
                &["delivery", "shopId"],
                UserErrorCode::InvalidInput,
                "shopId is not a shop id",
            ));
        }
        let location = match self.receiver.location {
            None => None,
            Some(p) => match domain::GeoPoint::new(p.lng, p.lat) {
                Some(g) => Some(g),
                None => {
                    errors.push(orders::UserError::new(
                        &["delivery", "receiver", "location"],
                        UserErrorCode::InvalidInput,
                        "location is out of range",
                    ));
                    None
                }
            },
        };
        let weight = if self.cargo_weight_kg.is_finite() {
            Decimal::try_from(self.cargo_weight_kg)
                .ok()
                .map(|d| d.round_dp(3))
        } else {
            None
        };
        let Some(weight) = weight else {
            errors.push(orders::UserError::new(
                &["delivery", "cargoWeightKg"],
                UserErrorCode::InvalidInput,
                "cargoWeightKg is not a number",
            ));
            return None;
        };
        Some(DeliveryInput {
            shop_id: shop_id?,
            receiver_name: self.receiver.name,
            receiver_phone: self.receiver.phone,
            receiver_address: self.receiver.address,
            receiver_location: location,
            city_code: self.city_code.filter(|c| !c.trim().is_empty()),
            cargo_price: domain::Money::from_fen(self.cargo_price_fen),
            cargo_weight_kg: weight,
            prepaid: self.prepaid,
            tips: domain::Money::from_fen(self.tip_fen),
            note: self.note.filter(|n| !n.trim().is_empty()),
            publish_at: self.publish_at,
            origin_id: self.origin_id,
            company: self.company,
        })
    }
}

#[derive(InputObject)]
pub struct QuoteDeliveryInput {
    pub delivery: DeliveryInputGql,
}

#[derive(SimpleObject)]
pub struct QuoteDeliveryPayload {
    /// The cheapest quote.
    pub quote: Option<DeliveryQuote>,
    /// Every company's quote, cheapest first (one on single-company networks).
    pub quotes: Vec<DeliveryQuote>,
    /// Companies that could not quote (with `field` naming the company), or why nothing
    /// could be quoted.
    pub user_errors: Vec<UserError>,
}

/// Exactly one of `quoteId` and `delivery`.
#[derive(InputObject)]
pub struct DispatchDeliveryInput {
    /// Dispatch a quote from `quoteDelivery` (before it expires).
    pub quote_id: Option<ID>,
    /// Or dispatch directly.
    pub delivery: Option<DeliveryInputGql>,
    /// Repeat a request with the same key to get the same order back.
    pub idempotency_key: Option<String>,
}

#[derive(SimpleObject)]
pub struct OrderPayload {
    pub order: Option<Order>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct OrderIdInput {
    pub order_id: ID,
}

#[derive(InputObject)]
pub struct AddTipInput {
    pub order_id: ID,
    /// The new total tip in fen (not an increment): at least 1 yuan, more than the last.
    pub tip_fen: i64,
    pub note: Option<String>,
}

#[derive(InputObject)]
pub struct AssignCourierInput {
    pub order_id: ID,
    /// From `appointableCouriers`.
    pub courier_id: String,
}

#[derive(InputObject)]
pub struct ComplainAboutCourierInput {
    pub order_id: ID,
    /// From `deliveryComplaintReasons`.
    pub reason_id: i64,
}

#[derive(InputObject)]
pub struct RespondToCourierCancellationInput {
    pub order_id: ID,
    /// True lets the courier cancel; false asks them to carry on.
    pub accept: bool,
}

#[derive(InputObject)]
pub struct SimulateDeliveryStatusInput {
    pub order_id: ID,
    /// The platform's status code to move to (Dada: 2, 3, 4, 5, 7, 9; WeChat: 101–502).
    pub raw_status: i64,
}

#[derive(InputObject)]
pub struct PreviewCancellationInput {
    pub order_id: ID,
    /// As for `cancelOrder`; "other" when absent.
    pub reason_id: Option<i64>,
    pub reason: Option<String>,
}

#[derive(SimpleObject)]
pub struct PreviewCancellationPayload {
    /// What the platform would keep if the order were cancelled now.
    pub penalty: Option<Money>,
    pub description: Option<String>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct BindDeliveryAccountInput {
    #[graphql(default_with = "ProviderId::Wechat")]
    pub provider: ProviderId,
    /// The company (`deliveryCompanies`).
    pub company: String,
}

#[derive(InputObject)]
pub struct OpenDeliveryServiceInput {
    #[graphql(default_with = "ProviderId::Wechat")]
    pub provider: ProviderId,
}

#[derive(SimpleObject)]
pub struct DonePayload {
    pub ok: bool,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct StoreInput {
    /// Your number for the store; the network assigns one when absent.
    pub shop_no: Option<String>,
    pub name: String,
    /// The network's business type (Dada: 1 food, 2 drinks, 3 flowers, 5 fresh, …).
    pub business_type: i32,
    pub city_name: String,
    pub area_name: String,
    pub address: String,
    pub location: GeoPointInput,
    pub contact_name: String,
    pub phone: String,
}

#[derive(InputObject)]
pub struct RegisterDeliveryShopsInput {
    #[graphql(default_with = "ProviderId::Dada")]
    pub provider: ProviderId,
    pub shops: Vec<StoreInput>,
}

#[derive(SimpleObject)]
pub struct StoreFailure {
    pub shop_no: Option<String>,
    pub name: String,
    pub platform_code: Option<String>,
    pub message: String,
}

#[derive(SimpleObject)]
pub struct RegisterDeliveryShopsPayload {
    /// The stores the network accepted, now `Shop`s here.
    pub shops: Vec<Shop>,
    /// The ones it refused, each with its reason.
    pub failures: Vec<StoreFailure>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct UpdateDeliveryShopInput {
    pub shop_id: ID,
    pub new_shop_no: Option<String>,
    pub name: Option<String>,
    pub business_type: Option<i32>,
    pub city_name: Option<String>,
    pub area_name: Option<String>,
    pub address: Option<String>,
    pub location: Option<GeoPointInput>,
    pub contact_name: Option<String>,
    pub phone: Option<String>,
    /// Open (true) or close (false) the store for orders.
    pub open: Option<bool>,
}

#[derive(InputObject)]
pub struct ImportDeliveryShopInput {
    #[graphql(default_with = "ProviderId::Dada")]
    pub provider: ProviderId,
    /// The store's number at the network.
    pub shop_no: String,
}

#[derive(SimpleObject)]
pub struct ShopPayload {
    pub shop: Option<Shop>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct RegisterDeliveryMerchantInput {
    #[graphql(default_with = "ProviderId::Dada")]
    pub provider: ProviderId,
    pub mobile: String,
    pub city_name: String,
    pub enterprise_name: String,
    pub enterprise_address: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub email: String,
}

#[derive(SimpleObject)]
pub struct RegisterDeliveryMerchantPayload {
    /// The new merchant's id at the network (Dada `source_id`): configure it to use it.
    pub merchant_id: Option<String>,
    pub user_errors: Vec<UserError>,
}

fn geo(p: GeoPointInput, field: &[&str], errors: &mut Vec<orders::UserError>) -> domain::GeoPoint {
    domain::GeoPoint::new(p.lng, p.lat).unwrap_or_else(|| {
        errors.push(orders::UserError::new(
            field,
            UserErrorCode::InvalidInput,
            "location is out of range",
        ));
        domain::GeoPoint { lng: 0.0, lat: 0.0 }
    })
}

#[derive(Default)]
pub struct DeliveryMutation;

impl DeliveryMutation {
    async fn on_order(
        ctx: &Context<'_>,
        id: &ID,
        run: impl AsyncFnOnce(&AppState, i64) -> Result<order_row::Model, OrderError>,
    ) -> Result<OrderPayload> {
        let st = state(ctx)?;
        let Some(id) = ids::decode(Kind::Order, id) else {
            return Ok(OrderPayload {
                order: None,
                user_errors: bad_id("orderId", "an order id"),
            });
        };
        let (order, user_errors) = settle(run(st, id).await, Order)?;
        Ok(OrderPayload { order, user_errors })
    }
}

#[Object]
impl DeliveryMutation {
    /// Asks the store's courier network what a delivery costs. The quote can be dispatched
    /// until it expires (Dada: 3 minutes).
    async fn quote_delivery(
        &self,
        ctx: &Context<'_>,
        input: QuoteDeliveryInput,
    ) -> Result<QuoteDeliveryPayload> {
        let st = state(ctx)?;
        let mut errors = Vec::new();
        let Some(d) = input
            .delivery
            .into_domain(&mut errors)
            .filter(|_| errors.is_empty())
        else {
            return Ok(QuoteDeliveryPayload {
                quote: None,
                quotes: vec![],
                user_errors: refused(errors),
            });
        };
        match st.orders.quote_delivery(d).await {
            Ok(mut q) => {
                q.quotes.sort_by_key(|r| (r.fee_fen, r.id));
                let quotes: Vec<DeliveryQuote> = q.quotes.into_iter().map(DeliveryQuote).collect();
                Ok(QuoteDeliveryPayload {
                    quote: quotes.first().map(|r| DeliveryQuote(r.0.clone())),
                    quotes,
                    user_errors: refused(q.refusals),
                })
            }
            Err(OrderError::User(e)) => Ok(QuoteDeliveryPayload {
                quote: None,
                quotes: vec![],
                user_errors: refused(e),
            }),
            Err(OrderError::Db(e)) => Err(internal(e)),
        }
    }

    /// Dispatches a delivery: from a quote, or directly. The merchant's balance at the
    /// network pays for it.
    async fn dispatch_delivery(
        &self,
        ctx: &Context<'_>,
        input: DispatchDeliveryInput,
    ) -> Result<OrderPayload> {
        let st = state(ctx)?;
        let mut errors = Vec::new();
        let source = match (input.quote_id, input.delivery) {
            (Some(q), None) => match ids::decode(Kind::Quote, &q) {
                Some(id) => Some(DispatchSource::Quote(id)),
                None => {
                    errors.push(orders::UserError::new(
                        &["quoteId"],
                        UserErrorCode::InvalidInput,
                        "quoteId is not a quote id",
                    ));
                    None
                }
            },
            (None, Some(d)) => d
                .into_domain(&mut errors)
                .map(|d| DispatchSource::Direct(Box::new(d))),
            _ => {
                errors.push(orders::UserError::new(
                    &[],
                    UserErrorCode::InvalidInput,
                    "give exactly one of quoteId and delivery",
                ));
                None
            }
        };
        let (Some(source), true) = (source, errors.is_empty()) else {
            return Ok(OrderPayload {
                order: None,
                user_errors: refused(errors),
            });
        };
        let request = DispatchDelivery {
            source,
            idempotency_key: input.idempotency_key,
        };
        let (order, user_errors) = settle(st.orders.dispatch_delivery(request).await, Order)?;
        Ok(OrderPayload { order, user_errors })
    }

    /// Sends again, as the same order, a delivery the network ended (cancelled, expired,
    /// returned or failed).
    async fn redispatch_delivery(
        &self,
        ctx: &Context<'_>,
        input: OrderIdInput,
    ) -> Result<OrderPayload> {
        Self::on_order(ctx, &input.order_id, async |st, id| {
            st.orders.redispatch_delivery(id).await
        })
        .await
    }

    /// Raises the courier's tip while the order waits for a courier.
    async fn add_tip(&self, ctx: &Context<'_>, input: AddTipInput) -> Result<OrderPayload> {
        let tip = domain::Money::from_fen(input.tip_fen);
        let note = input.note;
        Self::on_order(ctx, &input.order_id, async move |st, id| {
            st.orders.add_tip(id, tip, note).await
        })
        .await
    }

    /// Appoints the delivery to a courier who recently served the store.
    async fn assign_courier(
        &self,
        ctx: &Context<'_>,
        input: AssignCourierInput,
    ) -> Result<OrderPayload> {
        let courier = input.courier_id;
        Self::on_order(ctx, &input.order_id, async move |st, id| {
            st.orders.assign_courier(id, &courier).await
        })
        .await
    }

    /// Withdraws an appointment the courier has not accepted yet.
    async fn unassign_courier(
        &self,
        ctx: &Context<'_>,
        input: OrderIdInput,
    ) -> Result<OrderPayload> {
        Self::on_order(ctx, &input.order_id, async |st, id| {
            st.orders.unassign_courier(id).await
        })
        .await
    }

    async fn complain_about_courier(
        &self,
        ctx: &Context<'_>,
        input: ComplainAboutCourierInput,
    ) -> Result<OrderPayload> {
        let reason = input.reason_id;
        Self::on_order(ctx, &input.order_id, async move |st, id| {
            st.orders.complain_about_courier(id, reason).await
        })
        .await
    }

    /// Confirms the store got back the goods of an undeliverable order.
    async fn confirm_returned_goods(
        &self,
        ctx: &Context<'_>,
        input: OrderIdInput,
    ) -> Result<OrderPayload> {
        Self::on_order(ctx, &input.order_id, async |st, id| {
            st.orders.confirm_returned_goods(id).await
        })
        .await
    }

    /// Answers a courier's request to cancel (see `Order.delivery.courierCancellation`).
    async fn respond_to_courier_cancellation(
        &self,
        ctx: &Context<'_>,
        input: RespondToCourierCancellationInput,
    ) -> Result<OrderPayload> {
        let accept = input.accept;
        Self::on_order(ctx, &input.order_id, async move |st, id| {
            st.orders.respond_to_courier_cancellation(id, accept).await
        })
        .await
    }

    /// Platforms' test environments only (Dada's simulation endpoints, WeChat's TEST
    /// company): moves the order as a courier would. The change arrives through the
    /// platform's callback, like a real one; the payload's order is as it was before.
    async fn simulate_delivery_status(
        &self,
        ctx: &Context<'_>,
        input: SimulateDeliveryStatusInput,
    ) -> Result<OrderPayload> {
        let raw = input.raw_status;
        Self::on_order(ctx, &input.order_id, async move |st, id| {
            st.orders.simulate_delivery_status(id, raw).await
        })
        .await
    }

    /// What cancelling would cost now, without cancelling.
    async fn preview_cancellation(
        &self,
        ctx: &Context<'_>,
        input: PreviewCancellationInput,
    ) -> Result<PreviewCancellationPayload> {
        let st = state(ctx)?;
        let Some(id) = ids::decode(Kind::Order, &input.order_id) else {
            return Ok(PreviewCancellationPayload {
                penalty: None,
                description: None,
                user_errors: bad_id("orderId", "an order id"),
            });
        };
        let (preview, user_errors) = settle(
            st.orders
                .preview_cancellation(id, input.reason_id, input.reason)
                .await,
            |p| p,
        )?;
        Ok(PreviewCancellationPayload {
            penalty: preview.as_ref().map(|p| money(p.penalty.fen())),
            description: preview.and_then(|p| p.description),
            user_errors,
        })
    }

    /// Asks to bind our account at a courier company (reviewed by the company).
    async fn bind_delivery_account(
        &self,
        ctx: &Context<'_>,
        input: BindDeliveryAccountInput,
    ) -> Result<DonePayload> {
        let st = state(ctx)?;
        let (ok, user_errors) = settle(
            st.orders
                .bind_account(input.provider.into(), input.company.trim())
                .await,
            |()| true,
        )?;
        Ok(DonePayload {
            ok: ok.unwrap_or(false),
            user_errors,
        })
    }

    /// Opens the instant-delivery service for the mini-program.
    async fn open_delivery_service(
        &self,
        ctx: &Context<'_>,
        input: OpenDeliveryServiceInput,
    ) -> Result<DonePayload> {
        let st = state(ctx)?;
        let (ok, user_errors) =
            settle(st.orders.open_service(input.provider.into()).await, |()| {
                true
            })?;
        Ok(DonePayload {
            ok: ok.unwrap_or(false),
            user_errors,
        })
    }

    /// Registers stores at the network; each is accepted or refused on its own.
    async fn register_delivery_shops(
        &self,
        ctx: &Context<'_>,
        input: RegisterDeliveryShopsInput,
    ) -> Result<RegisterDeliveryShopsPayload> {
        let st = state(ctx)?;
        let mut errors = Vec::new();
        let stores: Vec<net::Store> = input
            .shops
            .into_iter()
            .enumerate()
            .map(|(i, s)| net::Store {
                shop_no: s.shop_no.filter(|n| !n.trim().is_empty()),
                name: s.name,
                business: s.business_type,
                city_name: s.city_name,
                area_name: s.area_name,
                address: s.address,
                location: geo(
                    s.location,
                    &["shops", &i.to_string(), "location"],
                    &mut errors,
                ),
                contact_name: s.contact_name,
                phone: s.phone,
            })
            .collect();
        if !errors.is_empty() {
            return Ok(RegisterDeliveryShopsPayload {
                shops: vec![],
                failures: vec![],
                user_errors: refused(errors),
            });
        }
        match st
            .catalog
            .register_stores(input.provider.into(), stores)
            .await
        {
            Ok(r) => Ok(RegisterDeliveryShopsPayload {
                shops: r.added.into_iter().map(Shop).collect(),
                failures: r
                    .failed
                    .into_iter()
                    .map(|f| StoreFailure {
                        shop_no: f.shop_no,
                        name: f.name,
                        platform_code: f.code,
                        message: f.message,
                    })
                    .collect(),
                user_errors: vec![],
            }),
            Err(OrderError::User(e)) => Ok(RegisterDeliveryShopsPayload {
                shops: vec![],
                failures: vec![],
                user_errors: refused(e),
            }),
            Err(OrderError::Db(e)) => Err(internal(e)),
        }
    }

    /// Changes a store at the network; only the given fields change.
    async fn update_delivery_shop(
        &self,
        ctx: &Context<'_>,
        input: UpdateDeliveryShopInput,
    ) -> Result<ShopPayload> {
        let st = state(ctx)?;
        let Some(id) = ids::decode(Kind::Shop, &input.shop_id) else {
            return Ok(ShopPayload {
                shop: None,
                user_errors: bad_id("shopId", "a shop id"),
            });
        };
        let mut errors = Vec::new();
        let update = net::StoreUpdate {
            shop_no: String::new(),
            new_shop_no: input.new_shop_no,
            name: input.name,
            business: input.business_type,
            city_name: input.city_name,
            area_name: input.area_name,
            address: input.address,
            location: input.location.map(|p| geo(p, &["location"], &mut errors)),
            contact_name: input.contact_name,
            phone: input.phone,
            open: input.open,
        };
        if !errors.is_empty() {
            return Ok(ShopPayload {
                shop: None,
                user_errors: refused(errors),
            });
        }
        let (shop, user_errors) = settle(st.catalog.update_store(id, update).await, Shop)?;
        Ok(ShopPayload { shop, user_errors })
    }

    /// Makes an existing store at the network (by its number) a `Shop` here.
    async fn import_delivery_shop(
        &self,
        ctx: &Context<'_>,
        input: ImportDeliveryShopInput,
    ) -> Result<ShopPayload> {
        let st = state(ctx)?;
        let (shop, user_errors) = settle(
            st.catalog
                .import_store(input.provider.into(), input.shop_no.trim())
                .await,
            Shop,
        )?;
        Ok(ShopPayload { shop, user_errors })
    }

    /// Opens a merchant account at the network.
    async fn register_delivery_merchant(
        &self,
        ctx: &Context<'_>,
        input: RegisterDeliveryMerchantInput,
    ) -> Result<RegisterDeliveryMerchantPayload> {
        let st = state(ctx)?;
        let m = net::MerchantRegistration {
            mobile: input.mobile,
            city_name: input.city_name,
            enterprise_name: input.enterprise_name,
            enterprise_address: input.enterprise_address,
            contact_name: input.contact_name,
            contact_phone: input.contact_phone,
            email: input.email,
        };
        let (merchant_id, user_errors) = settle(
            st.catalog
                .register_merchant(input.provider.into(), &m)
                .await,
            |id| id,
        )?;
        Ok(RegisterDeliveryMerchantPayload {
            merchant_id,
            user_errors,
        })
    }
}
