//! Dada's open platform exactly as it spells it: the request envelope, the business bodies,
//! both answer envelopes, the result shapes and the pushes Dada sends us. Nothing outside the
//! adapter sees these types.
//!
//! Dada mixes conventions — order bodies and shop details are snake_case, `status/query` and
//! most results camelCase, `formalCancel` answers `deduct_fee` — so each struct carries the
//! spelling of the page it comes from. Dada's SDKs are loose with types (ids and timestamps as
//! numbers or strings, `""` for "not yet"), so everything read here accepts both forms and
//! treats `null` and `""` as absent.
//!
//! Money is yuan as a JSON number (`12`, `10.5`). It is read from the number's text into a
//! [`Decimal`] — never through arithmetic on a binary float — and written from a `Decimal`'s
//! text ([`JsonDecimal`]).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use crate::providers::lenient::{JsonDecimal, decimal_from_text, value_int, value_text};
use crate::providers::lenient::{int, opt_float, opt_int, opt_text, opt_yuan, text};

// ------------------------------------------------------------------------------- envelopes

/// What every call POSTs. `body` is the business parameters serialised to a JSON string (`""`
/// when an endpoint takes none), and `signature` covers the other six fields as sent.
#[derive(Debug, Serialize)]
pub struct Envelope<'a> {
    pub app_key: &'a str,
    pub body: &'a str,
    pub format: &'a str,
    pub source_id: &'a str,
    pub timestamp: &'a str,
    pub v: &'a str,
    pub signature: String,
}

/// Either answer envelope, read leniently: success is
/// `{"status":"success","code":0,"msg":"成功","result":…}`, failure
/// `{"status":"fail","code":N,"errorCode":N,"msg":"…"}`. Which one it is is decided by
/// [`Answer::is_success`], never by the presence of `result` (calls that return nothing omit
/// it).
#[derive(Debug, Deserialize)]
pub struct Answer {
    #[serde(default, deserialize_with = "opt_text")]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "opt_int")]
    pub code: Option<i64>,
    #[serde(default, rename = "errorCode", deserialize_with = "opt_int")]
    pub error_code: Option<i64>,
    #[serde(default, deserialize_with = "opt_text")]
    pub msg: Option<String>,
    #[serde(default)]
    pub result: Option<Value>,
}

impl Answer {
    /// Success only when both say so: `code == 0` and `status == "success"`.
    pub fn is_success(&self) -> bool {
        self.code == Some(0) && self.status.as_deref() == Some("success")
    }

    /// The refusal's code: `code`, or `errorCode` when only that one came.
    pub fn failure_code(&self) -> Option<i64> {
        self.code.filter(|c| *c != 0).or(self.error_code)
    }
}

// ----------------------------------------------------------------------------- order bodies

/// addOrder, reAddOrder and queryDeliverFee share this body.
#[derive(Debug, Serialize)]
pub struct OrderBody<'a> {
    pub shop_no: &'a str,
    pub origin_id: &'a str,
    pub city_code: &'a str,
    /// Yuan.
    pub cargo_price: JsonDecimal,
    /// 1 when the courier pays the store for the goods.
    pub is_prepay: u8,
    pub receiver_name: &'a str,
    pub receiver_address: &'a str,
    pub receiver_phone: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receiver_lat: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receiver_lng: Option<f64>,
    pub callback: &'a str,
    /// Kilograms.
    pub cargo_weight: JsonDecimal,
    /// Yuan.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tips: Option<JsonDecimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub info: Option<&'a str>,
    /// Unix seconds, whole minutes, at least 5 minutes ahead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay_publish_time: Option<i64>,
}

/// `{"order_id"}`: status/query, appoint/cancel, confirm/goods, transporter/track and the
/// test-environment simulations.
#[derive(Debug, Serialize)]
pub struct OrderId<'a> {
    pub order_id: &'a str,
}

/// `/api/order/cancel` (test environment): the simulated Dada-side cancellation.
#[derive(Debug, Serialize)]
pub struct SimulateCancel<'a> {
    pub order_id: &'a str,
    pub reason: &'a str,
}

#[derive(Debug, Serialize)]
pub struct DeliveryNo<'a> {
    #[serde(rename = "deliveryNo")]
    pub delivery_no: &'a str,
}

#[derive(Debug, Serialize)]
pub struct AddTip<'a> {
    pub order_id: &'a str,
    /// The new total tip in yuan.
    pub tips: JsonDecimal,
    pub city_code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub info: Option<&'a str>,
}

#[derive(Debug, Serialize)]
pub struct FormalCancel<'a> {
    pub order_id: &'a str,
    pub cancel_reason_id: i64,
    pub cancel_reason: &'a str,
}

#[derive(Debug, Serialize)]
pub struct Appoint<'a> {
    pub order_id: &'a str,
    pub transporter_id: i64,
    pub shop_no: &'a str,
}

#[derive(Debug, Serialize)]
pub struct ShopNo<'a> {
    pub shop_no: &'a str,
}

