//! WeChat instant delivery exactly as it spells it: the request bodies of
//! `/cgi-bin/express/local/business/*`, their answers, the access-token answer and the status
//! push. Nothing outside the adapter sees these types.
//!
//! Every answer is one flat JSON object: the platform's `errcode`/`errmsg` (present on
//! failure, sometimes `0`/`"ok"` on success), the company's `resultcode`/`resultmsg`, and the
//! endpoint's own fields beside them. The companies behind WeChat are loose with types, so
//! everything read here accepts numbers or strings and treats `null` and `""` as absent.
//!
//! Money is yuan as a JSON number. It is read from the number's text into a [`Decimal`] —
//! never through arithmetic on a binary float — and written from a `Decimal`'s text
//! ([`JsonDecimal`]). The insurance fee is spelled `insurancefee` in the parameter table and
//! `insurancfee` in the official examples: both are read.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize, Serializer};

pub use crate::providers::lenient::{JsonDecimal, decimal_from_text, value_int, value_text};
use crate::providers::lenient::{int, opt_float, opt_int, opt_text, opt_yuan, text};

// ------------------------------------------------------------------------------ requests

/// `{}`: `delivery/getall`, `shop/get`, `open`.
#[derive(Debug, Serialize)]
pub struct Empty {}

/// `shop/add`.
#[derive(Debug, Serialize)]
pub struct BindAccount<'a> {
    pub delivery_id: &'a str,
}

/// What names an order in every order call. `shopid` is the company's appkey; `delivery_sign`
/// is `SHA1(shopid + shop_order_id + AppSecret)`.
#[derive(Debug, Serialize)]
pub struct OrderKey<'a> {
    pub shopid: &'a str,
    pub shop_order_id: &'a str,
    pub shop_no: &'a str,
    pub delivery_id: &'a str,
    pub openid: &'a str,
    pub delivery_sign: String,
}

/// `order/pre_add`, `order/add` and `order/readd`.
#[derive(Debug, Serialize)]
pub struct OrderBody<'a> {
    #[serde(flatten)]
    pub key: OrderKey<'a>,
    pub sender: Place<'a>,
    pub receiver: Place<'a>,
    pub cargo: Cargo<'a>,
    pub order_info: OrderInfo<'a>,
    pub shop: ShopInfo<'a>,
    /// A pre_add's handle, so the company keeps the quoted price.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_token: Option<&'a str>,
}

/// `sender` and `receiver`.
#[derive(Debug, Serialize)]
pub struct Place<'a> {
    pub name: &'a str,
    pub city: &'a str,
    /// Street, estate, building: what the company geocodes.
    pub address: &'a str,
    /// Building, unit, floor.
    pub address_detail: &'a str,
    pub phone: &'a str,
    pub lng: Coordinate,
    pub lat: Coordinate,
    /// 0 = GCJ-02 (火星坐标, Tencent and AMap), 1 = BD-09 (Baidu).
    pub coordinate_type: u8,
}

/// A coordinate to six decimals, as the document asks.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Coordinate(pub f64);

impl Serialize for Coordinate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Integer micro-degrees over an exact power of ten: the nearest double to the
        // six-decimal value, which serde prints in its shortest form.
        ((self.0 * 1e6).round() / 1e6).serialize(serializer)
    }
}

#[derive(Debug, Serialize)]
pub struct Cargo<'a> {
    /// Yuan, (0, 5000].
    pub goods_value: JsonDecimal,
    /// Centimetres.
    pub goods_height: u32,
    pub goods_length: u32,
    pub goods_width: u32,
    /// Kilograms, (0, 50].
    pub goods_weight: JsonDecimal,
    pub goods_detail: GoodsDetail<'a>,
}

#[derive(Debug, Serialize)]
pub struct GoodsDetail<'a> {
    pub goods: Vec<Good<'a>>,
}

#[derive(Debug, Serialize)]
pub struct Good<'a> {
    pub good_count: u32,
    pub good_name: &'a str,
    /// Yuan.
    pub good_price: JsonDecimal,
    pub good_unit: &'a str,
}

#[derive(Debug, Serialize)]
pub struct OrderInfo<'a> {
    /// 0 now, 1 booked.
    pub order_type: u8,
    /// Unix seconds: when a booked order is dispatched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_delivery_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<&'a str>,
    /// Yuan.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tips: Option<JsonDecimal>,
    pub is_insured: u8,
}

/// Shown in the receiver's delivery notifications.
#[derive(Debug, Serialize)]
pub struct ShopInfo<'a> {
    pub wxa_path: &'a str,
    pub img_url: &'a str,
    pub goods_name: &'a str,
    pub goods_count: u32,
}

