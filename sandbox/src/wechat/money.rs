//! Money on WeChat's wire is yuan as a JSON number (`12`, `12.5`); inside the sandbox it is
//! always integer fen, so fees, tips and penalties add up exactly.
//!
//! The documents say amounts are "precise to two decimals, rounded half up beyond that", which is
//! what [`fen_from_number`] does.

use serde_json::Number;

pub use crate::kit::money::Yuan;

/// A yuan amount sent as a JSON number, in fen, rounded half away from zero past the fen. `None`
/// for amounts too large to be money.
pub fn fen_from_number(n: &Number) -> Option<i64> {
    crate::kit::money::fen_from_number_rounded(n)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fen(v: serde_json::Value) -> Option<i64> {
        v.as_number().and_then(fen_from_number)
    }

    #[test]
    fn serialises_as_yuan() {
        let text = |fen| serde_json::to_string(&Yuan(fen)).ok();
        assert_eq!(text(1200).as_deref(), Some("12"));
        assert_eq!(text(1250).as_deref(), Some("12.5"));
        assert_eq!(text(1234).as_deref(), Some("12.34"));
        assert_eq!(text(0).as_deref(), Some("0"));
    }

    #[test]
    fn parses_and_rounds() {
        assert_eq!(fen(json!(10)), Some(1000));
        assert_eq!(fen(json!(1.5)), Some(150));
        assert_eq!(fen(json!(0.1 + 0.2)), Some(30));
        assert_eq!(fen(json!(1.005)), Some(101));
        assert_eq!(fen(json!(1e3)), Some(100_000));
        assert_eq!(fen(json!(1e300)), None);
    }
}
