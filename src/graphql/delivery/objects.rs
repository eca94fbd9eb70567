//! The delivery objects: the delivery side of an order, couriers, our stores at a network,
//! quotes, and the small values the delivery queries answer with.

use async_graphql::{Context, Enum, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::{
    catalog::repo::ShopRow,
    domain::{self, delivery as net},
    graphql::{
        ids::{Kind, encode},
        loaders::Loaders,
        types::{GeoPoint, Money, Order, ProviderId, Shop, money, parse},
    },
    orders::repo::{DeliveryQuoteRow, OrderRow},
};

pub struct Delivery(pub OrderRow);

/// The fees of a delivery, as the courier network computed them. A part is null when the
/// network does not report it.
#[derive(SimpleObject)]
pub struct DeliveryFees {
    /// What the merchant pays: freight after coupons, plus tips and insurance.
    pub total: Money,
    /// Freight before coupons.
    pub delivery_fee: Option<Money>,
    /// What coupons took off the freight.
    pub coupon: Option<Money>,
    /// The tip for the courier.
    pub tips: Option<Money>,
    /// The goods' insurance fee.
    pub insurance: Option<Money>,
    /// What the platform kept when the order was cancelled.
    pub penalty: Option<Money>,
}

/// A courier's request to cancel, and our answer.
#[derive(SimpleObject)]
pub struct CourierCancellation {
    /// Why the courier wants to cancel, in the platform's words; null when not given.
    pub reason: Option<String>,
    /// When the courier asked; null when the platform does not say.
    pub requested_at: Option<DateTime<Utc>>,
    /// Our answer so far.
    pub answer: CourierCancellationAnswer,
}

/// Our answer to a courier's request to cancel.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum CourierCancellationAnswer {
    /// Waiting for `respondToCourierCancellation` (or the automatic policy).
    Pending,
    /// We let the courier cancel.
    Accepted,
    /// We asked the courier to carry on.
    Rejected,
}

/// The delivery side of an order: references at the network, cargo, fees, dispatch round
/// and a courier's request to cancel.
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
    /// The network's code of the city the delivery is in (see `deliveryCities`).
    async fn city_code(&self) -> Option<&str> {
        self.0.city_code.as_deref()
    }
    /// Where the goods go; null when the dispatch gave no position.
    async fn receiver_location(&self) -> Option<GeoPoint> {
        Some(GeoPoint {
            lng: self.0.receiver_lng?,
            lat: self.0.receiver_lat?,
        })
    }
    /// The value of the goods.
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
    /// What the delivery costs the merchant, and its parts.
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
    /// The distance the network priced, in metres; null until it says.
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
    /// The courier's name; null when the platform does not say.
    pub name: Option<String>,
    /// The courier's phone number; null when the platform does not say.
    pub phone: Option<String>,
    /// Last known position.
    pub position: Option<GeoPoint>,
    /// When we last heard of the courier.
    pub seen_at: Option<DateTime<Utc>>,
    /// When the courier expects to arrive, as the company last said.
    pub eta: Option<DateTime<Utc>>,
}