/// `order/addtips`.
#[derive(Debug, Serialize)]
pub struct AddTips<'a> {
    #[serde(flatten)]
    pub key: OrderKey<'a>,
    pub waybill_id: &'a str,
    /// The new total tip, yuan.
    pub tips: JsonDecimal,
    pub remark: &'a str,
}

/// `order/get`.
#[derive(Debug, Serialize)]
pub struct GetOrder<'a> {
    #[serde(flatten)]
    pub key: OrderKey<'a>,
}

/// `order/precancel` and `order/cancel`.
#[derive(Debug, Serialize)]
pub struct CancelOrder<'a> {
    #[serde(flatten)]
    pub key: OrderKey<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waybill_id: Option<&'a str>,
    pub cancel_reason_id: i64,
    pub cancel_reason: &'a str,
}

/// `order/confirm_return`.
#[derive(Debug, Serialize)]
pub struct ConfirmReturn<'a> {
    #[serde(flatten)]
    pub key: OrderKey<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waybill_id: Option<&'a str>,
    pub remark: &'a str,
}

/// `test_update_order` (the test company `TEST` only).
#[derive(Debug, Serialize)]
pub struct MockUpdate<'a> {
    #[serde(flatten)]
    pub key: OrderKey<'a>,
    pub action_time: i64,
    pub order_status: i64,
    pub action_msg: &'a str,
}

// ------------------------------------------------------------------------------- answers

/// The two result layers every answer carries. `errcode` is WeChat's own (absent or 0 on
/// success); `resultcode` is the delivery company's (0 on success, its own codes otherwise).
#[derive(Debug, Default, Deserialize)]
pub struct ResultLayers {
    #[serde(default, deserialize_with = "opt_int")]
    pub errcode: Option<i64>,
    #[serde(default, deserialize_with = "opt_text")]
    pub errmsg: Option<String>,
    #[serde(default, deserialize_with = "opt_int")]
    pub resultcode: Option<i64>,
    #[serde(default, deserialize_with = "opt_text")]
    pub resultmsg: Option<String>,
}

/// `GET /cgi-bin/token`.
#[derive(Debug, Deserialize)]
pub struct TokenAnswer {
    #[serde(default, deserialize_with = "opt_text")]
    pub access_token: Option<String>,
    /// Seconds.
    #[serde(default, deserialize_with = "opt_int")]
    pub expires_in: Option<i64>,
    #[serde(default, deserialize_with = "opt_int")]
    pub errcode: Option<i64>,
    #[serde(default, deserialize_with = "opt_text")]
    pub errmsg: Option<String>,
}

impl std::fmt::Display for TokenAnswer {
    /// Never shows the token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "errcode {:?}, errmsg {:?}, expires_in {:?}, token {}",
            self.errcode,
            self.errmsg,
            self.expires_in,
            if self.access_token.is_some() {
                "present"
            } else {
                "absent"
            }
        )
    }
}

