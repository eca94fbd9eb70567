//! Daoway's channel API exactly as the platform spells it (camelCase JSON, yuan as JSON
//! numbers, ids as strings). Nothing outside this adapter sees these types.

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};

/// `{"status":"ok","data":…}` or `{"status":"error","msg":"…"}`.
#[derive(Debug, Deserialize)]
pub struct Envelope<T> {
    pub status: String,
    pub data: Option<T>,
    pub msg: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Category {
    #[serde(deserialize_with = "string_or_number")]
    pub id: String,
    pub name: String,
    pub icon_url: Option<String>,
}

/// One row of `GET /services`: a shop with its main price item.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceListItem {
    #[serde(default, deserialize_with = "opt_string_or_number")]
    pub category_id: Option<String>,
    #[serde(deserialize_with = "string_or_number")]
    pub service_id: String,
    pub title: String,
    pub img_url: Option<String>,
    #[serde(default, deserialize_with = "opt_string_or_number")]
    pub price_id: Option<String>,
    pub price: Option<Decimal>,
    pub price_unit: Option<String>,
    pub price_name: Option<String>,
    #[serde(default)]
    pub tag_icons: Vec<String>,
}

/// `GET /services/{serviceId}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceDetail {
    #[serde(default, deserialize_with = "opt_string_or_number")]
    pub category_id: Option<String>,
    #[serde(deserialize_with = "string_or_number")]
    pub id: String,
    #[serde(default)]
    pub imgs: Vec<String>,
    pub title: String,
    pub description: Option<String>,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    /// "0,1,2,3,4,5,6", 0 = Monday.
    pub available_days: Option<String>,
    pub ahead_hours: Option<Decimal>,
    #[serde(default)]
    pub prices: Vec<PriceItem>,
    pub fix_fee: Option<Decimal>,
    pub no_fix_fee_price: Option<Decimal>,
    pub min_buy_price: Option<Decimal>,
    #[serde(default)]
    pub tag_icons: Vec<String>,
    /// Not in the published page; read when present.
    pub city: Option<String>,
    pub lng: Option<f64>,
    pub lat: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PriceItem {
    #[serde(deserialize_with = "string_or_number")]
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub price: Decimal,
    pub price_unit: Option<String>,
    pub img_url: Option<String>,
    pub min_buy_num: Option<i32>,
}

/// Body of `POST /orders?channel=`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateOrder<'a> {
    pub user_name: &'a str,
    pub password: &'a str,
    pub service_id: &'a str,
    pub items: Vec<OrderItem<'a>>,
    pub city: &'a str,
    pub street: &'a str,
    pub house: &'a str,
    pub contact_person: &'a str,
    pub phone: &'a str,
    /// `2015-12-18 11:22:43`, Beijing time.
    pub appoint_time: String,
    pub note: &'a str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderItem<'a> {
    pub price_id: &'a str,
    pub quantity: i32,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedOrder {
    #[serde(deserialize_with = "string_or_number")]
    pub order_id: String,
    pub consumed_money: Decimal,
    pub remaining_money: Option<Decimal>,
}

/// The cancel notification Daoway POSTs to our `cancel_order_notify_url`. Every field is
/// optional here so that a partial body becomes a clear refusal, not a parse failure.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelNotify {
    pub channel: Option<String>,
    pub order_id: Option<String>,
    pub consumed_money: Option<String>,
    pub contact_person: Option<String>,
    pub phone: Option<String>,
    pub reason: Option<String>,
}

/// Our reply: `result` "0" on success, anything else with a `message` otherwise.
#[derive(Debug, Serialize)]
pub struct NotifyReply {
    pub result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        S(String),
        N(serde_json::Number),
    }
    Ok(match Raw::deserialize(d)? {
        Raw::S(s) => s,
        Raw::N(n) => n.to_string(),
    })
}

fn opt_string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    struct Wrap(#[serde(deserialize_with = "string_or_number")] String);
    Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
}
