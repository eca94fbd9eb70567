//! Unit tests of `wire.rs`.

use serde_json::json;

use super::*;

fn dec(s: &str) -> Decimal {
    s.parse::<Decimal>().unwrap_or_default()
}

#[test]
fn amounts_go_out_as_numbers() {
    let out = |s| serde_json::to_string(&JsonDecimal(dec(s))).ok();
    assert_eq!(out("10.50").as_deref(), Some("10.5"));
    assert_eq!(out("12.00").as_deref(), Some("12"));
    assert_eq!(out("0.01").as_deref(), Some("0.01"));
    assert_eq!(out("9974854.90").as_deref(), Some("9974854.9"));
}

#[test]
fn amounts_come_in_from_their_text() {
    let r: FeeResult = serde_json::from_value(json!({
        "distance": 1762904.8573641, "fee": 12, "deliverFee": 10.5, "couponFee": "0.3",
        "tips": null, "insuranceFee": "", "deliveryNo": 12345
    }))
    .unwrap();
    assert_eq!(r.fee, Some(dec("12")));
    assert_eq!(r.deliver_fee, Some(dec("10.5")));
    assert_eq!(r.coupon_fee, Some(dec("0.3")));
    assert_eq!(r.tips, None);
    assert_eq!(r.insurance_fee, None);
    assert_eq!(r.delivery_no.as_deref(), Some("12345"));
    // 0.1 + 0.2 as a float encoder would send it: the text is kept, rounding is Money's job.
    let r: CancelResult = serde_json::from_str(r#"{"deduct_fee":0.30000000000000004}"#).unwrap();
    assert_eq!(r.deduct_fee, Some(dec("0.30000000000000004")));
    assert!(serde_json::from_value::<CancelResult>(json!({"deduct_fee": true})).is_err());
}

#[test]
fn envelopes() {
    let ok: Answer =
        serde_json::from_str(r#"{"status":"success","code":0,"msg":"成功","result":{"a":1}}"#)
            .unwrap();
    assert!(ok.is_success());
    let fail: Answer =
        serde_json::from_str(r#"{"status":"fail","code":2105,"errorCode":2105,"msg":"x"}"#)
            .unwrap();
    assert!(!fail.is_success());
    assert_eq!(fail.failure_code(), Some(2105));
    let odd: Answer =
        serde_json::from_str(r#"{"status":"fail","code":0,"errorCode":"2003"}"#).unwrap();
    assert!(!odd.is_success());
    assert_eq!(odd.failure_code(), Some(2003));
}

#[test]
fn detail_reads_blank_times_and_string_coordinates() {
    let d: OrderDetail = serde_json::from_value(json!({
        "orderId": "A1", "statusCode": "2", "statusMsg": "待取货",
        "transporterName": "", "transporterPhone": "", "transporterLng": "121.547700",
        "transporterLat": "", "deliveryFee": 10, "tips": 0, "couponFee": 0, "insuranceFee": 0,
        "actualFee": 10, "distance": 1200, "createTime": "2024-01-02 03:04:05",
        "acceptTime": "", "fetchTime": "", "finishTime": "", "cancelTime": "",
        "orderFinishCode": "", "deductFee": 0
    }))
    .unwrap();
    assert_eq!(d.status_code, 2);
    assert_eq!(d.transporter_name, None);
    assert_eq!(d.transporter_lng, Some(121.5477));
    assert_eq!(d.transporter_lat, None);
    assert_eq!(d.accept_time, None);
}

#[test]
fn order_body_spelling() {
    let body = OrderBody {
        shop_no: "11047059",
        origin_id: "A1",
        city_code: "021",
        cargo_price: JsonDecimal(dec("25.80")),
        is_prepay: 0,
        receiver_name: "张三",
        receiver_address: "上海",
        receiver_phone: "13800138000",
        receiver_lat: None,
        receiver_lng: None,
        callback: "http://x/cb",
        cargo_weight: JsonDecimal(dec("1.5")),
        tips: None,
        info: None,
        delay_publish_time: None,
    };
    let v = serde_json::to_value(&body).unwrap();
    assert_eq!(v["cargo_price"], json!(25.8));
    assert_eq!(v["cargo_weight"], json!(1.5));
    assert!(v.get("tips").is_none());
    assert!(v.get("receiver_lat").is_none());
}