/// One entry of `delivery/getall`.
#[derive(Debug, Deserialize)]
pub struct DeliveryCompany {
    #[serde(deserialize_with = "text")]
    pub delivery_id: String,
    #[serde(default, deserialize_with = "opt_text")]
    pub delivery_name: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct CompanyList {
    #[serde(default)]
    pub list: Vec<DeliveryCompany>,
}

/// One entry of `shop/get`.
#[derive(Debug, Deserialize)]
pub struct BoundShop {
    #[serde(deserialize_with = "text")]
    pub delivery_id: String,
    #[serde(default, deserialize_with = "opt_text")]
    pub shopid: Option<String>,
    /// 0 passed, 1 under review, 2 rejected.
    #[serde(default, deserialize_with = "opt_int")]
    pub audit_result: Option<i64>,
}

#[derive(Debug, Deserialize)]
pub struct ShopList {
    #[serde(default)]
    pub shop_list: Vec<BoundShop>,
}

/// `order/pre_add`, `order/add` and `order/readd`. Which fields come depends on the company
/// (Meituan answers none of the fees), so all are optional.
#[derive(Debug, Default, Deserialize)]
pub struct FeeResult {
    /// Freight after coupons.
    #[serde(default, deserialize_with = "opt_yuan")]
    pub fee: Option<Decimal>,
    /// Freight before coupons.
    #[serde(default, deserialize_with = "opt_yuan")]
    pub deliverfee: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_yuan")]
    pub couponfee: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_yuan")]
    pub tips: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_yuan")]
    pub insurancefee: Option<Decimal>,
    /// The official examples' spelling.
    #[serde(default, deserialize_with = "opt_yuan")]
    pub insurancfee: Option<Decimal>,
    /// Metres.
    #[serde(default, deserialize_with = "opt_float")]
    pub distance: Option<f64>,
    /// Seconds until a rider is expected to accept; 0 when the company cannot tell.
    #[serde(default, deserialize_with = "opt_float")]
    pub dispatch_duration: Option<f64>,
    #[serde(default, deserialize_with = "opt_text")]
    pub delivery_token: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub waybill_id: Option<String>,
    #[serde(default, deserialize_with = "opt_int")]
    pub order_status: Option<i64>,
    #[serde(default, deserialize_with = "opt_text")]
    pub finish_code: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub pickup_code: Option<String>,
}

impl FeeResult {
    /// The insurance fee, whichever way it was spelled.
    pub fn insurance(&self) -> Option<Decimal> {
        self.insurancefee.or(self.insurancfee)
    }
}

/// `order/get`.
#[derive(Debug, Deserialize)]
pub struct OrderDetail {
    #[serde(deserialize_with = "int")]
    pub order_status: i64,
    #[serde(default, deserialize_with = "opt_text")]
    pub waybill_id: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub rider_name: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub rider_phone: Option<String>,
    /// GCJ-02.
    #[serde(default, deserialize_with = "opt_float")]
    pub rider_lng: Option<f64>,
    #[serde(default, deserialize_with = "opt_float")]
    pub rider_lat: Option<f64>,
    /// Seconds left until delivery, while delivering.
    #[serde(default, deserialize_with = "opt_float")]
    pub reach_time: Option<f64>,
}

/// `order/precancel` and `order/cancel`.
#[derive(Debug, Deserialize)]
pub struct CancelResult {
    /// Yuan kept by the company.
    #[serde(default, deserialize_with = "opt_yuan")]
    pub deduct_fee: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_text")]
    pub desc: Option<String>,
}

/// Answers of which only the result layers matter.
#[derive(Debug, Deserialize)]
pub struct Nothing {}

// ------------------------------------------------------------------------------- the push

/// `update_waybill_status` (after decryption in safe mode).
#[derive(Debug, Deserialize)]
pub struct WaybillStatusPush {
    #[serde(rename = "ToUserName", default, deserialize_with = "opt_text")]
    pub to_user_name: Option<String>,
    #[serde(rename = "FromUserName", default, deserialize_with = "opt_text")]
    pub from_user_name: Option<String>,
    #[serde(rename = "CreateTime", default, deserialize_with = "opt_int")]
    pub create_time: Option<i64>,
    #[serde(rename = "MsgType", default, deserialize_with = "opt_text")]
    pub msg_type: Option<String>,
    #[serde(rename = "Event", default, deserialize_with = "opt_text")]
    pub event: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub shopid: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub shop_order_id: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub shop_no: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub waybill_id: Option<String>,
    /// Unix seconds.
    #[serde(default, deserialize_with = "opt_int")]
    pub action_time: Option<i64>,
    #[serde(default, deserialize_with = "opt_int")]
    pub order_status: Option<i64>,
    #[serde(default, deserialize_with = "opt_text")]
    pub action_msg: Option<String>,
    #[serde(default)]
    pub agent: Option<Agent>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Agent {
    #[serde(default, deserialize_with = "opt_text")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub phone: Option<String>,
    /// Unix seconds: expected delivery, while delivering.
    #[serde(default, deserialize_with = "opt_int")]
    pub reach_time: Option<i64>,
}

/// The safe-mode envelope of a push: `{"ToUserName": "gh_…", "Encrypt": "…"}`.
#[derive(Debug, Deserialize)]
pub struct EncryptedPush {
    #[serde(rename = "ToUserName", default, deserialize_with = "opt_text")]
    pub to_user_name: Option<String>,
    #[serde(rename = "Encrypt", default, deserialize_with = "opt_text")]
    pub encrypt: Option<String>,
}

/// Our answer to a push, before encryption.
#[derive(Debug, Serialize)]
pub struct PushReply<'a> {
    #[serde(rename = "ToUserName")]
    pub to_user_name: &'a str,
    #[serde(rename = "FromUserName")]
    pub from_user_name: &'a str,
    #[serde(rename = "CreateTime")]
    pub create_time: i64,
    #[serde(rename = "MsgType")]
    pub msg_type: &'a str,
    #[serde(rename = "Event")]
    pub event: &'a str,
    pub resultcode: i64,
    pub resultmsg: &'a str,
}

/// The encrypted form of our answer in safe mode.
#[derive(Debug, Serialize)]
pub struct EncryptedReply<'a> {
    #[serde(rename = "Encrypt")]
    pub encrypt: &'a str,
    #[serde(rename = "MsgSignature")]
    pub msg_signature: &'a str,
    #[serde(rename = "TimeStamp")]
    pub timestamp: i64,
    #[serde(rename = "Nonce")]
    pub nonce: &'a str,
}

