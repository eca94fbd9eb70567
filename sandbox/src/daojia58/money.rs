//! Money on 58's wire is a decimal number of yuan (`totalPrice`, `goodsPrice`); inside the
//! sandbox it is always integer fen, so a total is the exact sum of its lines and never
//! 0.30000000000000004.

use serde_json::Value;

pub use crate::kit::money::Yuan;

/// A yuan amount from a JSON number or numeric string, in fen. `None` for anything that is not
/// a finite, non-negative amount with at most two decimals: 58's prices are in fen precision and
/// a third decimal is a caller bug worth refusing rather than rounding away.
pub fn fen_from_json(value: &Value) -> Option<i64> {
    crate::kit::money::fen_from_json_exact(value)
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
