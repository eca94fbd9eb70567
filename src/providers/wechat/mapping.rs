//! WeChat instant delivery ⇄ domain: the cancel reasons ([`CANCEL_REASONS`]) and the
//! conversions of answers into domain types and of our requests into WeChat's bodies. The
//! status and error tables are in [`super::status`], re-exported here.
//!
//! Money: WeChat's `fee` is freight after coupons, with tips and insurance apart; the domain's
//! [`DeliveryFees::fee`] is what the merchant pays for the delivery, so it is `fee + tips +
//! insurance` here (and `deliverfee − couponfee` stands in for a missing `fee`).
//!
//! Coordinates: the domain's [`GeoPoint`] is BD-09 (Baidu). WeChat takes GCJ-02 (`coordinate_type
//! 0`, what Tencent and AMap use, and what the companies answer rider positions in), so points
//! are converted on the way out and back.

use std::f64::consts::PI;

use chrono::{DateTime, TimeDelta, Utc};
use rust_decimal::Decimal;

use super::wire::{self, JsonDecimal};
use crate::{
    domain::{GeoPoint, Money, ProviderId},
    providers::{
        ProviderError, ProviderResult, RejectKind,
        delivery::{
            AuditState, BoundAccount, CancelPreview, Company, Courier, DeliveryDetail,
            DeliveryFees, DeliveryQuote, DeliveryRequest, Dispatched, Reason,
        },
    },
};

pub use super::status::*;

// ------------------------------------------------------------------------- cancel reasons

/// `cancel_reason_id`s as documented; there is no call that lists them.
pub const CANCEL_REASONS: &[(i64, &str)] = &[
    (1, "暂时不需要邮寄"),
    (2, "价格不合适"),
    (3, "订单信息有误，重新下单"),
    (4, "骑手取货不及时"),
    (5, "骑手配送不及时"),
    (6, "其他原因"),
];

/// "Other": `cancel_reason` must then carry the text.
pub const OTHER_CANCEL_REASON: i64 = 6;

pub fn cancel_reasons() -> Vec<Reason> {
    CANCEL_REASONS
        .iter()
        .map(|(id, text)| Reason {
            id: *id,
            text: (*text).to_owned(),
        })
        .collect()
}

/// The `cancel_reason` to send: the caller's text, or the documented label of a listed
/// reason. Refused before calling WeChat: an undocumented id, and "other" without a text.
pub fn cancel_reason_text(reason_id: i64, reason: &str) -> ProviderResult<String> {
    let reason = reason.trim();
    let label = CANCEL_REASONS
        .iter()
        .find(|(id, _)| *id == reason_id)
        .map(|(_, text)| *text)
        .ok_or_else(|| {
            invalid(format!(
                "cancel reason {reason_id} is not one of WeChat's (1–6)"
            ))
        })?;
    if !reason.is_empty() {
        return Ok(reason.to_owned());
    }
    if reason_id == OTHER_CANCEL_REASON {
        return Err(invalid("cancel reason 6 (other) needs a text"));
    }
    Ok(label.to_owned())
}

pub(super) fn protocol(detail: impl Into<String>) -> ProviderError {
    ProviderError::Protocol {
        provider: ProviderId::Wechat,
        detail: detail.into(),
    }
}

/// A refusal decided before calling WeChat (a request WeChat could not accept anyway).
pub(super) fn invalid(message: impl Into<String>) -> ProviderError {
    ProviderError::Rejected {
        provider: ProviderId::Wechat,
        kind: RejectKind::InvalidRequest,
        code: None,
        message: message.into(),
    }
}

// ------------------------------------------------------------------------ money and units

/// Yuan from the wire, rounded to the fen; absent is zero.
pub fn money(yuan: Option<Decimal>, field: &str) -> ProviderResult<Money> {
    yuan.map_or(Ok(Money::ZERO), |y| {
        Money::from_platform_yuan(y).map_err(|e| protocol(format!("{field}: {e}")))
    })
}

fn sum(parts: &[Money], field: &str) -> ProviderResult<Money> {
    parts
        .iter()
        .try_fold(Money::ZERO, |acc, m| acc.checked_add(*m))
        .ok_or_else(|| protocol(format!("{field} out of range")))
}

