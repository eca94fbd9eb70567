//! Reading the business `body`: a JSON string inside the envelope, parsed by hand so that every
//! problem becomes the Dada code the document gives for it (an empty `receiver_name` is 2120, not
//! a generic decoding error).
//!
//! Dada's SDKs are loose with types — the PHP demo sends phone numbers as numbers and amounts as
//! strings — so text accepts numbers and numbers accept numeric strings. `null` and blank
//! strings count as absent.

use serde_json::{Map, Value};

use super::{
    error::{Reject, code},
    money,
};

/// The fields of one JSON object.
pub struct Fields(Map<String, Value>);

impl Fields {
    /// `""` (endpoints without parameters) is an empty object; anything else must be a JSON
    /// object.
    pub fn parse(body: &str) -> Result<Self, Reject> {
        if body.trim().is_empty() {
            return Ok(Fields(Map::new()));
        }
        match serde_json::from_str::<Value>(body) {
            Ok(Value::Object(map)) => Ok(Fields(map)),
            Ok(_) => Err(Reject::with(code::BAD_FORMAT, "body必须是JSON对象")),
            Err(_) => Err(Reject::of(code::BODY_NOT_JSON)),
        }
    }

    pub fn from_map(map: Map<String, Value>) -> Self {
        Fields(map)
    }

    /// The raw value, `None` for absent or `null`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    /// Whether the key is present with a non-blank value.
    pub fn has(&self, name: &str) -> bool {
        match self.get(name) {
            None => false,
            Some(Value::String(s)) => !s.trim().is_empty(),
            Some(_) => true,
        }
    }

    /// Text, from a string or a number; blank is `None`; other types are 1994.
    pub fn text(&self, name: &str) -> Result<Option<String>, Reject> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(Reject::format(name)),
        }
    }

    /// Text that must be there, refused with `empty` otherwise.
    pub fn required(&self, name: &str, empty: Reject) -> Result<String, Reject> {
        self.text(name)?.ok_or(empty)
    }

    /// A yuan amount in fen.
    pub fn yuan(&self, name: &str) -> Result<Option<i64>, Reject> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(v) => money::fen_from_json(v)
                .map(Some)
                .ok_or_else(|| Reject::format(name)),
        }
    }

    /// An integer, from a number without fraction or a string of digits.
    pub fn int(&self, name: &str) -> Result<Option<i64>, Reject> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .or_else(|| {
                    n.as_f64()
                        .filter(|f| f.fract() == 0.0 && f.abs() < 9e15)
                        .map(|f| f as i64)
                })
                .map(Some)
                .ok_or_else(|| Reject::format(name)),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| Reject::format(name)),
            Some(_) => Err(Reject::format(name)),
        }
    }

    /// A finite number.
    pub fn float(&self, name: &str) -> Result<Option<f64>, Reject> {
        let value = match self.get(name) {
            None => return Ok(None),
            Some(Value::Number(n)) => n.as_f64(),
            Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
            Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
            Some(_) => None,
        };
        value
            .filter(|f| f.is_finite())
            .map(Some)
            .ok_or_else(|| Reject::format(name))
    }

    /// A 0/1 switch; absent is 0.
    pub fn flag(&self, name: &str) -> Result<bool, Reject> {
        match self.int(name)? {
            None | Some(0) => Ok(false),
            Some(1) => Ok(true),
            Some(_) => Err(Reject::format(name)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loose_types() {
        let f = Fields::parse(
            r#"{"a":"x","b":13800138000,"c":"12.5","d":" ","e":null,"f":true,"g":"7"}"#,
        );
        let Ok(f) = f else { panic!("parse") };
        assert_eq!(f.text("a").ok().flatten().as_deref(), Some("x"));
        assert_eq!(f.text("b").ok().flatten().as_deref(), Some("13800138000"));
        assert_eq!(f.yuan("c").ok().flatten(), Some(1250));
        assert_eq!(f.text("d").ok().flatten(), None);
        assert_eq!(f.text("e").ok().flatten(), None);
        assert_eq!(f.text("f").err().map(|r| r.code), Some(code::BAD_FORMAT));
        assert_eq!(f.int("g").ok().flatten(), Some(7));
        assert!(!f.has("d"));
    }

    #[test]
    fn body_shapes() {
        assert!(Fields::parse("").is_ok());
        assert_eq!(
            Fields::parse("{").err().map(|r| r.code),
            Some(code::BODY_NOT_JSON)
        );
        assert_eq!(
            Fields::parse("[1]").err().map(|r| r.code),
            Some(code::BAD_FORMAT)
        );
    }
}
