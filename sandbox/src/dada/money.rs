//! Money on Dada's wire is yuan as a JSON number (`12`, `12.5`, `9974854.9`); inside the sandbox
//! it is always integer fen, so sums and refunds are exact and a penalty of 2 yuan is 200, not
//! 1.9999999.

use serde_json::Value;

pub use crate::kit::money::Yuan;

/// Parses a yuan amount sent as a JSON number or a numeric string (PHP SDKs send both) into fen.
/// Sub-fen digits are rounded half away from zero; the platform does not say what it does with
/// them, and rounding is kinder to clients that compute `x * 1.1` in floating point. `None` for
/// anything that is not a finite amount within range.
pub fn fen_from_json(value: &Value) -> Option<i64> {
    crate::kit::money::fen_from_json_rounded(value)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn serialises_like_the_document() {
        assert_eq!(
            serde_json::to_string(&Yuan(1200)).ok().as_deref(),
            Some("12")
        );
        assert_eq!(
            serde_json::to_string(&Yuan(1250)).ok().as_deref(),
            Some("12.5")
        );
        assert_eq!(
            serde_json::to_string(&Yuan(1234)).ok().as_deref(),
            Some("12.34")
        );
        assert_eq!(
            serde_json::to_string(&Yuan(997_485_490)).ok().as_deref(),
            Some("9974854.9")
        );
        assert_eq!(serde_json::to_string(&Yuan(0)).ok().as_deref(), Some("0"));
    }

    #[test]
    fn parses_numbers_and_strings() {
        assert_eq!(fen_from_json(&json!(10)), Some(1000));
        assert_eq!(fen_from_json(&json!(10.0)), Some(1000));
        assert_eq!(fen_from_json(&json!(1.5)), Some(150));
        assert_eq!(fen_from_json(&json!("12.34")), Some(1234));
        assert_eq!(fen_from_json(&json!(0.1 + 0.2)), Some(30));
        assert_eq!(fen_from_json(&json!(1.005)), Some(101));
        assert_eq!(fen_from_json(&json!(-2)), Some(-200));
        assert_eq!(fen_from_json(&json!(1e3)), Some(100_000));
        assert_eq!(fen_from_json(&json!("abc")), None);
        assert_eq!(fen_from_json(&json!(true)), None);
        assert_eq!(fen_from_json(&json!(1e300)), None);
    }
}