/// Metres, rounded.
fn metres(distance: Option<f64>) -> Option<i64> {
    distance
        .filter(|d| d.is_finite() && *d >= 0.0 && *d < 1.0e12)
        // Checked above: finite, non-negative and far inside i64.
        .map(|d| d.round() as i64)
}

/// Whole minutes (rounded up) of a `dispatch_duration` in seconds; 0 means "cannot tell".
fn minutes(seconds: Option<f64>) -> Option<i64> {
    seconds
        .filter(|s| s.is_finite() && *s > 0.0 && *s < 1.0e9)
        // Checked above: positive and far inside i64.
        .map(|s| (s / 60.0).ceil() as i64)
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.trim().is_empty())
}

// ---------------------------------------------------------------------------- coordinates

const X_PI: f64 = PI * 3000.0 / 180.0;

/// BD-09 → GCJ-02 (the usual inverse of Baidu's offset; good to about a metre).
pub fn bd09_to_gcj02(p: GeoPoint) -> (f64, f64) {
    let x = p.lng - 0.0065;
    let y = p.lat - 0.006;
    let z = (x * x + y * y).sqrt() - 0.00002 * (y * X_PI).sin();
    let theta = y.atan2(x) - 0.000003 * (x * X_PI).cos();
    (z * theta.cos(), z * theta.sin())
}

/// GCJ-02 → BD-09.
pub fn gcj02_to_bd09(lng: f64, lat: f64) -> Option<GeoPoint> {
    let z = (lng * lng + lat * lat).sqrt() + 0.00002 * (lat * X_PI).sin();
    let theta = lat.atan2(lng) + 0.000003 * (lng * X_PI).cos();
    GeoPoint::new(z * theta.cos() + 0.0065, z * theta.sin() + 0.006)
}

/// A rider's position; companies send nothing, `""` or zeros when they have none.
fn rider_position(lng: Option<f64>, lat: Option<f64>) -> Option<GeoPoint> {
    match (lng, lat) {
        (Some(lng), Some(lat)) if lng != 0.0 || lat != 0.0 => gcj02_to_bd09(lng, lat),
        _ => None,
    }
}

// ---------------------------------------------------------------------- requests to WeChat

/// The mini-program page the receiver's notification opens.
pub const WXA_PATH: &str = "/pages/index/index";
/// The picture of the goods in the notification. WeChat requires one and our requests carry
/// none, so a neutral WeChat-hosted image stands in.
pub const SHOP_IMG_URL: &str = "https://res.wx.qq.com/a/wx_fed/assets/res/NTI4MWU5.ico";
/// Goods name when the request's note gives none.
const DEFAULT_GOODS_NAME: &str = "商品";
/// WeChat's limit for `order_info.note`, in characters.
const NOTE_MAX_CHARS: usize = 200;
/// A goods name longer than this is cut (it is shown in a notification).
const GOODS_NAME_MAX_CHARS: usize = 50;
/// Our requests carry no parcel size: a small parcel (cm), inside every documented bound
/// (height ≤ 45, length ≤ 65, width ≤ 50).
const PARCEL_CM: (u32, u32, u32) = (10, 30, 20);

/// The first `max` characters of `text`.
fn clip(text: &str, max: usize) -> &str {
    text.char_indices()
        .nth(max)
        .map_or(text, |(end, _)| &text[..end])
}

