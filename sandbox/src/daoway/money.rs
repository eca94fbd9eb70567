//! Money and duration formatting for the wire.
//!
//! Everything is counted in integer fen (and minutes for notice periods); the platform's
//! document shows yuan as JSON numbers (`15.0`, `23.4`) and in the cancel notification as form
//! text, so conversion happens only here, at the edge, and only one way.

use rust_decimal::Decimal;

/// Yuan as a JSON number. Dividing two exactly representable integers rounds once, to the double
/// nearest the decimal value, so 2340 fen serializes as `23.4` and 1500 as `15.0`.
pub(crate) fn yuan_number(fen: i64) -> f64 {
    fen as f64 / 100.0
}

/// Yuan as text the way the platform (a Java service) prints a double: `23.4`, `15.0`, `0.05`.
pub(crate) fn yuan_text(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let abs = fen.unsigned_abs();
    let (whole, cents) = (abs / 100, abs % 100);
    if cents % 10 == 0 {
        format!("{sign}{whole}.{}", cents / 10)
    } else {
        format!("{sign}{whole}.{cents:02}")
    }
}

/// A notice period in hours as the error message shows it: `24`, `1.5`.
pub(crate) fn hours_text(minutes: u32) -> String {
    let hours = Decimal::from(minutes) / Decimal::from(60);
    hours.round_dp(2).normalize().to_string()
}

/// A notice period in hours as a JSON number (`aheadHours`: `24.0`).
pub(crate) fn hours_number(minutes: u32) -> f64 {
    f64::from(minutes) / 60.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_text_matches_java_double_printing() {
        assert_eq!(yuan_text(2340), "23.4");
        assert_eq!(yuan_text(1500), "15.0");
        assert_eq!(yuan_text(5), "0.05");
        assert_eq!(yuan_text(489_060), "4890.6");
        assert_eq!(yuan_text(12_345), "123.45");
        assert_eq!(yuan_text(0), "0.0");
    }

    #[test]
    fn yuan_numbers_serialize_like_the_document() {
        let json = serde_json::json!({"a": yuan_number(1500), "b": yuan_number(2340)});
        assert_eq!(json.to_string(), r#"{"a":15.0,"b":23.4}"#);
    }

    #[test]
    fn hours() {
        assert_eq!(hours_text(24 * 60), "24");
        assert_eq!(hours_text(90), "1.5");
        assert_eq!(hours_text(120), "2");
        assert_eq!(hours_number(90), 1.5);
    }
}
