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
        ProviderError, ProviderResult,
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
    ProviderError::protocol(ProviderId::Wechat, detail)
}

/// A refusal decided before calling WeChat (a request WeChat could not accept anyway).
pub(super) fn invalid(message: impl Into<String>) -> ProviderError {
    ProviderError::invalid_request(ProviderId::Wechat, message)
}

// ------------------------------------------------------------------------ money and units

/// Yuan from the wire, rounded to the fen; absent is zero.
pub fn money(yuan: Option<Decimal>, field: &str) -> ProviderResult<Money> {
    crate::providers::platform_money(ProviderId::Wechat, yuan, field)
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
#[path = "mapping_tests.rs"]
mod tests;
