//! Dada ⇄ domain: the conversions of results into domain types and of our requests into Dada's
//! bodies. The two tables that give Dada's numbers their meaning (status and error codes) are
//! in [`super::status`], re-exported here.
//!
//! Money: Dada's `fee` is freight after coupons, with tips and insurance reported apart; the
//! domain's [`DeliveryFees::fee`] is what the merchant pays for the delivery, so it is `fee +
//! tips + insuranceFee` here. Times: Dada writes `YYYY-MM-DD HH:MM:SS` in China time (UTC+8),
//! and `""` for a moment not reached yet.

use chrono::{DateTime, NaiveDateTime, TimeDelta, TimeZone, Utc};
use rust_decimal::Decimal;

use super::wire;
use crate::{
    domain::{GeoPoint, Money, ProviderId, china_offset},
    providers::{
        ProviderError, ProviderResult,
        delivery::{
            Balance, City, Courier, CourierPosition, DeliveryDetail, DeliveryFees, DeliveryQuote,
            DeliveryRequest, Dispatched, Reason, Store, StoreFailure,
        },
    },
};

pub use super::status::*;

pub(super) fn protocol(detail: impl Into<String>) -> ProviderError {
    ProviderError::protocol(ProviderId::Dada, detail)
}

/// A refusal decided before calling Dada (a value Dada could not accept anyway).
pub(super) fn invalid(message: impl Into<String>) -> ProviderError {
    ProviderError::invalid_request(ProviderId::Dada, message)
}

// ------------------------------------------------------------------------ money and time

/// Yuan from the wire, rounded to the fen; absent is zero (optional fees Dada leaves out).
pub fn money(yuan: Option<Decimal>, field: &str) -> ProviderResult<Money> {
    crate::providers::platform_money(ProviderId::Dada, yuan, field)
}

fn required_money(yuan: Option<Decimal>, field: &str) -> ProviderResult<Money> {
    match yuan {
        Some(_) => money(yuan, field),
        None => Err(protocol(format!("{field} missing"))),
    }
}

fn sum(parts: &[Money], field: &str) -> ProviderResult<Money> {
    parts
        .iter()
        .try_fold(Money::ZERO, |acc, m| acc.checked_add(*m))
        .ok_or_else(|| protocol(format!("{field} out of range")))
}

/// Metres, rounded; Dada sends fractional metres.
fn metres(distance: Option<f64>) -> Option<i64> {
    distance
        .filter(|d| d.is_finite() && *d >= 0.0 && *d < 1.0e12)
        // Checked above: finite, non-negative and far inside i64.
        .map(|d| d.round() as i64)
}

/// A Dada time: `YYYY-MM-DD HH:MM:SS` in China time, `None` when empty.
pub fn china_time(text: Option<&str>) -> ProviderResult<Option<DateTime<Utc>>> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M"))
        .map_err(|_| protocol(format!("unreadable time {text:?}")))?;
    china_offset()
        .from_local_datetime(&naive)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .map(Some)
        .ok_or_else(|| protocol(format!("unreadable time {text:?}")))
}

/// A courier's position; Dada sends `""` (or zeros) when it has none.
fn position(lng: Option<f64>, lat: Option<f64>) -> Option<GeoPoint> {
    match (lng, lat) {
        (Some(lng), Some(lat)) if lng != 0.0 || lat != 0.0 => GeoPoint::new(lng, lat),
        _ => None,
    }
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.trim().is_empty())
}

// ------------------------------------------------------------------------ requests to Dada

/// addOrder / reAddOrder / queryDeliverFee body of a delivery request.
pub fn order_body(r: &DeliveryRequest) -> wire::OrderBody<'_> {
    wire::OrderBody {
        shop_no: &r.shop_no,
        origin_id: &r.origin_id,
        city_code: &r.city_code,
        cargo_price: wire::JsonDecimal(r.cargo_price.to_yuan()),
        is_prepay: u8::from(r.prepaid),
        receiver_name: &r.receiver_name,
        receiver_address: &r.receiver_address,
        receiver_phone: &r.receiver_phone,
        receiver_lat: r.receiver_location.map(|p| p.lat),
        receiver_lng: r.receiver_location.map(|p| p.lng),
        callback: &r.callback_url,
        cargo_weight: wire::JsonDecimal(r.cargo_weight_kg),
        tips: (r.tips > Money::ZERO).then(|| wire::JsonDecimal(r.tips.to_yuan())),
        info: r.note.as_deref().filter(|n| !n.is_empty()),
        delay_publish_time: r.publish_at.map(publish_minute),
    }
}

/// Dada books publication on whole minutes; a time between minutes goes to the next one, so a
/// booking that was far enough ahead stays so.
fn publish_minute(at: DateTime<Utc>) -> i64 {
    let secs = at.timestamp();
    let rem = secs.rem_euclid(60);
    if rem == 0 && at.timestamp_subsec_nanos() == 0 {
        secs
    } else {
        secs - rem + 60
    }
}

