//! Values a client hands us that must be parsed once, at the edge, instead of being
//! re-checked as strings wherever they are used: telephone numbers and idempotency keys.

use std::fmt;

/// Why a value did not parse; the text is meant for the client.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidValue(pub &'static str);

/// A telephone number as the platforms take it: 5 to 20 digits, an optional leading `+`,
/// spaces and dashes allowed between digits (kept as given, trimmed; the platforms accept
/// them), 40 characters at most.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub const MAX_LEN: usize = 40;

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let raw = raw.trim();
        let digits: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let ok = raw.len() <= Self::MAX_LEN
            && (5..=20).contains(&digits.len())
            && digits
                .trim_start_matches('+')
                .chars()
                .all(|c| c.is_ascii_digit());
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidValue("phone must be a telephone number"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A client's idempotency key: 1 to 200 bytes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub const MAX_LEN: usize = 200;

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        if raw.is_empty() || raw.len() > Self::MAX_LEN {
            Err(InvalidValue("idempotencyKey must be 1 to 200 characters"))
        } else {
            Ok(Self(raw.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key within a caller's namespace: two callers' keys never meet, so neither can
    /// read, reuse or block the other's.
    pub fn scoped(self, namespace: &str) -> Self {
        Self(format!("{namespace}/{}", self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers() {
        for ok in ["13800138000", "+86 138-0013-8000", "021-12345678", "12345"] {
            assert!(PhoneNumber::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            PhoneNumber::parse(" 13800138000 ").map(|p| p.to_string()),
            Ok("13800138000".to_owned())
        );
        for bad in [
            "",
            "1234",
            "abc12345",
            "+",
            "138001380001380013800",
            "1380013800a",
            "1 - - - - - - - - - - - - - - - - - - - 2345",
        ] {
            assert!(PhoneNumber::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn idempotency_keys() {
        assert!(IdempotencyKey::parse("k").is_ok());
        assert!(IdempotencyKey::parse(&"k".repeat(200)).is_ok());
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(201)).is_err());
        let a = IdempotencyKey::parse("k").map(|k| k.scoped("k1"));
        let b = IdempotencyKey::parse("k").map(|k| k.scoped("k2"));
        assert_ne!(a, b);
    }
}