#[derive(Debug, Serialize)]
pub struct Complaint<'a> {
    pub order_id: &'a str,
    pub reason_id: i64,
}

#[derive(Debug, Serialize)]
pub struct Positions<'a> {
    #[serde(rename = "orderIds")]
    pub order_ids: &'a [String],
}

// -------------------------------------------------------------------- merchant, money bodies

#[derive(Debug, Serialize)]
pub struct MerchantAdd<'a> {
    pub mobile: &'a str,
    pub city_name: &'a str,
    pub enterprise_name: &'a str,
    pub enterprise_address: &'a str,
    pub contact_name: &'a str,
    pub contact_phone: &'a str,
    pub email: &'a str,
}

/// One element of the `/api/shop/add` array.
#[derive(Debug, Serialize)]
pub struct ShopAdd<'a> {
    pub station_name: &'a str,
    pub business: i32,
    pub city_name: &'a str,
    pub area_name: &'a str,
    pub station_address: &'a str,
    pub lng: f64,
    pub lat: f64,
    pub contact_name: &'a str,
    pub phone: &'a str,
    /// Left out to let Dada number the shop.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin_shop_id: Option<&'a str>,
}

/// `/api/shop/update`: only what changes is sent (an empty value would be refused).
#[derive(Debug, Serialize)]
pub struct ShopUpdate<'a> {
    pub origin_shop_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_shop_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub station_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub business: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub area_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub station_address: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lng: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<&'a str>,
    /// 1 open, 0 offline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u8>,
}

#[derive(Debug, Serialize)]
pub struct OriginShopId<'a> {
    pub origin_shop_id: &'a str,
}

#[derive(Debug, Serialize)]
pub struct Recharge<'a> {
    /// Yuan.
    pub amount: JsonDecimal,
    /// `PC` or `H5`.
    pub category: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notify_url: Option<&'a str>,
}

#[derive(Debug, Serialize)]
pub struct BalanceQuery {
    /// 1 freight, 2 red packet, 3 both.
    pub category: i64,
}

/// `/api/message/confirm`. `messageBody` is a JSON **string**, not an object.
#[derive(Debug, Serialize)]
pub struct MessageConfirm {
    #[serde(rename = "messageType")]
    pub message_type: i64,
    #[serde(rename = "messageBody")]
    pub message_body: String,
}

/// The object serialised into [`MessageConfirm::message_body`] for message type 1.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CourierCancelAnswer<'a> {
    pub order_id: &'a str,
    /// Dada's waybill number, a long; left out when we do not know it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dada_order_id: Option<Value>,
    /// 1 lets the courier cancel, 0 refuses.
    pub is_confirm: u8,
}

// ------------------------------------------------------------------------------- results

/// addOrder / reAddOrder / queryDeliverFee / addAfterQuery. `fee` is freight after coupons;
/// tips and insurance come on their own.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeeResult {
    /// Metres, possibly fractional.
    #[serde(default, deserialize_with = "opt_float")]
    pub distance: Option<f64>,
    #[serde(default, deserialize_with = "opt_yuan")]
    pub fee: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_yuan")]
    pub deliver_fee: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_yuan")]
    pub coupon_fee: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_yuan")]
    pub tips: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_yuan")]
    pub insurance_fee: Option<Decimal>,
    /// queryDeliverFee and addAfterQuery only.
    #[serde(default, deserialize_with = "opt_text")]
    pub delivery_no: Option<String>,
}

/// `/api/order/status/query`. Times are `YYYY-MM-DD HH:MM:SS` China time and `""` until
/// reached; courier fields are `""` until someone accepts.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderDetail {
    #[serde(default, deserialize_with = "opt_text")]
    pub order_id: Option<String>,
    #[serde(deserialize_with = "int")]
    pub status_code: i64,
    #[serde(default, deserialize_with = "opt_text")]
    pub status_msg: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub transporter_name: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub transporter_phone: Option<String>,
    #[serde(default, deserialize_with = "opt_float")]
    pub transporter_lng: Option<f64>,
    #[serde(default, deserialize_with = "opt_float")]
    pub transporter_lat: Option<f64>,
    #[serde(default, deserialize_with = "opt_yuan")]
    pub delivery_fee: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_yuan")]
    pub tips: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_yuan")]
    pub coupon_fee: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_yuan")]
    pub insurance_fee: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_yuan")]
    pub actual_fee: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_float")]
    pub distance: Option<f64>,
    #[serde(default, deserialize_with = "opt_text")]
    pub create_time: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub accept_time: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub fetch_time: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub finish_time: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub cancel_time: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub order_finish_code: Option<String>,
    #[serde(default, deserialize_with = "opt_yuan")]
    pub deduct_fee: Option<Decimal>,
}

/// `/api/order/formalCancel`.
#[derive(Debug, Deserialize)]
pub struct CancelResult {
    #[serde(default, deserialize_with = "opt_yuan")]
    pub deduct_fee: Option<Decimal>,
}

