//! Unit tests of `mapping.rs`.

use std::str::FromStr;

use chrono::TimeZone;
use serde_json::json;

use super::*;
use crate::{domain::OrderStatus, providers::RejectKind};

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
    let s: wire::BoundShop =
        serde_json::from_value(json!({"delivery_id": "SFTC", "shopid": "123", "audit_result": 1}))
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