impl Courier {
    pub fn of_order(o: &OrderRow) -> Option<Self> {
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

    pub(super) fn from_net(c: net::Courier) -> Self {
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

pub struct StoreInfo(pub ShopRow);

/// One of our stores at a courier network, as we registered it there. A field is null when
/// we do not know it.
#[Object]
impl StoreInfo {
    /// The store's street address.
    async fn address(&self) -> Option<&str> {
        self.0.address.as_deref()
    }
    /// The store's district, e.g. "浦东新区".
    async fn area_name(&self) -> Option<&str> {
        self.0.area_name.as_deref()
    }
    /// The store's contact person.
    async fn contact_name(&self) -> Option<&str> {
        self.0.contact_name.as_deref()
    }
    /// The store's contact phone number.
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

pub struct DeliveryQuote(pub DeliveryQuoteRow);

/// What a delivery would cost; dispatch it with `dispatchDelivery(input: {quoteId})` before
/// `expiresAt`.
#[Object]
impl DeliveryQuote {
    /// The quote's global id (what `dispatchDelivery` takes as `quoteId`).
    // Visible to `graphql::node`, where the `Node` interface calls it.
    pub(in crate::graphql) async fn id(&self) -> ID {
        encode(Kind::Quote, self.0.id)
    }
    /// The courier network that quoted.
    async fn provider(&self) -> Result<ProviderId> {
        Ok(parse::<domain::ProviderId>(&self.0.provider)?.into())
    }
    /// Our store the delivery would leave from.
    async fn shop(&self, ctx: &Context<'_>) -> Result<Option<Shop>> {
        Shop::load(ctx, self.0.shop_id).await
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
    /// What the delivery would cost the merchant, and its parts.
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
    /// The distance the network priced, in metres.
    async fn distance_meters(&self) -> i64 {
        self.0.distance_m
    }
    /// After this the quote can no longer be dispatched (Dada: 3 minutes after quoting).
    async fn expires_at(&self) -> DateTime<Utc> {
        self.0.expires_at
    }
    /// The order it was dispatched as, if it was.
    async fn order(&self, ctx: &Context<'_>) -> Result<Option<Order>> {
        let Some(id) = self.0.order_id else {
            return Ok(None);
        };
        Ok(ctx.data::<Loaders>()?.orders.load_one(id).await?.map(Order))
    }
}

/// A reason a courier network offers (for cancelling, or for a complaint).
#[derive(SimpleObject)]
pub struct Reason {
    /// What the mutation takes as `reasonId`.
    pub id: i64,
    /// The reason, in the network's words.
    pub text: String,
}

/// A city a courier network serves.
#[derive(SimpleObject)]
pub struct City {
    /// The city's name, e.g. "上海".
    pub name: String,
    /// The network's code of the city (what `cityCode` fields take).
    pub code: String,
}

/// The merchant's money at a courier network; a balance is null when the network does not
/// report it.
#[derive(SimpleObject)]
pub struct DeliveryBalance {
    /// Prepaid freight balance.
    pub delivery: Option<Money>,
    /// Red-packet (coupon) balance.
    pub red_packet: Option<Money>,
}

/// A courier company reachable through a network of several (WeChat).
#[derive(SimpleObject)]
pub struct DeliveryCompany {
    /// The network's id of the company (WeChat `delivery_id`, e.g. `SFTC`).
    pub id: String,
    /// The company's name, for display.
    pub name: String,
}

/// Our account at a courier company of a network of several (WeChat).
#[derive(SimpleObject)]
pub struct BoundDeliveryAccount {
    /// The company (`deliveryCompanies`).
    pub company: String,
    /// Our account at the company (WeChat `shopid`).
    pub shop_id: String,
    /// Where the company's review of the binding stands.
    pub audit: AuditState,
}

impl From<net::Reason> for Reason {
    fn from(r: net::Reason) -> Self {
        Reason {
            id: r.id,
            text: r.text,
        }
    }
}

impl From<net::City> for City {
    fn from(c: net::City) -> Self {
        City {
            name: c.name,
            code: c.code,
        }
    }
}

impl From<net::Balance> for DeliveryBalance {
    fn from(b: net::Balance) -> Self {
        DeliveryBalance {
            delivery: b.delivery.map(|m| money(m.fen())),
            red_packet: b.red_packet.map(|m| money(m.fen())),
        }
    }
}

impl From<net::Company> for DeliveryCompany {
    fn from(c: net::Company) -> Self {
        DeliveryCompany {
            id: c.id,
            name: c.name,
        }
    }
}

impl From<net::BoundAccount> for BoundDeliveryAccount {
    fn from(a: net::BoundAccount) -> Self {
        BoundDeliveryAccount {
            company: a.company_id,
            shop_id: a.shop_id,
            audit: a.audit.into(),
        }
    }
}

/// A courier company's review of our account binding.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "crate::domain::delivery::AuditState")]
pub enum AuditState {
    /// Approved by the company.
    Passed,
    /// Still under review.
    Reviewing,
    /// Refused by the company.
    Rejected,
}

/// Which kind of payment page a recharge link opens.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "crate::domain::delivery::RechargeChannel")]
pub enum RechargeChannel {
    /// A page for desktop browsers.
    Pc,
    /// A page for mobile browsers.
    H5,
}
