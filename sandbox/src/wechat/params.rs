//! Reading request bodies the way WeChat does: typed JSON.
//!
//! WeChat's gateway decodes bodies into typed structures, so a value of the wrong JSON type (a
//! number sent as a string, a string where an object belongs) is refused as a whole with 47001
//! "data format error", while a well-typed but missing or out-of-range value is the business
//! layer's 930561 "parameter error". `null` counts as absent, a blank string as missing.

use serde_json::{Map, Value};

use super::{error::Reject, money};

/// The fields of one JSON object, with the path that leads to it for messages.
pub struct Fields {
    map: Map<String, Value>,
    path: String,
}

impl Fields {
    /// The top-level body: empty and `null` read as `{}` (SDKs send either for calls without
    /// parameters), anything else must be a JSON object.
    pub fn parse(body: &[u8]) -> Result<Self, Reject> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Fields::new(Map::new(), ""));
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => Ok(Fields::new(map, "")),
            Ok(Value::Null) => Ok(Fields::new(Map::new(), "")),
            _ => Err(Reject::format("request body is not a JSON object")),
        }
    }

    fn new(map: Map<String, Value>, path: &str) -> Self {
        Fields {
            map,
            path: path.to_owned(),
        }
    }

    /// `a.b` for messages.
    pub fn name(&self, field: &str) -> String {
        if self.path.is_empty() {
            field.to_owned()
        } else {
            format!("{}.{field}", self.path)
        }
    }

    fn get(&self, field: &str) -> Option<&Value> {
        self.map.get(field).filter(|v| !v.is_null())
    }

    fn wrong_type(&self, field: &str, expected: &str) -> Reject {
        Reject::format(format!("{} must be {expected}", self.name(field)))
    }

    /// A string as sent; other JSON types are 47001.
    pub fn str(&self, field: &str) -> Result<Option<&str>, Reject> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(self.wrong_type(field, "a string")),
        }
    }

    /// A string that must be there and not blank (930561 otherwise).
    pub fn required(&self, field: &str) -> Result<String, Reject> {
        self.str(field)?
            .filter(|s| !s.trim().is_empty())
            .map(str::to_owned)
            .ok_or_else(|| Reject::param(format!("{} is required", self.name(field))))
    }

    /// An optional string, blank read as absent.
    pub fn optional(&self, field: &str) -> Result<Option<String>, Reject> {
        Ok(self
            .str(field)?
            .filter(|s| !s.trim().is_empty())
            .map(str::to_owned))
    }

    /// A finite number.
    pub fn number(&self, field: &str) -> Result<Option<f64>, Reject> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_f64()
                .filter(|f| f.is_finite())
                .map(Some)
                .ok_or_else(|| self.wrong_type(field, "a number")),
            Some(_) => Err(self.wrong_type(field, "a number")),
        }
    }

    /// A non-negative integer; a fraction or a negative number is a type error, as it is for an
    /// unsigned field in WeChat's structures.
    pub fn uint(&self, field: &str) -> Result<Option<u64>, Reject> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_u64()
                .or_else(|| {
                    n.as_f64()
                        .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 9e15)
                        .map(|f| f as u64)
                })
                .map(Some)
                .ok_or_else(|| self.wrong_type(field, "a non-negative integer")),
            Some(_) => Err(self.wrong_type(field, "a non-negative integer")),
        }
    }

    /// A yuan amount, in fen.
    pub fn yuan(&self, field: &str) -> Result<Option<i64>, Reject> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::Number(n)) => money::fen_from_number(n)
                .map(Some)
                .ok_or_else(|| Reject::param(format!("{} is out of range", self.name(field)))),
            Some(_) => Err(self.wrong_type(field, "a number")),
        }
    }

    /// A 0/1 switch; absent is 0, other integers are 930561.
    pub fn flag(&self, field: &str) -> Result<bool, Reject> {
        match self.uint(field)? {
            None | Some(0) => Ok(false),
            Some(1) => Ok(true),
            Some(_) => Err(Reject::param(format!(
                "{} must be 0 or 1",
                self.name(field)
            ))),
        }
    }

    /// A nested object.
    pub fn object(&self, field: &str) -> Result<Option<Fields>, Reject> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(Fields::new(map.clone(), &self.name(field)))),
            Some(_) => Err(self.wrong_type(field, "an object")),
        }
    }

    /// A nested array of objects.
    pub fn objects(&self, field: &str) -> Result<Option<Vec<Fields>>, Reject> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::Object(map) => Ok(Fields::new(
                        map.clone(),
                        &format!("{}[{i}]", self.name(field)),
                    )),
                    _ => Err(self.wrong_type(field, "an array of objects")),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(self.wrong_type(field, "an array")),
        }
    }
}

