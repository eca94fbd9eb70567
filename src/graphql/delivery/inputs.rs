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
    /// As for `cancelOrder`: "other" when absent, with the text "其他原因" when `reason` is
    /// absent too.
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
