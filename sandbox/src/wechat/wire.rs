//! Answer and push bodies, spelled exactly as `platforms/wechat.md` spells them.
//!
//! Answers are merged into `{"resultcode": 0, "resultmsg": "ok", …}` by `error::answer`; money
//! is [`Yuan`] (fen inside, yuan numbers on the wire), distances whole metres, times unix seconds.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{
    money::Yuan,
    store::{Order, agent_of},
};

/// One entry of `delivery/getall`'s `list`.
#[derive(Clone, Debug, Serialize)]
pub struct DeliveryItem {
    pub delivery_id: String,
    pub delivery_name: String,
}

/// One entry of `shop/get`'s `shop_list`.
#[derive(Clone, Debug, Serialize)]
pub struct BoundAccount {
    pub delivery_id: String,
    pub shopid: String,
    pub audit_result: u8,
}

/// `order/pre_add`.
#[derive(Clone, Debug, Serialize)]
pub struct PreAddAnswer {
    pub fee: Yuan,
    pub deliverfee: Yuan,
    pub couponfee: Yuan,
    pub tips: Yuan,
    /// The parameter table's spelling; the official examples' `insurancfee` is not emitted.
    pub insurancefee: Yuan,
    pub distance: u64,
    pub dispatch_duration: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_token: Option<String>,
}

/// `order/add` and `order/readd`.
#[derive(Clone, Debug, Serialize)]
pub struct AddAnswer {
    pub fee: Yuan,
    pub deliverfee: Yuan,
    pub couponfee: Yuan,
    pub tips: Yuan,
    pub insurancefee: Yuan,
    pub distance: u64,
    pub waybill_id: String,
    pub order_status: i64,
    /// 0 unless `is_finish_code_needed`.
    pub finish_code: u32,
    /// 0 unless `is_pickup_code_needed`.
    pub pickup_code: u32,
    pub dispatch_duration: u64,
}

/// `order/get`. Rider fields are `""` and 0 until a rider is assigned; the position is 0 when
/// the rider is not on the road.
#[derive(Clone, Debug, Serialize)]
pub struct GetAnswer {
    pub order_status: i64,
    pub waybill_id: String,
    pub rider_name: String,
    pub rider_phone: String,
    pub rider_lng: f64,
    pub rider_lat: f64,
    pub reach_time: i64,
}

/// `order/precancel` and `order/cancel`.
#[derive(Clone, Debug, Serialize)]
pub struct CancelAnswer {
    pub deduct_fee: Yuan,
    pub desc: String,
}

/// The rider in a push.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agent {
    pub name: String,
    pub phone: String,
    /// Expected delivery, unix seconds; 0 once the order ended undelivered.
    pub reach_time: i64,
}

/// The `update_waybill_status` event as the merchant's push URL receives it (inside `Encrypt`
/// in safe mode).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WaybillPush {
    #[serde(rename = "ToUserName")]
    pub to_user_name: String,
    #[serde(rename = "FromUserName")]
    pub from_user_name: String,
    #[serde(rename = "CreateTime")]
    pub create_time: i64,
    #[serde(rename = "MsgType")]
    pub msg_type: String,
    #[serde(rename = "Event")]
    pub event: String,
    pub shopid: String,
    pub shop_order_id: String,
    pub shop_no: String,
    pub waybill_id: String,
    pub action_time: i64,
    pub order_status: i64,
    pub action_msg: String,
    pub agent: Agent,
}

impl WaybillPush {
    /// The push for `order` as it is now, dated `at`.
    pub fn new(original_id: &str, order: &Order, at: DateTime<Utc>, action_msg: String) -> Self {
        WaybillPush {
            to_user_name: original_id.to_owned(),
            from_user_name: order.request.openid.clone(),
            create_time: Utc::now().timestamp(),
            msg_type: "event".to_owned(),
            event: "update_waybill_status".to_owned(),
            shopid: order.shopid.clone(),
            shop_order_id: order.request.shop_order_id.clone(),
            shop_no: order.request.shop_no.clone(),
            waybill_id: order.push_waybill_id.clone(),
            action_time: at.timestamp(),
            order_status: order.status.code(),
            action_msg,
            agent: agent_of(order),
        }
    }
}