/// Whether a raw JSON text escapes a non-ASCII character as `\uXXXX`. WeChat has been seen to
/// refuse such order bodies (930570); the notes tell clients to send Chinese unescaped.
pub fn escapes_non_ascii(raw: &[u8]) -> bool {
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'\\' {
            if raw.get(i + 1) == Some(&b'u') {
                let hex = raw
                    .get(i + 2..i + 6)
                    .and_then(|h| std::str::from_utf8(h).ok());
                if hex
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .is_some_and(|c| c >= 0x80)
                {
                    return true;
                }
            }
            // Skip the escaped character, so `\\u00e9` (a literal backslash) is not mistaken.
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}

/// A type error's code, for tests.
#[cfg(test)]
fn code_of(r: Result<impl Sized, Reject>) -> Option<i64> {
    r.err().map(|r| r.code())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wechat::error::code;

    fn fields(text: &str) -> Fields {
        Fields::parse(text.as_bytes()).unwrap_or_else(|_| panic!("not an object: {text}"))
    }

    #[test]
    fn strict_types() {
        let f = fields(r#"{"s":"x","n":12,"f":1.5,"b":" ","o":{"a":1},"neg":-1,"z":null}"#);
        assert_eq!(f.required("s").ok().as_deref(), Some("x"));
        assert_eq!(code_of(f.required("n")), Some(code::DATA_FORMAT));
        assert_eq!(code_of(f.required("b")), Some(code::PARAMETER));
        assert_eq!(code_of(f.required("z")), Some(code::PARAMETER));
        assert_eq!(f.uint("n").ok().flatten(), Some(12));
        assert_eq!(code_of(f.uint("f")), Some(code::DATA_FORMAT));
        assert_eq!(code_of(f.uint("neg")), Some(code::DATA_FORMAT));
        assert_eq!(code_of(f.number("s")), Some(code::DATA_FORMAT));
        assert_eq!(f.yuan("f").ok().flatten(), Some(150));
        assert!(f.object("o").ok().flatten().is_some());
        assert_eq!(code_of(f.object("s")), Some(code::DATA_FORMAT));
        assert_eq!(code_of(f.flag("n")), Some(code::PARAMETER));
    }

    #[test]
    fn bodies() {
        assert!(Fields::parse(b"").is_ok());
        assert!(Fields::parse(b"null").is_ok());
        assert_eq!(code_of(Fields::parse(b"[1]")), Some(code::DATA_FORMAT));
        assert_eq!(code_of(Fields::parse(b"{")), Some(code::DATA_FORMAT));
    }

    #[test]
    fn escaped_non_ascii() {
        assert!(escapes_non_ascii(br#"{"a":"\u4e0a\u6d77"}"#));
        assert!(!escapes_non_ascii("{\"a\":\"上海\"}".as_bytes()));
        assert!(!escapes_non_ascii(br#"{"a":"\u0041"}"#));
        assert!(!escapes_non_ascii(br#"{"a":"\\u4e0a"}"#));
        assert!(!escapes_non_ascii(br#"{"a":"\u4e"#));
    }
}
