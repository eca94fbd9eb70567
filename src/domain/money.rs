//! Money as integer fen (1/100 yuan). Platforms send yuan as JSON numbers; they are parsed
//! through `Decimal` so no binary float ever takes part in arithmetic.

use std::{fmt, str::FromStr};

use rust_decimal::{Decimal, RoundingStrategy, prelude::ToPrimitive};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(i64);

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MoneyError {
    #[error("amount {0} has more than two decimal places")]
    TooPrecise(String),
    #[error("amount {0} is out of range")]
    OutOfRange(String),
    #[error("{0:?} is not an amount")]
    NotANumber(String),
}

impl Money {
    pub const ZERO: Money = Money(0);

    pub const fn from_fen(fen: i64) -> Self {
        Self(fen)
    }

    pub const fn fen(self) -> i64 {
        self.0
    }

    /// Exact yuan → fen: more than two decimals is an error, not a rounding.
    pub fn from_yuan_exact(yuan: Decimal) -> Result<Self, MoneyError> {
        let fen = yuan * Decimal::ONE_HUNDRED;
        if fen.fract() != Decimal::ZERO {
            return Err(MoneyError::TooPrecise(yuan.to_string()));
        }
        fen.to_i64()
            .map(Self)
            .ok_or_else(|| MoneyError::OutOfRange(yuan.to_string()))
    }

    /// Yuan from a platform's JSON number, which went through a binary float on the way:
    /// rounded half away from zero to the fen.
    pub fn from_platform_yuan(yuan: Decimal) -> Result<Self, MoneyError> {
        let fen = (yuan * Decimal::ONE_HUNDRED)
            .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
        fen.to_i64()
            .map(Self)
            .ok_or_else(|| MoneyError::OutOfRange(yuan.to_string()))
    }

    pub fn to_yuan(self) -> Decimal {
        Decimal::new(self.0, 2)
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    pub fn checked_mul(self, n: i64) -> Option<Money> {
        self.0.checked_mul(n).map(Money)
    }
}

impl fmt::Display for Money {
    /// Yuan with exactly two decimals, e.g. `23.40`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_yuan())
    }
}

impl FromStr for Money {
    type Err = MoneyError;

    /// Parses a yuan amount such as `23.4` or `99`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let d = Decimal::from_str(s.trim()).map_err(|_| MoneyError::NotANumber(s.to_owned()))?;
        Self::from_yuan_exact(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_yuan() {
        assert_eq!("23.4".parse::<Money>(), Ok(Money::from_fen(2340)));
        assert_eq!("99".parse::<Money>(), Ok(Money::from_fen(9900)));
        assert_eq!(Money::from_fen(2340).to_string(), "23.40");
        assert_eq!(Money::from_fen(-5).to_string(), "-0.05");
        assert!(matches!(
            "1.001".parse::<Money>(),
            Err(MoneyError::TooPrecise(_))
        ));
        assert!(matches!(
            "abc".parse::<Money>(),
            Err(MoneyError::NotANumber(_))
        ));
    }

    #[test]
    fn platform_floats_round_to_fen() {
        // 4890.6 arrives as the float 4890.6000000000004 in some encoders.
        let d = Decimal::from_str("4890.6000000000004").unwrap();
        assert_eq!(Money::from_platform_yuan(d), Ok(Money::from_fen(489_060)));
    }
}
