//! 58's wire, spelled as 58 spells it: the pushed `createOrder` JSON, our two calls' business
//! parameters, and the answer envelope. Nothing outside the adapter sees these.

use serde::{Deserialize, Serialize};

/// A status (and technician) update, as 58 spells it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderUpdate {
    pub order_id: i64,
    pub third_order_id: String,
    pub order_status: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_user_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_user_phone: Option<String>,
}

/// A technician to register (58's `serviceUser`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceUser {
    pub user_id: String,
    pub user_name: String,
    pub user_phone: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_age: Option<i32>,
    /// 1 male, 0 female.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_sex: Option<i32>,
    pub user_pic: String,
    pub user_remark: String,
    /// 1 active.
    pub user_status: i32,
}

/// Every answer of 58: `code` 0 is success.
#[derive(Debug, Deserialize)]
pub struct Envelope {
    pub code: i64,
    #[serde(default)]
    pub msg: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawOrder {
    pub order_id: serde_json::Value,
    #[serde(default)]
    pub user_mobile: Option<String>,
    #[serde(default)]
    pub city_name: Option<String>,
    #[serde(default)]
    pub lng: Option<serde_json::Number>,
    #[serde(default)]
    pub lat: Option<serde_json::Number>,
    #[serde(default)]
    pub service_address: Option<String>,
    #[serde(default)]
    pub service_begin_time: Option<String>,
    #[serde(default)]
    pub service_end_time: Option<String>,
    pub total_price: serde_json::Value,
    #[serde(default)]
    pub remark: Option<String>,
    #[serde(default)]
    pub service_user_id: Option<serde_json::Value>,
    #[serde(default)]
    pub order_details: Vec<RawLine>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawLine {
    pub goods_id: serde_json::Value,
    pub goods_number: serde_json::Value,
    pub goods_price: serde_json::Value,
}
