//! Money on 58's wire is a decimal number of yuan (`totalPrice`, `goodsPrice`); inside the
//! sandbox it is always integer fen, so a total is the exact sum of its lines and never
//! 0.30000000000000004.

use std::str::FromStr;

use rust_decimal::{Decimal, prelude::ToPrimitive};
use serde::{Serialize, Serializer};
use serde_json::Value;

/// An amount in fen that serialises as a yuan JSON number: whole yuan as an integer (`128`),
/// anything else with its fraction (`128.5`, `99.99`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Yuan(pub i64);

impl Serialize for Yuan {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0 % 100 == 0 {
            serializer.serialize_i64(self.0 / 100)
        } else {
            // Only the output goes through f64, no arithmetic: every amount below 2^53 fen is
            // exact in it, and the shortest decimal form of n/100 is the two-decimal string.
            serializer.serialize_f64(self.0 as f64 / 100.0)
        }
    }
}

/// A yuan amount from a JSON number or numeric string, in fen. `None` for anything that is not
/// a finite, non-negative amount with at most two decimals: 58's prices are in fen precision and
/// a third decimal is a caller bug worth refusing rather than rounding away.
pub fn fen_from_json(value: &Value) -> Option<i64> {
    let text = match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_owned(),
        _ => return None,
    };
    let yuan = Decimal::from_str(&text)
        .or_else(|_| Decimal::from_scientific(&text))
        .ok()?;
    if yuan.is_sign_negative() && !yuan.is_zero() {
        return None;
    }
    let fen = yuan.checked_mul(Decimal::ONE_HUNDRED)?;
    if !fen.fract().is_zero() {
        return None;
    }
    fen.to_i64().filter(|f| *f < (1 << 53))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn serialises_as_yuan_numbers() {
        let text = |fen| serde_json::to_string(&Yuan(fen)).ok();
        assert_eq!(text(12_800).as_deref(), Some("128"));
        assert_eq!(text(12_850).as_deref(), Some("128.5"));
        assert_eq!(text(9_999).as_deref(), Some("99.99"));
        assert_eq!(text(1).as_deref(), Some("0.01"));
        assert_eq!(text(0).as_deref(), Some("0"));
    }

    #[test]
    fn parses_two_decimals_at_most() {
        assert_eq!(fen_from_json(&json!(128)), Some(12_800));
        assert_eq!(fen_from_json(&json!(128.5)), Some(12_850));
        assert_eq!(fen_from_json(&json!("99.99")), Some(9_999));
        assert_eq!(fen_from_json(&json!(0.1 + 0.2)), None);
        assert_eq!(fen_from_json(&json!(1.005)), None);
        assert_eq!(fen_from_json(&json!(-1)), None);
        assert_eq!(fen_from_json(&json!("abc")), None);
        assert_eq!(fen_from_json(&json!(true)), None);
        assert_eq!(fen_from_json(&json!(1e300)), None);
    }
}