// ---------------------------------------------------------------------- results from Dada

/// Fees of an addOrder-shaped result.
pub fn fees(r: &wire::FeeResult) -> ProviderResult<DeliveryFees> {
    let freight = required_money(r.fee, "fee")?;
    let tips = money(r.tips, "tips")?;
    let insurance = money(r.insurance_fee, "insuranceFee")?;
    Ok(DeliveryFees {
        fee: sum(&[freight, tips, insurance], "fee")?,
        delivery_fee: required_money(r.deliver_fee, "deliverFee")?,
        coupon: money(r.coupon_fee, "couponFee")?,
        tips,
        insurance,
    })
}

pub fn dispatched(r: &wire::FeeResult) -> ProviderResult<Dispatched> {
    Ok(Dispatched {
        fees: fees(r)?,
        // Informational only: a missing distance does not make the dispatch less real.
        distance_m: metres(r.distance).unwrap_or(0),
        // Dada's waybill number and first status arrive with the callbacks.
        waybill: None,
        raw_status: None,
        finish_code: None,
    })
}

/// How long a `deliveryNo` can be published, counted from when we received it.
pub const QUOTE_VALIDITY: TimeDelta = TimeDelta::minutes(3);

pub fn quote(r: &wire::FeeResult, received_at: DateTime<Utc>) -> ProviderResult<DeliveryQuote> {
    let token = non_empty(r.delivery_no.clone())
        .ok_or_else(|| protocol("queryDeliverFee answered no deliveryNo"))?;
    Ok(DeliveryQuote {
        fees: fees(r)?,
        distance_m: metres(r.distance).unwrap_or(0),
        token,
        expires_at: Some(received_at + QUOTE_VALIDITY),
        dispatch_minutes: None,
    })
}

pub fn detail(d: wire::OrderDetail) -> ProviderResult<DeliveryDetail> {
    let status = status(d.status_code)
        .ok_or_else(|| protocol(format!("unknown statusCode {}", d.status_code)))?;
    let delivery_fee = money(d.delivery_fee, "deliveryFee")?;
    let coupon = money(d.coupon_fee, "couponFee")?;
    let tips = money(d.tips, "tips")?;
    let insurance = money(d.insurance_fee, "insuranceFee")?;
    let freight = delivery_fee
        .fen()
        .checked_sub(coupon.fen())
        .map(Money::from_fen)
        .ok_or_else(|| protocol("couponFee out of range"))?;
    Ok(DeliveryDetail {
        status,
        raw_status: d.status_code.to_string(),
        status_message: non_empty(d.status_msg),
        // status/query does not carry Dada's waybill number; callbacks do.
        waybill: None,
        courier: Courier {
            id: None,
            name: non_empty(d.transporter_name),
            phone: non_empty(d.transporter_phone),
            position: position(d.transporter_lng, d.transporter_lat),
        },
        fees: DeliveryFees {
            fee: sum(&[freight, tips, insurance], "fee")?,
            delivery_fee,
            coupon,
            tips,
            insurance,
        },
        actual_fee: d
            .actual_fee
            .map(|y| money(Some(y), "actualFee"))
            .transpose()?,
        penalty: d
            .deduct_fee
            .map(|y| money(Some(y), "deductFee"))
            .transpose()?,
        distance_m: metres(d.distance),
        created_at: china_time(d.create_time.as_deref())?,
        accepted_at: china_time(d.accept_time.as_deref())?,
        fetched_at: china_time(d.fetch_time.as_deref())?,
        finished_at: china_time(d.finish_time.as_deref())?,
        cancelled_at: china_time(d.cancel_time.as_deref())?,
        finish_code: non_empty(d.order_finish_code),
    })
}

pub fn reason(r: wire::ReasonItem) -> Reason {
    Reason {
        id: r.id,
        text: r.reason.unwrap_or_default(),
    }
}

pub fn transporter(t: wire::Transporter) -> Courier {
    Courier {
        id: Some(t.id),
        name: non_empty(t.name),
        phone: non_empty(t.phone),
        position: None,
    }
}

pub fn courier_position(p: wire::TransporterPosition) -> CourierPosition {
    CourierPosition {
        origin_id: p.order_id,
        courier: Courier {
            id: non_empty(p.transporter_id),
            name: non_empty(p.transporter_name),
            phone: non_empty(p.transporter_phone),
            position: position(p.transporter_lng, p.transporter_lat),
        },
    }
}

pub fn city(c: wire::CityItem) -> City {
    City {
        name: c.city_name,
        code: c.city_code,
    }
}

