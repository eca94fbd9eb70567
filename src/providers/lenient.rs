//! Reading platform JSON leniently and writing amounts exactly: the platforms send ids,
//! timestamps and amounts as numbers or as strings, `""` or `null` for absent, and yuan as
//! JSON numbers. Money goes through the number's text into a `Decimal`, never through `f64`.
//! Shared by the adapters' `wire.rs` files (`#[serde(deserialize_with = "…")]`).

use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error as _, ser::Error as _};
use serde_json::Value;

/// A decimal written as a JSON number (`10.5`, `12`), for yuan amounts and kilograms.
///
/// It is serialised from the decimal's own text, normalised so that `12.00` goes out as `12`,
/// the way Dada's examples write whole amounts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JsonDecimal(pub Decimal);

impl Serialize for JsonDecimal {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let text = self.0.normalize().to_string();
        serde_json::Number::from_str(&text)
            .map_err(|e| S::Error::custom(format!("{text} as a JSON number: {e}")))?
            .serialize(serializer)
    }
}

/// A decimal from a number's textual form. `serde_json` prints a number read from the wire as
/// its shortest round-tripping text (`10.5`, or `1e-7` for tiny values), hence the scientific
/// fallback.
pub fn decimal_from_text(text: &str) -> Option<Decimal> {
    let text = text.trim();
    Decimal::from_str(text)
        .or_else(|_| Decimal::from_scientific(text))
        .ok()
}

/// `null`, absent and blank strings count as absent everywhere.
pub fn present(v: Value) -> Option<Value> {
    match v {
        Value::Null => None,
        Value::String(s) if s.trim().is_empty() => None,
        v => Some(v),
    }
}

pub fn opt_yuan<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    let Some(v) = present(Value::deserialize(d)?) else {
        return Ok(None);
    };
    let text = match &v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        other => return Err(D::Error::custom(format!("{other} is not an amount"))),
    };
    decimal_from_text(&text)
        .map(Some)
        .ok_or_else(|| D::Error::custom(format!("{text:?} is not an amount")))
}

/// Text from a string or a number (ids arrive as either).
pub fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// An integer from a number without fraction or a string of digits.
pub fn value_int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                // Checked above: integral and well inside i64.
                .map(|f| f as i64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match present(Value::deserialize(d)?) {
        None => Ok(None),
        Some(v) => value_text(&v)
            .map(Some)
            .ok_or_else(|| D::Error::custom(format!("{v} is not text"))),
    }
}

pub fn text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    opt_text(d)?.ok_or_else(|| D::Error::custom("missing text"))
}

pub fn opt_int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match present(Value::deserialize(d)?) {
        None => Ok(None),
        Some(v) => value_int(&v)
            .map(Some)
            .ok_or_else(|| D::Error::custom(format!("{v} is not an integer"))),
    }
}

pub fn int<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    opt_int(d)?.ok_or_else(|| D::Error::custom("missing integer"))
}

pub fn opt_float<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let value = match present(Value::deserialize(d)?) {
        None => return Ok(None),
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
        Some(_) => None,
    };
    value
        .filter(|f| f.is_finite())
        .map(Some)
        .ok_or_else(|| D::Error::custom("not a finite number"))
}
