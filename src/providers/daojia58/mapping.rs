//! 58's values to ours and back: its numbers and amounts (JSON numbers or strings, read
//! through their text), its China-time timestamps, and our order-source requests
//! ([`StatusSync`], [`TechnicianProfile`]) as 58's business parameters. The status codes are
//! in [`super::status`], re-exported here so `mapping::BOOKING` and friends keep working.

use chrono::{DateTime, NaiveDateTime, Utc};
use rust_decimal::Decimal;

pub use super::status::*;
use super::wire::{OrderUpdate, ServiceUser};
use crate::{
    domain::{Money, china_offset},
    providers::source::{StatusSync, TechnicianProfile},
};

/// A JSON number or string of digits, exactly.
pub fn integer(v: &serde_json::Value, what: &str) -> Result<i64, String> {
    match v {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .ok_or_else(|| format!("{what} is not an integer"))
}

/// A JSON number or string read as yuan through its text (never through a float).
pub fn yuan(v: &serde_json::Value, what: &str) -> Result<Money, String> {
    let text = match v {
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::String(s) => s.trim().to_owned(),
        _ => return Err(format!("{what} is not an amount")),
    };
    let d: Decimal = text
        .parse()
        .map_err(|_| format!("{what} {text:?} is not an amount"))?;
    if d.is_sign_negative() {
        return Err(format!("{what} is negative"));
    }
    Money::from_yuan_exact(d).map_err(|_| format!("{what} has sub-fen digits"))
}

/// `yyyy-MM-dd HH:mm:ss` in China time, as 58 writes every time.
pub fn china_time(text: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%d %H:%M:%S")
        .ok()?
        .and_local_timezone(china_offset())
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// A status (and technician) sync as 58's `updateOrderDetail` parameters.
pub fn order_update(sync: &StatusSync) -> OrderUpdate {
    OrderUpdate {
        order_id: sync.platform_order_id,
        third_order_id: sync.our_ref.clone(),
        order_status: sync.status_code,
        service_user_name: sync.technician_name.clone(),
        service_user_phone: sync.technician_phone.clone(),
    }
}

/// A technician as 58's `serviceUser` (active, without a picture).
pub fn service_user(t: &TechnicianProfile) -> ServiceUser {
    ServiceUser {
        user_id: t.external_id.clone(),
        user_name: t.name.clone(),
        user_phone: t.phone.clone(),
        user_age: t.age,
        user_sex: t.male.map(i32::from),
        user_pic: String::new(),
        user_remark: t.remark.clone(),
        user_status: 1,
    }
}
