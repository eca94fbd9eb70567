//! Money inside every sandbox is integer fen; the platforms' wires carry yuan as JSON numbers
//! (or numeric strings). These are the conversions, so sums and refunds stay exact and the
//! only floating point is on the way out.

use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy, prelude::ToPrimitive};
use serde::{Serialize, Serializer};
use serde_json::{Number, Value};

/// Largest amount (exclusive, in fen) that f64 carries exactly back out: beyond it nothing is
/// money anyone sends.
const MAX_FEN: u64 = 1 << 53;

/// An amount in fen that serialises as a yuan JSON number: whole yuan as an integer (`12`, like
/// the documents' examples), anything else with its fraction (`12.5`, `12.34`).
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

/// The yuan amount of a JSON number or numeric string, as sent (PHP and Java SDKs send both).
fn yuan_of(value: &Value) -> Option<Decimal> {
    let text = match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_owned(),
        _ => return None,
    };
    Decimal::from_str(&text)
        .or_else(|_| Decimal::from_scientific(&text))
        .ok()
}

/// Yuan to fen, sub-fen digits rounded half away from zero. `None` when out of range.
fn fen_rounded(yuan: Decimal) -> Option<i64> {
    yuan.checked_mul(Decimal::ONE_HUNDRED)?
        .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)
        .to_i64()
        .filter(|f| f.unsigned_abs() < MAX_FEN)
}

/// A yuan amount from a JSON number or numeric string, in fen, rounded half away from zero past
/// the fen. `None` for anything that is not a finite amount within range.
pub fn fen_from_json_rounded(value: &Value) -> Option<i64> {
    fen_rounded(yuan_of(value)?)
}

/// A yuan amount from a JSON number (strings refused), in fen, rounded half away from zero.
pub fn fen_from_number_rounded(n: &Number) -> Option<i64> {
    fen_rounded(yuan_of(&Value::Number(n.clone()))?)
}

/// A yuan amount from a JSON number or numeric string, in fen, only when it is non-negative and
/// has at most two decimals: a third decimal is refused rather than rounded away.
pub fn fen_from_json_exact(value: &Value) -> Option<i64> {
    let yuan = yuan_of(value)?;
    if yuan.is_sign_negative() && !yuan.is_zero() {
        return None;
    }
    let fen = yuan.checked_mul(Decimal::ONE_HUNDRED)?;
    if !fen.fract().is_zero() {
        return None;
    }
    fen.to_i64().filter(|f| f.unsigned_abs() < MAX_FEN)
}