// ------------------------------------------------------------------- numbers and leniency

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn dec(s: &str) -> Decimal {
        s.parse::<Decimal>().unwrap_or_default()
    }

    #[test]
    fn amounts_go_out_as_numbers_and_coordinates_to_six_decimals() {
        let out = |s| serde_json::to_string(&JsonDecimal(dec(s))).ok();
        assert_eq!(out("10.50").as_deref(), Some("10.5"));
        assert_eq!(out("12.00").as_deref(), Some("12"));
        assert_eq!(out("0.01").as_deref(), Some("0.01"));
        let c = |f| serde_json::to_string(&Coordinate(f)).ok();
        assert_eq!(c(121.505_501_234).as_deref(), Some("121.505501"));
        assert_eq!(c(31.2).as_deref(), Some("31.2"));
    }

    #[test]
    fn both_spellings_of_the_insurance_fee() {
        let a: FeeResult =
            serde_json::from_value(json!({"insurancefee": 1.5, "fee": "12"})).unwrap();
        let b: FeeResult = serde_json::from_value(json!({"insurancfee": 1.5})).unwrap();
        let both: FeeResult =
            serde_json::from_value(json!({"insurancefee": 2, "insurancfee": 1.5})).unwrap();
        assert_eq!(a.insurance(), Some(dec("1.5")));
        assert_eq!(a.fee, Some(dec("12")));
        assert_eq!(b.insurance(), Some(dec("1.5")));
        assert_eq!(both.insurance(), Some(dec("2")));
    }

    #[test]
    fn amounts_come_in_from_their_text() {
        let r: FeeResult = serde_json::from_value(json!({
            "resultcode": 0, "resultmsg": "ok", "fee": 11, "deliverfee": 11.5, "couponfee": "0.5",
            "tips": null, "insurancefee": "", "distance": 1234.5, "dispatch_duration": 300,
            "delivery_token": "tok", "waybill_id": 123456789012_i64, "order_status": "101",
            "finish_code": 1234
        }))
        .unwrap();
        assert_eq!(r.fee, Some(dec("11")));
        assert_eq!(r.deliverfee, Some(dec("11.5")));
        assert_eq!(r.couponfee, Some(dec("0.5")));
        assert_eq!(r.tips, None);
        assert_eq!(r.insurance(), None);
        assert_eq!(r.waybill_id.as_deref(), Some("123456789012"));
        assert_eq!(r.order_status, Some(101));
        assert_eq!(r.finish_code.as_deref(), Some("1234"));
        let c: CancelResult =
            serde_json::from_str(r#"{"deduct_fee":0.30000000000000004,"desc":"x"}"#).unwrap();
        assert_eq!(c.deduct_fee, Some(dec("0.30000000000000004")));
        assert!(serde_json::from_value::<CancelResult>(json!({"deduct_fee": true})).is_err());
    }

    #[test]
    fn result_layers() {
        let l: ResultLayers = serde_json::from_value(
            json!({"errcode": 930563, "errmsg": "order not exist rid: 1-2-3"}),
        )
        .unwrap();
        assert_eq!(l.errcode, Some(930563));
        assert_eq!(l.resultcode, None);
        let l: ResultLayers =
            serde_json::from_value(json!({"errcode": 0, "resultcode": "-1", "resultmsg": "x"}))
                .unwrap();
        assert_eq!((l.errcode, l.resultcode), (Some(0), Some(-1)));
    }

    #[test]
    fn token_answer_display_hides_the_token() {
        let t: TokenAnswer =
            serde_json::from_value(json!({"access_token": "SECRET-TOKEN", "expires_in": 7200}))
                .unwrap();
        assert!(!t.to_string().contains("SECRET-TOKEN"));
    }

    #[test]
    fn order_key_is_flattened() {
        let body = GetOrder {
            key: OrderKey {
                shopid: "test_shop_id",
                shop_order_id: "A1",
                shop_no: "S1",
                delivery_id: "TEST",
                openid: "o1",
                delivery_sign: "sig".into(),
            },
        };
        let v = serde_json::to_value(&body).unwrap();
        assert_eq!(
            v,
            json!({"shopid": "test_shop_id", "shop_order_id": "A1", "shop_no": "S1",
                   "delivery_id": "TEST", "openid": "o1", "delivery_sign": "sig"})
        );
        assert_eq!(serde_json::to_string(&Empty {}).unwrap(), "{}");
    }
}