fn business(code: Option<i64>, shop: &str) -> ProviderResult<i32> {
    let code = code.ok_or_else(|| protocol(format!("shop {shop}: business missing")))?;
    i32::try_from(code).map_err(|_| protocol(format!("shop {shop}: business {code} out of range")))
}

pub fn store(s: wire::ShopDetail) -> ProviderResult<Store> {
    let location = position(s.lng, s.lat)
        .ok_or_else(|| protocol(format!("shop {}: no valid lng/lat", s.origin_shop_id)))?;
    Ok(Store {
        business: business(s.business, &s.origin_shop_id)?,
        name: s.station_name.unwrap_or_default(),
        city_name: s.city_name.unwrap_or_default(),
        area_name: s.area_name.unwrap_or_default(),
        address: s.station_address.unwrap_or_default(),
        location,
        contact_name: s.contact_name.unwrap_or_default(),
        phone: s.phone.unwrap_or_default(),
        shop_no: Some(s.origin_shop_id),
    })
}

/// A shop of `successList`. The echo is taken as the truth where it speaks; what it leaves out
/// comes from the store we asked for (matched by number, else by name).
pub fn store_added(a: wire::ShopAdded, requested: &[Store]) -> ProviderResult<Store> {
    let asked = requested
        .iter()
        .find(|s| s.shop_no.is_some() && s.shop_no == a.origin_shop_id)
        .or_else(|| {
            requested
                .iter()
                .find(|s| a.station_name.as_deref() == Some(s.name.as_str()))
        });
    let shop_no = non_empty(a.origin_shop_id)
        .or_else(|| asked.and_then(|s| s.shop_no.clone()))
        .ok_or_else(|| protocol("successList entry without originShopId"))?;
    let text = |echo: Option<String>, ours: Option<&String>| {
        non_empty(echo)
            .or_else(|| ours.cloned())
            .unwrap_or_default()
    };
    let location = position(a.lng, a.lat)
        .or_else(|| asked.map(|s| s.location))
        .ok_or_else(|| protocol(format!("shop {shop_no}: no valid lng/lat")))?;
    let business = match a.business {
        Some(_) => business(a.business, &shop_no)?,
        None => asked
            .map(|s| s.business)
            .ok_or_else(|| protocol(format!("shop {shop_no}: business missing")))?,
    };
    Ok(Store {
        name: text(a.station_name, asked.map(|s| &s.name)),
        business,
        city_name: text(a.city_name, asked.map(|s| &s.city_name)),
        area_name: text(a.area_name, asked.map(|s| &s.area_name)),
        address: text(a.station_address, asked.map(|s| &s.address)),
        location,
        contact_name: text(a.contact_name, asked.map(|s| &s.contact_name)),
        phone: text(a.phone, asked.map(|s| &s.phone)),
        shop_no: Some(shop_no),
    })
}

pub fn store_failure(f: wire::ShopFailed) -> StoreFailure {
    StoreFailure {
        shop_no: non_empty(f.shop_no),
        name: f.shop_name.unwrap_or_default(),
        code: f.code.map(|c| c.to_string()),
        message: f.msg.unwrap_or_default(),
    }
}

