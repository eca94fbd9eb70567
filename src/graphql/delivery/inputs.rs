//! The delivery mutations' inputs and payloads, and the parsing of a delivery input into
//! the order service's request (every field at fault named in `userErrors`).

use async_graphql::{ID, InputObject, SimpleObject};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::DeliveryQuote;
use crate::{
    domain,
    graphql::{
        errors::UserError,
        ids::{self, Kind},
        query::GeoPointInput,
        resolve,
        types::{Money, Order, ProviderId, Shop},
    },
    orders::{self, DeliveryInput, UserErrorCode},
};

/// Who receives a delivery, and where.
#[derive(InputObject)]
pub struct ReceiverInput {
    /// The receiver's name.
    pub name: String,
    /// The receiver's phone number: 5 to 20 digits, an optional leading `+`, spaces and dashes allowed between digits.
    pub phone: String,
    /// Full street address.
    pub address: String,
    /// Helps the platform price the distance.
    pub location: Option<GeoPointInput>,
}

/// A delivery to quote or dispatch: from one of our stores to a receiver.
#[derive(InputObject)]
pub struct DeliveryInputGql {
    /// One of our stores at a courier network (`shops(filter: {provider: DADA})`).
    pub shop_id: ID,
    /// Who receives the goods, and where.
    pub receiver: ReceiverInput,
    /// The network's city code; defaults to the store's.
    pub city_code: Option<String>,
    /// Value of the goods, in fen.
    pub cargo_price_fen: i64,
    /// Weight of the goods in kilograms, e.g. 1.5 (kept to the gram).
    pub cargo_weight_kg: f64,
    /// Whether the courier pays the store for the goods.
    #[graphql(default)]
    pub prepaid: bool,
    /// Tip for the courier, in fen.
    #[graphql(default)]
    pub tip_fen: i64,
    /// A note for the courier; blank counts as none.
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
    pub(super) fn into_domain(self, errors: &mut Vec<orders::UserError>) -> Option<DeliveryInput> {
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
        let receiver_phone = resolve::phone(
            &self.receiver.phone,
            &["delivery", "receiver", "phone"],
            errors,
        );
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
            receiver_phone: receiver_phone?,
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

/// The delivery to price.
#[derive(InputObject)]
pub struct QuoteDeliveryInput {
    /// The delivery, as it would be dispatched. When the shop's dispatch policy links the
    /// same store on other networks (and no `company` is named), every network is asked at
    /// once.
    pub delivery: DeliveryInputGql,
    /// The order of `quotes`: cheapest first (the default) or fastest first.
    #[graphql(default)]
    pub sort: QuoteOrder,
}

/// How `quoteDelivery` orders its quotes.
#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum QuoteOrder {
    /// The lowest total fee first (then the sooner courier).
    #[default]
    Cheapest,
    /// The shortest expected time to a courier first (companies that give none last), then
    /// the fee.
    Fastest,
}

/// What `quoteDelivery` found.
#[derive(SimpleObject)]
pub struct QuoteDeliveryPayload {
    /// The first of `quotes`.
    pub quote: Option<DeliveryQuote>,
    /// Every network's and company's quote, in the order asked for (cheapest first by
    /// default).
    pub quotes: Vec<DeliveryQuote>,
    /// Networks and companies that could not quote or that the shop's dispatch policy
    /// leaves out (with `field` naming the network or company), or why nothing could be
    /// quoted.
    pub user_errors: Vec<UserError>,
}

/// Exactly one of `quoteId` and `delivery`.
#[derive(InputObject)]
pub struct DispatchDeliveryInput {
    /// Dispatch a quote from `quoteDelivery` (before it expires).
    pub quote_id: Option<ID>,
    /// Or dispatch directly.
    pub delivery: Option<DeliveryInputGql>,
    /// Repeat a request with the same key to get the same order back (`DIRECT` only; an
    /// `AUTO` dispatch is idempotent by `delivery.originId`).
    pub idempotency_key: Option<String>,
    /// `DIRECT` (the default) or `AUTO`: the shop's dispatch policy picks the networks.
    #[graphql(default)]
    pub strategy: super::DispatchMode,
}

/// What a mutation on one order did.
#[derive(SimpleObject)]
pub struct OrderPayload {
    /// The order after the change; null when the request was refused (see `userErrors`).
    pub order: Option<Order>,
    /// Why the request was refused; empty when it went through.
    pub user_errors: Vec<UserError>,
}

/// The order to act on.
#[derive(InputObject)]
pub struct OrderIdInput {
    /// The order's global id.
    pub order_id: ID,
}

/// The order whose courier's tip to raise, and the new tip.
#[derive(InputObject)]
pub struct AddTipInput {
    /// The order's global id.
    pub order_id: ID,
    /// The new total tip in fen (not an increment): at least 1 yuan, more than the last.
    pub tip_fen: i64,
    /// A note passed to the network with the tip.
    pub note: Option<String>,
}

/// The delivery to appoint, and to whom.
#[derive(InputObject)]
pub struct AssignCourierInput {
    /// The order's global id.
    pub order_id: ID,
    /// From `appointableCouriers`.
    pub courier_id: String,
}

/// The delivery whose courier to complain about, and why.
#[derive(InputObject)]
pub struct ComplainAboutCourierInput {
    /// The order's global id.
    pub order_id: ID,
    /// From `deliveryComplaintReasons`.
    pub reason_id: i64,
}

/// Our answer to a courier's request to cancel.
#[derive(InputObject)]
pub struct RespondToCourierCancellationInput {
    /// The order's global id.
    pub order_id: ID,
    /// True lets the courier cancel; false asks them to carry on.
    pub accept: bool,
}

/// The delivery to move in the platform's test environment, and where to.
#[derive(InputObject)]
pub struct SimulateDeliveryStatusInput {
    /// The order's global id.
    pub order_id: ID,
    /// The platform's status code to move to (Dada: 2, 3, 4, 5, 7, 9; WeChat: 101–502).
    pub raw_status: i64,
}

/// The delivery whose cancellation to price, and the reason it would be cancelled with.
#[derive(InputObject)]
pub struct PreviewCancellationInput {
    /// The order's global id.
    pub order_id: ID,
    /// As for `cancelOrder`: "other" when absent, with the text "其他原因" when `reason` is
    /// absent too.
    pub reason_id: Option<i64>,
    /// Why, in your words, as for `cancelOrder`.
    pub reason: Option<String>,
}

/// What `previewCancellation` found.
#[derive(SimpleObject)]
pub struct PreviewCancellationPayload {
    /// What the platform would keep if the order were cancelled now.
    pub penalty: Option<Money>,
    /// The platform's explanation of the penalty; null when it gives none.
    pub description: Option<String>,
    /// Why the request was refused; empty when it went through.
    pub user_errors: Vec<UserError>,
}

/// The courier company to bind our account at.
#[derive(InputObject)]
pub struct BindDeliveryAccountInput {
    /// The network of several companies (WeChat).
    #[graphql(default_with = "ProviderId::Wechat")]
    pub provider: ProviderId,
    /// The company (`deliveryCompanies`).
    pub company: String,
}

/// The network to open the instant-delivery service at.
#[derive(InputObject)]
pub struct OpenDeliveryServiceInput {
    /// The network (WeChat).
    #[graphql(default_with = "ProviderId::Wechat")]
    pub provider: ProviderId,
}

/// What a mutation without an object to return did.
#[derive(SimpleObject)]
pub struct DonePayload {
    /// True when the platform accepted the request; false when it was refused.
    pub ok: bool,
    /// Why the request was refused; empty when it went through.
    pub user_errors: Vec<UserError>,
}

/// A store to register at a courier network.
#[derive(InputObject)]
pub struct StoreInput {
    /// Your number for the store; the network assigns one when absent.
    pub shop_no: Option<String>,
    /// The store's name.
    pub name: String,
    /// The network's business type (Dada: 1 food, 2 drinks, 3 flowers, 5 fresh, …).
    pub business_type: i32,
    /// The store's city, e.g. "上海".
    pub city_name: String,
    /// The store's district, e.g. "浦东新区".
    pub area_name: String,
    /// The store's street address.
    pub address: String,
    /// Where the store is; couriers come here to pick up.
    pub location: GeoPointInput,
    /// The store's contact person.
    pub contact_name: String,
    /// The store's contact phone number.
    pub phone: String,
}

/// The stores to register.
#[derive(InputObject)]
pub struct RegisterDeliveryShopsInput {
    /// The courier network to register them at.
    #[graphql(default_with = "ProviderId::Dada")]
    pub provider: ProviderId,
    /// The stores; each is accepted or refused on its own.
    pub shops: Vec<StoreInput>,
}

/// A store the network refused to register.
#[derive(SimpleObject)]
pub struct StoreFailure {
    /// The store's number, as given in the input; null when none was given.
    pub shop_no: Option<String>,
    /// The store's name, as given in the input.
    pub name: String,
    /// The network's error code, when it gave one.
    pub platform_code: Option<String>,
    /// Why the network refused it, in its words.
    pub message: String,
}

/// What `registerDeliveryShops` did.
#[derive(SimpleObject)]
pub struct RegisterDeliveryShopsPayload {
    /// The stores the network accepted, now `Shop`s here.
    pub shops: Vec<Shop>,
    /// The ones it refused, each with its reason.
    pub failures: Vec<StoreFailure>,
    /// Why nothing was registered; empty when the network took the request (the stores it
    /// refused are in `failures`).
    pub user_errors: Vec<UserError>,
}

/// The store to change, and the changes; a field left out stays as it is.
#[derive(InputObject)]
pub struct UpdateDeliveryShopInput {
    /// The store (a `Shop` id).
    pub shop_id: ID,
    /// A new number for the store at the network.
    pub new_shop_no: Option<String>,
    /// A new name.
    pub name: Option<String>,
    /// A new business type (see `StoreInput.businessType`).
    pub business_type: Option<i32>,
    /// A new city, e.g. "上海".
    pub city_name: Option<String>,
    /// A new district, e.g. "浦东新区".
    pub area_name: Option<String>,
    /// A new street address.
    pub address: Option<String>,
    /// A new position.
    pub location: Option<GeoPointInput>,
    /// A new contact person.
    pub contact_name: Option<String>,
    /// A new contact phone number.
    pub phone: Option<String>,
    /// Open (true) or close (false) the store for orders.
    pub open: Option<bool>,
}

/// The existing store to import.
#[derive(InputObject)]
pub struct ImportDeliveryShopInput {
    /// The courier network the store is at.
    #[graphql(default_with = "ProviderId::Dada")]
    pub provider: ProviderId,
    /// The store's number at the network.
    pub shop_no: String,
}

/// What a mutation on one store did.
#[derive(SimpleObject)]
pub struct ShopPayload {
    /// The store as it is now; null when the request was refused (see `userErrors`).
    pub shop: Option<Shop>,
    /// Why the request was refused; empty when it went through.
    pub user_errors: Vec<UserError>,
}

/// The merchant account to open at a courier network.
#[derive(InputObject)]
pub struct RegisterDeliveryMerchantInput {
    /// The courier network.
    #[graphql(default_with = "ProviderId::Dada")]
    pub provider: ProviderId,
    /// The merchant's mobile number: it logs in to the network's merchant site with it, and
    /// the initial password is sent to it by SMS.
    pub mobile: String,
    /// The merchant's city, e.g. "上海".
    pub city_name: String,
    /// The company's full registered name.
    pub enterprise_name: String,
    /// The company's address.
    pub enterprise_address: String,
    /// The contact person's name.
    pub contact_name: String,
    /// The contact person's phone number.
    pub contact_phone: String,
    /// The merchant's email address.
    pub email: String,
}

/// What `registerDeliveryMerchant` did.
#[derive(SimpleObject)]
pub struct RegisterDeliveryMerchantPayload {
    /// The new merchant's id at the network (Dada `source_id`): configure it to use it.
    pub merchant_id: Option<String>,
    /// Why the request was refused; empty when it went through.
    pub user_errors: Vec<UserError>,
}

pub(super) fn geo(
    p: GeoPointInput,
    field: &[&str],
    errors: &mut Vec<orders::UserError>,
) -> domain::GeoPoint {
    domain::GeoPoint::new(p.lng, p.lat).unwrap_or_else(|| {
        errors.push(orders::UserError::new(
            field,
            UserErrorCode::InvalidInput,
            "location is out of range",
        ));
        domain::GeoPoint { lng: 0.0, lat: 0.0 }
    })
}