/// pre_add / add / readd body of a delivery request. The sender (the store) is required: the
/// receiver's city is taken from it, since our requests carry none. Both ends need a
/// position, which WeChat requires.
pub fn order_body<'a>(
    r: &'a DeliveryRequest,
    key: wire::OrderKey<'a>,
    delivery_token: Option<&'a str>,
) -> ProviderResult<wire::OrderBody<'a>> {
    let sender = r
        .sender
        .as_ref()
        .ok_or_else(|| invalid("WeChat needs the sending store with each order"))?;
    if sender.city.trim().is_empty() {
        return Err(invalid(
            "the sending store has no city, which WeChat needs for both ends",
        ));
    }
    let sender_at = sender
        .location
        .ok_or_else(|| invalid("the sending store has no position, which WeChat requires"))?;
    let receiver_at = r
        .receiver_location
        .ok_or_else(|| invalid("the receiver has no position, which WeChat requires"))?;
    let place = |name, address, detail, phone, at: GeoPoint| {
        let (lng, lat) = bd09_to_gcj02(at);
        wire::Place {
            name,
            city: &sender.city,
            address,
            address_detail: detail,
            phone,
            lng: wire::Coordinate(lng),
            lat: wire::Coordinate(lat),
            coordinate_type: 0,
        }
    };
    let note = r.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
    let goods_name = note.map_or(DEFAULT_GOODS_NAME, |n| clip(n, GOODS_NAME_MAX_CHARS));
    let goods_value = JsonDecimal(r.cargo_price.to_yuan());
    let (height, length, width) = PARCEL_CM;
    Ok(wire::OrderBody {
        key,
        sender: place(
            sender.name.as_str(),
            sender.address.as_str(),
            // The store's area when it has no finer detail: WeChat requires the field.
            if sender.address_detail.trim().is_empty() {
                sender.address.as_str()
            } else {
                sender.address_detail.as_str()
            },
            sender.phone.as_str(),
            sender_at,
        ),
        // One address line of ours fills both of WeChat's, which are both required.
        receiver: place(
            r.receiver_name.as_str(),
            r.receiver_address.as_str(),
            r.receiver_address.as_str(),
            r.receiver_phone.as_str(),
            receiver_at,
        ),
        cargo: wire::Cargo {
            goods_value,
            goods_height: height,
            goods_length: length,
            goods_width: width,
            goods_weight: JsonDecimal(r.cargo_weight_kg),
            goods_detail: wire::GoodsDetail {
                goods: vec![wire::Good {
                    good_count: 1,
                    good_name: goods_name,
                    good_price: goods_value,
                    good_unit: "件",
                }],
            },
        },
        order_info: wire::OrderInfo {
            order_type: u8::from(r.publish_at.is_some()),
            expected_delivery_time: r.publish_at.map(|t| t.timestamp()),
            note: note.map(|n| clip(n, NOTE_MAX_CHARS)),
            tips: (r.tips > Money::ZERO).then(|| JsonDecimal(r.tips.to_yuan())),
            is_insured: 0,
        },
        shop: wire::ShopInfo {
            wxa_path: WXA_PATH,
            img_url: SHOP_IMG_URL,
            goods_name,
            goods_count: 1,
        },
        delivery_token: delivery_token.filter(|t| !t.is_empty()),
    })
}

// -------------------------------------------------------------------- answers from WeChat

/// Fees of a pre_add / add / readd answer; every one may be absent (Meituan quotes none).
pub fn fees(r: &wire::FeeResult) -> ProviderResult<DeliveryFees> {
    let delivery_fee = money(r.deliverfee, "deliverfee")?;
    let coupon = money(r.couponfee, "couponfee")?;
    let tips = money(r.tips, "tips")?;
    let insurance = money(r.insurance(), "insurancefee")?;
    let freight = match r.fee {
        Some(_) => money(r.fee, "fee")?,
        None => delivery_fee
            .fen()
            .checked_sub(coupon.fen())
            .map(Money::from_fen)
            .ok_or_else(|| protocol("couponfee out of range"))?,
    };
    Ok(DeliveryFees {
        fee: sum(&[freight, tips, insurance], "fee")?,
        delivery_fee,
        coupon,
        tips,
        insurance,
    })
}

/// How long a `delivery_token` can be used, counted from when we received it: Dada documents
/// 3 minutes, the others give no token.
pub const QUOTE_VALIDITY: TimeDelta = TimeDelta::minutes(3);

pub fn quote(r: &wire::FeeResult, received_at: DateTime<Utc>) -> ProviderResult<DeliveryQuote> {
    let token = non_empty(r.delivery_token.clone()).unwrap_or_default();
    Ok(DeliveryQuote {
        fees: fees(r)?,
        distance_m: metres(r.distance).unwrap_or(0),
        expires_at: (!token.is_empty()).then(|| received_at + QUOTE_VALIDITY),
        token,
        dispatch_minutes: minutes(r.dispatch_duration),
    })
}

pub fn dispatched(r: &wire::FeeResult) -> ProviderResult<Dispatched> {
    Ok(Dispatched {
        fees: fees(r)?,
        // Informational only: a missing distance does not make the dispatch less real.
        distance_m: metres(r.distance).unwrap_or(0),
        waybill: non_empty(r.waybill_id.clone()),
        raw_status: r.order_status.map(|s| s.to_string()),
        finish_code: non_empty(r.finish_code.clone()),
    })
}