pub fn balance(b: wire::BalanceResult) -> ProviderResult<Balance> {
    Ok(Balance {
        delivery: b
            .deliver_balance
            .map(|y| money(Some(y), "deliverBalance"))
            .transpose()?,
        red_packet: b
            .red_packet_balance
            .map(|y| money(Some(y), "redPacketBalance"))
            .transpose()?,
    })
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use serde_json::json;

    use super::*;
    use crate::domain::OrderStatus;

    #[test]
    fn china_times() {
        let t = china_time(Some("2024-01-02 08:04:05")).unwrap();
        assert_eq!(t, Some(Utc.with_ymd_and_hms(2024, 1, 2, 0, 4, 5).unwrap()));
        assert_eq!(china_time(Some("")).unwrap(), None);
        assert_eq!(china_time(None).unwrap(), None);
        assert!(china_time(Some("yesterday")).is_err());
    }

    #[test]
    fn fees_include_tips_and_insurance() {
        let r: wire::FeeResult = serde_json::from_value(json!({
            "distance": 1762904.8573641, "fee": 12, "deliverFee": 12.5, "couponFee": 0.5,
            "tips": 2, "insuranceFee": 0.3
        }))
        .unwrap();
        let f = fees(&r).unwrap();
        assert_eq!(f.fee, Money::from_fen(1430));
        assert_eq!(f.delivery_fee, Money::from_fen(1250));
        assert_eq!(f.coupon, Money::from_fen(50));
        assert_eq!(dispatched(&r).unwrap().distance_m, 1_762_905);
        assert!(quote(&r, Utc::now()).is_err(), "no deliveryNo");
        let missing: wire::FeeResult = serde_json::from_value(json!({"deliverFee": 1})).unwrap();
        assert!(fees(&missing).is_err());
    }

    #[test]
    fn quote_expires_three_minutes_after_receipt() {
        let r: wire::FeeResult = serde_json::from_value(
            json!({"distance": 10, "fee": 10, "deliverFee": 10, "deliveryNo": "Dada123"}),
        )
        .unwrap();
        let now = Utc::now();
        let q = quote(&r, now).unwrap();
        assert_eq!(q.token, "Dada123");
        assert_eq!(q.expires_at.map(|t| t - now), Some(TimeDelta::minutes(3)));
    }

    #[test]
    fn detail_with_courier() {
        let d: wire::OrderDetail = serde_json::from_value(json!({
            "orderId": "A1", "statusCode": 3, "statusMsg": "配送中",
            "transporterName": "达达骑手", "transporterPhone": "13546670420",
            "transporterLng": "121.547700", "transporterLat": "31.223600",
            "deliveryFee": 10, "tips": 1, "couponFee": 0, "insuranceFee": 0, "actualFee": 11,
            "distance": 1200, "createTime": "2024-01-02 08:00:00", "acceptTime": "2024-01-02 08:01:00",
            "fetchTime": "2024-01-02 08:10:00", "finishTime": "", "cancelTime": "",
            "orderFinishCode": "", "deductFee": 0
        }))
        .unwrap();
        let d = detail(d).unwrap();
        assert_eq!(d.status, OrderStatus::InProgress);
        assert_eq!(d.raw_status, "3");
        assert_eq!(d.courier.name.as_deref(), Some("达达骑手"));
        assert_eq!(d.courier.position, GeoPoint::new(121.5477, 31.2236));
        assert_eq!(d.fees.fee, Money::from_fen(1100));
        assert_eq!(d.actual_fee, Some(Money::from_fen(1100)));
        assert_eq!(d.penalty, Some(Money::ZERO));
        assert_eq!(d.finish_code, None);
        assert_eq!(
            d.accepted_at,
            Some(Utc.with_ymd_and_hms(2024, 1, 2, 0, 1, 0).unwrap())
        );
        assert_eq!(d.finished_at, None);
    }

    #[test]
    fn unknown_detail_status_is_a_protocol_error() {
        let d: wire::OrderDetail = serde_json::from_value(json!({"statusCode": 42})).unwrap();
        assert!(matches!(detail(d), Err(ProviderError::Protocol { .. })));
    }

    #[test]
    fn order_body_from_request() {
        let request = DeliveryRequest {
            origin_id: "A1".into(),
            shop_no: "11047059".into(),
            city_code: "021".into(),
            cargo_price: Money::from_fen(2580),
            cargo_weight_kg: Decimal::from_str("1.5").unwrap(),
            prepaid: false,
            receiver_name: "张三".into(),
            receiver_address: "上海".into(),
            receiver_phone: "13800138000".into(),
            receiver_location: GeoPoint::new(121.5, 31.2),
            callback_url: "http://x/cb".into(),
            tips: Money::ZERO,
            note: None,
            publish_at: Some(Utc.with_ymd_and_hms(2030, 1, 1, 0, 10, 1).unwrap()),
            company: None,
            sender: None,
            quote_token: None,
        };
        let v = serde_json::to_value(order_body(&request)).unwrap();
        assert_eq!(v["cargo_price"], json!(25.8));
        assert_eq!(v["is_prepay"], json!(0));
        assert_eq!(v["receiver_lng"], json!(121.5));
        assert_eq!(
            v["delay_publish_time"],
            json!(
                Utc.with_ymd_and_hms(2030, 1, 1, 0, 11, 0)
                    .unwrap()
                    .timestamp()
            )
        );
        assert!(v.get("tips").is_none());
    }

    #[test]
    fn stores_fill_gaps_from_the_request() {
        let asked = Store {
            shop_no: Some("S1".into()),
            name: "店".into(),
            business: 1,
            city_name: "上海".into(),
            area_name: "浦东新区".into(),
            address: "路1号".into(),
            location: GeoPoint::new(121.5, 31.2).unwrap(),
            contact_name: "王".into(),
            phone: "138".into(),
        };
        let echo: wire::ShopAdded =
            serde_json::from_value(json!({"originShopId": "S1", "stationName": "店"})).unwrap();
        let s = store_added(echo, std::slice::from_ref(&asked)).unwrap();
        assert_eq!(s, asked);
        let dada_numbered: wire::ShopAdded = serde_json::from_value(json!({
            "originShopId": "9001", "stationName": "店", "business": 5, "lng": 121.0, "lat": 31.0
        }))
        .unwrap();
        let s = store_added(dada_numbered, &[]).unwrap();
        assert_eq!(s.shop_no.as_deref(), Some("9001"));
        assert_eq!(s.business, 5);
    }
}
