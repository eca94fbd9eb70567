//! Result and push bodies, spelled exactly as Dada spells them.
//!
//! Dada mixes conventions: order results and `status/query` are camelCase, `formalCancel` answers
//! `deduct_fee`, shop details and callbacks are snake_case. Each struct carries the spelling of
//! the document section it comes from, so a reader can hold it against the page.

use serde::Serialize;

use super::money::Yuan;

/// addOrder / reAddOrder / queryDeliverFee / addAfterQuery.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FeeResult {
    /// Metres.
    pub distance: u64,
    pub fee: Yuan,
    pub deliver_fee: Yuan,
    pub coupon_fee: Yuan,
    pub tips: Yuan,
    pub insurance_fee: Yuan,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_no: Option<String>,
}

/// `/api/order/status/query`. Times are `YYYY-MM-DD HH:MM:SS` Beijing time, `""` until reached;
/// courier fields are `""` until someone accepts.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderDetail {
    pub order_id: String,
    pub status_code: i32,
    pub status_msg: &'static str,
    pub transporter_name: String,
    pub transporter_phone: String,
    pub transporter_lng: String,
    pub transporter_lat: String,
    pub delivery_fee: Yuan,
    pub tips: Yuan,
    pub coupon_fee: Yuan,
    pub insurance_fee: Yuan,
    pub actual_fee: Yuan,
    pub distance: u64,
    pub create_time: String,
    pub accept_time: String,
    pub fetch_time: String,
    pub finish_time: String,
    pub cancel_time: String,
    pub order_finish_code: String,
    pub deduct_fee: Yuan,
}

/// `/api/order/formalCancel`.
#[derive(Clone, Debug, Serialize)]
pub struct CancelResult {
    pub deduct_fee: Yuan,
}

/// One entry of `/api/order/cancel/reasons` and `/api/complaint/reasons`.
#[derive(Clone, Debug, Serialize)]
pub struct Reason {
    pub id: i64,
    pub reason: &'static str,
}

/// One entry of `/api/order/appoint/list/transporter`.
#[derive(Clone, Debug, Serialize)]
pub struct Transporter {
    pub id: i64,
    pub name: &'static str,
    pub city_id: i64,
    pub phone: &'static str,
}

/// One entry of `/api/order/transporter/position`. The document names only the call; the
/// sandbox answers the `status/query` spelling of the same facts.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TransporterPosition {
    pub order_id: String,
    pub transporter_id: i64,
    pub transporter_name: &'static str,
    pub transporter_phone: &'static str,
    pub transporter_lng: String,
    pub transporter_lat: String,
}

/// `/api/order/transporter/track`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrackResult {
    pub track_url: String,
}

/// One entry of `/api/cityCode/list`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CityItem {
    pub city_name: &'static str,
    pub city_code: &'static str,
}

/// `/api/shop/add`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShopAddResult {
    pub success: usize,
    pub success_list: Vec<ShopAdded>,
    pub failed_list: Vec<ShopFailed>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShopAdded {
    pub phone: String,
    pub business: i64,
    pub lng: f64,
    pub lat: f64,
    pub station_name: String,
    pub origin_shop_id: String,
    pub contact_name: String,
    pub station_address: String,
    pub city_name: String,
    pub area_name: String,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShopFailed {
    pub shop_no: String,
    pub shop_name: String,
    pub msg: String,
    /// The error code the shop would have had on its own; a sandbox addition.
    pub code: i32,
}

/// `/api/shop/detail`.
#[derive(Clone, Debug, Serialize)]
pub struct ShopDetail {
    pub origin_shop_id: String,
    pub station_name: String,
    pub business: i64,
    pub city_name: String,
    pub area_name: String,
    pub station_address: String,
    pub lng: f64,
    pub lat: f64,
    pub contact_name: String,
    pub phone: String,
    pub id_card: String,
    pub status: i64,
}

/// `/api/balance/query`: only the accounts asked for are present.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BalanceResult {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deliver_balance: Option<Yuan>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub red_packet_balance: Option<Yuan>,
}

/// The status callback POSTed to an order's `callback` URL.
#[derive(Clone, Debug, Serialize)]
pub struct StatusCallback {
    pub client_id: String,
    pub order_id: String,
    pub order_status: i32,
    pub repeat_reason_type: i32,
    pub cancel_reason: String,
    pub cancel_from: i32,
    /// Unix seconds; milliseconds for status 1000.
    pub update_time: i64,
    pub signature: String,
    pub dm_id: i64,
    pub dm_name: String,
    pub dm_mobile: String,
    pub finish_code: String,
}

/// The message push POSTed to the merchant's message URL.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessagePush {
    pub message_type: i32,
    /// A JSON **string** of [`CourierCancelBody`].
    pub message_body: String,
}

/// `messageBody` of message type 1: a courier asks to cancel.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CourierCancelBody {
    pub order_id: String,
    pub dada_order_id: i64,
    pub cancel_reason: String,
}