pub fn detail(d: wire::OrderDetail) -> ProviderResult<DeliveryDetail> {
    let status = status(d.order_status)
        .ok_or_else(|| protocol(format!("unknown order_status {}", d.order_status)))?;
    Ok(DeliveryDetail {
        status,
        raw_status: d.order_status.to_string(),
        status_message: None,
        waybill: non_empty(d.waybill_id),
        courier: Courier {
            id: None,
            name: non_empty(d.rider_name),
            phone: non_empty(d.rider_phone),
            position: rider_position(d.rider_lng, d.rider_lat),
        },
        // order/get answers no money.
        fees: DeliveryFees::default(),
        actual_fee: None,
        penalty: None,
        distance_m: None,
        created_at: None,
        accepted_at: None,
        fetched_at: None,
        finished_at: None,
        cancelled_at: None,
        finish_code: None,
    })
}

pub fn cancel_preview(r: &wire::CancelResult) -> ProviderResult<CancelPreview> {
    Ok(CancelPreview {
        penalty: money(r.deduct_fee, "deduct_fee")?,
        description: non_empty(r.desc.clone()),
    })
}

pub fn company(c: wire::DeliveryCompany) -> Company {
    Company {
        name: non_empty(c.delivery_name).unwrap_or_else(|| c.delivery_id.clone()),
        id: c.delivery_id,
    }
}