/// One entry of `/api/order/cancel/reasons` and `/api/complaint/reasons`.
#[derive(Debug, Deserialize)]
pub struct ReasonItem {
    #[serde(deserialize_with = "int")]
    pub id: i64,
    #[serde(default, deserialize_with = "opt_text")]
    pub reason: Option<String>,
}

/// One entry of `/api/order/appoint/list/transporter`.
#[derive(Debug, Deserialize)]
pub struct Transporter {
    #[serde(deserialize_with = "text")]
    pub id: String,
    #[serde(default, deserialize_with = "opt_text")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "opt_int")]
    pub city_id: Option<i64>,
    #[serde(default, deserialize_with = "opt_text")]
    pub phone: Option<String>,
}

/// One entry of `/api/order/transporter/position`, in `status/query`'s spelling.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransporterPosition {
    #[serde(deserialize_with = "text")]
    pub order_id: String,
    #[serde(default, deserialize_with = "opt_text")]
    pub transporter_id: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub transporter_name: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub transporter_phone: Option<String>,
    #[serde(default, deserialize_with = "opt_float")]
    pub transporter_lng: Option<f64>,
    #[serde(default, deserialize_with = "opt_float")]
    pub transporter_lat: Option<f64>,
}

/// `/api/order/transporter/track`.
#[derive(Debug, Deserialize)]
pub struct TrackResult {
    #[serde(rename = "trackUrl", default, deserialize_with = "opt_text")]
    pub track_url: Option<String>,
}

/// One entry of `/api/cityCode/list`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CityItem {
    #[serde(deserialize_with = "text")]
    pub city_name: String,
    #[serde(deserialize_with = "text")]
    pub city_code: String,
}

/// `/api/shop/add`: each shop succeeds or fails on its own.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShopAddResult {
    #[serde(default, deserialize_with = "opt_int")]
    pub success: Option<i64>,
    #[serde(default)]
    pub success_list: Vec<ShopAdded>,
    #[serde(default)]
    pub failed_list: Vec<ShopFailed>,
}

/// A registered shop as `successList` echoes it (camelCase; snake_case accepted too).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShopAdded {
    #[serde(default, alias = "origin_shop_id", deserialize_with = "opt_text")]
    pub origin_shop_id: Option<String>,
    #[serde(default, alias = "station_name", deserialize_with = "opt_text")]
    pub station_name: Option<String>,
    #[serde(default, deserialize_with = "opt_int")]
    pub business: Option<i64>,
    #[serde(default, alias = "city_name", deserialize_with = "opt_text")]
    pub city_name: Option<String>,
    #[serde(default, alias = "area_name", deserialize_with = "opt_text")]
    pub area_name: Option<String>,
    #[serde(default, alias = "station_address", deserialize_with = "opt_text")]
    pub station_address: Option<String>,
    #[serde(default, deserialize_with = "opt_float")]
    pub lng: Option<f64>,
    #[serde(default, deserialize_with = "opt_float")]
    pub lat: Option<f64>,
    #[serde(default, alias = "contact_name", deserialize_with = "opt_text")]
    pub contact_name: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub phone: Option<String>,
}

/// A shop of the batch that was refused.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShopFailed {
    #[serde(default, alias = "shop_no", deserialize_with = "opt_text")]
    pub shop_no: Option<String>,
    #[serde(default, alias = "shop_name", deserialize_with = "opt_text")]
    pub shop_name: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub msg: Option<String>,
    /// Not in the document; read when present.
    #[serde(default, deserialize_with = "opt_int")]
    pub code: Option<i64>,
}

/// `/api/shop/detail` (snake_case).
#[derive(Debug, Deserialize)]
pub struct ShopDetail {
    #[serde(deserialize_with = "text")]
    pub origin_shop_id: String,
    #[serde(default, deserialize_with = "opt_text")]
    pub station_name: Option<String>,
    #[serde(default, deserialize_with = "opt_int")]
    pub business: Option<i64>,
    #[serde(default, deserialize_with = "opt_text")]
    pub city_name: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub area_name: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub station_address: Option<String>,
    #[serde(default, deserialize_with = "opt_float")]
    pub lng: Option<f64>,
    #[serde(default, deserialize_with = "opt_float")]
    pub lat: Option<f64>,
    #[serde(default, deserialize_with = "opt_text")]
    pub contact_name: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub phone: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub id_card: Option<String>,
    /// 1 open, 0 offline.
    #[serde(default, deserialize_with = "opt_int")]
    pub status: Option<i64>,
}

/// `/api/balance/query`: only the accounts asked for are present.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BalanceResult {
    #[serde(default, deserialize_with = "opt_yuan")]
    pub deliver_balance: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_yuan")]
    pub red_packet_balance: Option<Decimal>,
}

// ---------------------------------------------------------------------------- pushes to us

/// `messageBody` of message type 1: a courier asks to cancel.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CourierCancelRequest {
    #[serde(default, deserialize_with = "opt_text")]
    pub order_id: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub dada_order_id: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub cancel_reason: Option<String>,
}

// ------------------------------------------------------------------- numbers and leniency

#[cfg(test)]
#[path = "wire_tests.rs"]
mod tests;