pub fn bound_account(s: wire::BoundShop) -> ProviderResult<BoundAccount> {
    let audit = match s.audit_result {
        Some(0) => AuditState::Passed,
        Some(1) => AuditState::Reviewing,
        Some(2) => AuditState::Rejected,
        other => {
            return Err(protocol(format!(
                "shop/get: audit_result {other:?} of {} is not 0, 1 or 2",
                s.delivery_id
            )));
        }
    };
    Ok(BoundAccount {
        company_id: s.delivery_id,
        shop_id: s.shopid.unwrap_or_default(),
        audit,
    })
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use chrono::TimeZone;
    use serde_json::json;

    use super::*;
    use crate::domain::OrderStatus;

    use crate::providers::delivery::Sender;

    #[test]
    fn cancel_reasons_and_their_texts() {
        let reasons = cancel_reasons();
        assert_eq!(
            reasons.iter().map(|r| r.id).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5, 6]
        );
        assert!(reasons.iter().all(|r| !r.text.is_empty()));
        assert_eq!(cancel_reason_text(2, "").unwrap(), "价格不合适");
        assert_eq!(cancel_reason_text(2, " 太贵 ").unwrap(), "太贵");
        assert_eq!(cancel_reason_text(6, "顾客不要了").unwrap(), "顾客不要了");
        assert!(matches!(
            cancel_reason_text(6, "  "),
            Err(ProviderError::Rejected {
                kind: RejectKind::InvalidRequest,
                code: None,
                ..
            })
        ));
        assert!(cancel_reason_text(7, "x").is_err());
        assert!(cancel_reason_text(0, "x").is_err());
    }

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn fees_include_tips_and_insurance() {
        let r: wire::FeeResult = serde_json::from_value(json!({
            "fee": 12, "deliverfee": 12.5, "couponfee": 0.5, "tips": 2, "insurancfee": 0.3,
            "distance": 1762.6, "dispatch_duration": 290, "delivery_token": "tok"
        }))
        .unwrap();
        let f = fees(&r).unwrap();
        assert_eq!(f.fee, Money::from_fen(1430));
        assert_eq!(f.delivery_fee, Money::from_fen(1250));
        assert_eq!(f.coupon, Money::from_fen(50));
        assert_eq!(f.insurance, Money::from_fen(30));
        let now = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
        let q = quote(&r, now).unwrap();
        assert_eq!(q.token, "tok");
        assert_eq!(q.expires_at, Some(now + TimeDelta::minutes(3)));
        assert_eq!(q.dispatch_minutes, Some(5));
        assert_eq!(q.distance_m, 1763);
        // No fee: freight is deliverfee − couponfee.
        let r: wire::FeeResult =
            serde_json::from_value(json!({"deliverfee": 10, "couponfee": 1})).unwrap();
        assert_eq!(fees(&r).unwrap().fee, Money::from_fen(900));
    }

    #[test]
    fn a_quote_without_token_or_fees() {
        // Meituan: validation passed, nothing else.
        let r: wire::FeeResult =
            serde_json::from_value(json!({"resultcode": 0, "resultmsg": "ok"})).unwrap();
        let q = quote(&r, Utc::now()).unwrap();
        assert_eq!(q.token, "");
        assert_eq!(q.expires_at, None);
        assert_eq!(q.dispatch_minutes, None);
        assert_eq!(q.fees, DeliveryFees::default());
        let r: wire::FeeResult = serde_json::from_value(json!({"dispatch_duration": 0})).unwrap();
        assert_eq!(quote(&r, Utc::now()).unwrap().dispatch_minutes, None);
    }

    #[test]
    fn dispatched_carries_waybill_and_status() {
        let r: wire::FeeResult = serde_json::from_value(json!({
            "fee": 10, "deliverfee": 10, "waybill_id": "A1_waybillid", "order_status": 101,
            "finish_code": "", "distance": 1000
        }))
        .unwrap();
        let d = dispatched(&r).unwrap();
        assert_eq!(d.waybill.as_deref(), Some("A1_waybillid"));
        assert_eq!(d.raw_status.as_deref(), Some("101"));
        assert_eq!(d.finish_code, None);
        assert_eq!(d.fees.fee, Money::from_fen(1000));
    }

    #[test]
    fn detail_with_rider() {
        let d: wire::OrderDetail = serde_json::from_value(json!({
            "resultcode": 0, "resultmsg": "ok", "order_status": 301, "waybill_id": "W1",
            "rider_name": "骑手", "rider_phone": "13800000000",
            "rider_lng": 116.39762729119315, "rider_lat": 39.90865673957631, "reach_time": 300
        }))
        .unwrap();
        let d = detail(d).unwrap();
        assert_eq!(d.status, OrderStatus::InProgress);
        assert_eq!(d.raw_status, "301");
        assert_eq!(d.waybill.as_deref(), Some("W1"));
        assert_eq!(d.courier.name.as_deref(), Some("骑手"));
        let p = d.courier.position.unwrap();
        assert!(
            (p.lng - 116.404).abs() < 1e-5 && (p.lat - 39.915).abs() < 1e-5,
            "{p:?}"
        );

        let none: wire::OrderDetail = serde_json::from_value(
            json!({"order_status": "101", "rider_lng": 0, "rider_lat": 0, "rider_name": ""}),
        )
        .unwrap();
        let none = detail(none).unwrap();
        assert_eq!(none.courier, Courier::default());
        let bad: wire::OrderDetail = serde_json::from_value(json!({"order_status": 402})).unwrap();
        assert!(matches!(detail(bad), Err(ProviderError::Protocol { .. })));
    }

    #[test]
    fn coordinates_convert_both_ways() {
        // The usual published example: BD-09 (116.404, 39.915).
        let bd = GeoPoint::new(116.404, 39.915).unwrap();
        let (lng, lat) = bd09_to_gcj02(bd);
        assert!((lng - 116.397_627_291_193_15).abs() < 1e-9, "{lng}");
        assert!((lat - 39.908_656_739_576_31).abs() < 1e-9, "{lat}");
        let back = gcj02_to_bd09(lng, lat).unwrap();
        assert!((back.lng - bd.lng).abs() < 1e-5 && (back.lat - bd.lat).abs() < 1e-5);
    }

    #[test]
    fn accounts_and_companies() {
        let s: wire::BoundShop = serde_json::from_value(
            json!({"delivery_id": "SFTC", "shopid": "123", "audit_result": 1}),
        )
        .unwrap();
        assert_eq!(
            bound_account(s).unwrap(),
            BoundAccount {
                company_id: "SFTC".into(),
                shop_id: "123".into(),
                audit: AuditState::Reviewing
            }
        );
        let s: wire::BoundShop =
            serde_json::from_value(json!({"delivery_id": "SFTC", "audit_result": 9})).unwrap();
        assert!(bound_account(s).is_err());
        let c: wire::DeliveryCompany =
            serde_json::from_value(json!({"delivery_id": "SS", "delivery_name": "闪送"})).unwrap();
        assert_eq!(
            company(c),
            Company {
                id: "SS".into(),
                name: "闪送".into()
            }
        );
        let c: wire::CancelResult =
            serde_json::from_value(json!({"deduct_fee": 2, "desc": "扣2元"})).unwrap();
        assert_eq!(
            cancel_preview(&c).unwrap(),
            CancelPreview {
                penalty: Money::from_fen(200),
                description: Some("扣2元".into())
            }
        );
    }

    fn request() -> DeliveryRequest {
        DeliveryRequest {
            origin_id: "A1".into(),
            shop_no: "S1".into(),
            city_code: "021".into(),
            cargo_price: Money::from_fen(2580),
            cargo_weight_kg: dec("1.5"),
            prepaid: false,
            receiver_name: "张三".into(),
            receiver_address: "上海市浦东新区世纪大道100号".into(),
            receiver_phone: "13800138000".into(),
            receiver_location: GeoPoint::new(121.5055, 31.2397),
            callback_url: String::new(),
            tips: Money::from_fen(300),
            note: Some("少放辣".into()),
            publish_at: None,
            company: Some("TEST".into()),
            sender: Some(Sender {
                name: "测试店".into(),
                phone: "021-12345678".into(),
                city: "上海市".into(),
                address: "上海市浦东新区张杨路500号".into(),
                address_detail: "1楼".into(),
                location: GeoPoint::new(121.52, 31.23),
            }),
            quote_token: None,
        }
    }

    fn key() -> wire::OrderKey<'static> {
        wire::OrderKey {
            shopid: "test_shop_id",
            shop_order_id: "A1",
            shop_no: "S1",
            delivery_id: "TEST",
            openid: "o1",
            delivery_sign: "sig".into(),
        }
    }

    #[test]
    fn order_body_spelling() {
        let r = request();
        let body = order_body(&r, key(), Some("tok")).unwrap();
        let text = serde_json::to_string(&body).unwrap();
        assert!(text.contains("张三"), "Chinese is sent unescaped: {text}");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["shopid"], json!("test_shop_id"));
        assert_eq!(v["delivery_token"], json!("tok"));
        assert_eq!(v["receiver"]["city"], json!("上海市"));
        assert_eq!(v["receiver"]["coordinate_type"], json!(0));
        assert_eq!(v["sender"]["address_detail"], json!("1楼"));
        assert_eq!(v["cargo"]["goods_value"], json!(25.8));
        assert_eq!(v["cargo"]["goods_weight"], json!(1.5));
        assert_eq!(
            v["cargo"]["goods_detail"]["goods"][0]["good_name"],
            json!("少放辣")
        );
        assert_eq!(v["order_info"]["order_type"], json!(0));
        assert!(v["order_info"].get("expected_delivery_time").is_none());
        assert_eq!(v["order_info"]["tips"], json!(3));
        assert_eq!(v["order_info"]["is_insured"], json!(0));
        assert_eq!(v["shop"]["wxa_path"], json!(WXA_PATH));
        assert_eq!(v["shop"]["goods_count"], json!(1));
        // GCJ-02 is east-south of BD-09 by a few hundred metres.
        let lng = v["receiver"]["lng"].as_f64().unwrap();
        assert!(lng < 121.5055 && lng > 121.49, "{lng}");
    }

    #[test]
    fn booked_orders_and_missing_parts() {
        let mut r = request();
        let at = Utc.with_ymd_and_hms(2030, 1, 1, 8, 0, 0).unwrap();
        r.publish_at = Some(at);
        r.tips = Money::ZERO;
        r.note = Some("长".repeat(300));
        let v = serde_json::to_value(order_body(&r, key(), None).unwrap()).unwrap();
        assert_eq!(v["order_info"]["order_type"], json!(1));
        assert_eq!(
            v["order_info"]["expected_delivery_time"],
            json!(at.timestamp())
        );
        assert!(v["order_info"].get("tips").is_none());
        assert!(v.get("delivery_token").is_none());
        assert_eq!(
            v["order_info"]["note"].as_str().map(|n| n.chars().count()),
            Some(200)
        );

        let mut r = request();
        r.receiver_location = None;
        assert!(order_body(&r, key(), None).is_err());
        let mut r = request();
        r.sender = None;
        assert!(order_body(&r, key(), None).is_err());
        let mut r = request();
        if let Some(s) = r.sender.as_mut() {
            s.location = None;
        }
        assert!(order_body(&r, key(), None).is_err());
    }
}
