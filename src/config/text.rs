//! Digits are text: ids, keys, secrets and phone numbers are strings, however they are
//! written. Two places would otherwise turn them into numbers and refuse them:
//! - figment's `Env` provider parses every variable's value (`ORDERHUB_DADA__SOURCE_ID=73753`
//!   becomes the number 73753, and `0571…` would silently lose its zero). [`EnvText`] keeps a
//!   scalar as the text it was written as; the configuration is then extracted "lossy", so a
//!   numeric or boolean setting reads that text as a number or a boolean (arrays and tables
//!   written in a variable are still parsed as figment parses them);
//! - a TOML file may write `source_id = 73753`: the `deserialize_with` helpers here take an
//!   integer for a string setting, as its decimal text. A float is refused (its text would
//!   not be the one written).

use std::fmt;

use figment::{
    Metadata, Profile, Provider,
    providers::Env,
    value::{Dict, Map, Value},
};
use secrecy::SecretString;
use serde::{
    Deserialize, Deserializer,
    de::{self, Visitor},
};

/// The name the `ORDERHUB_*` variables' values carry in errors.
pub(super) const ENV_SOURCE: &str = "`ORDERHUB_` environment variable(s)";

/// The prefix of the variables.
pub(super) const ENV_PREFIX: &str = "ORDERHUB_";

/// The `ORDERHUB_*` environment variables (`__` separates sections; `ORDERHUB_TEST_*` belong
/// to the test suite and are skipped), each scalar value kept as its text.
pub(super) struct EnvText(Env);

impl EnvText {
    pub(super) fn new() -> Self {
        Self(
            Env::prefixed(ENV_PREFIX)
                .filter(|k| !k.as_str().to_ascii_lowercase().starts_with("test_"))
                .split("__"),
        )
    }

    /// The dotted keys the variables set (`server.port`).
    pub(super) fn keys(&self) -> Vec<String> {
        self.0.iter().map(|(k, _)| k.as_str().to_owned()).collect()
    }

    /// The variable that wrote `key` (its name and the dotted key it sets): the one that
    /// sets `key` or a key below it, else the one that sets the table or array `key` is in.
    pub(super) fn variable_of(&self, key: &str) -> Option<(String, String)> {
        let keys = self.keys();
        let below = keys
            .iter()
            .find(|k| *k == key || k.starts_with(&format!("{key}.")));
        let above = || {
            keys.iter()
                .filter(|k| key.starts_with(&format!("{k}.")))
                .max_by_key(|k| k.len())
        };
        below.or_else(above).map(|k| (variable_name(k), k.clone()))
    }
}

/// `server.port` → `ORDERHUB_SERVER__PORT`.
pub(super) fn variable_name(key: &str) -> String {
    format!(
        "{ENV_PREFIX}{}",
        key.split('.')
            .map(str::to_ascii_uppercase)
            .collect::<Vec<_>>()
            .join("__")
    )
}

/// A variable's value: a scalar figment would read as a number or a boolean stays the text;
/// anything else (strings, quoted strings, arrays, tables) is read as figment reads it.
fn env_value(raw: &str) -> Value {
    let parsed: Value = match raw.parse() {
        Ok(v) => v,
        Err(never) => match never {},
    };
    match parsed {
        Value::Num(..) | Value::Bool(..) => Value::from(raw.trim().to_owned()),
        other => other,
    }
}

impl Provider for EnvText {
    fn metadata(&self) -> Metadata {
        // Other errors name the key as the variable that set it.
        Metadata::named(ENV_SOURCE)
            .interpolater(|_: &Profile, keys: &[&str]| variable_name(&keys.join(".")))
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let mut dict = Dict::new();
        for (key, raw) in self.0.iter() {
            let nested = figment::util::nest(key.as_str(), env_value(&raw));
            if let Value::Dict(_, nested) = nested {
                merge(&mut dict, nested);
            }
        }
        Ok(Profile::Default.collect(dict))
    }
}

/// Merges `from` into `into`, tables recursively; a later scalar replaces an earlier one
/// (as figment's own `Env` does).
fn merge(into: &mut Dict, from: Dict) {
    for (k, v) in from {
        match (into.get_mut(&k), v) {
            (Some(Value::Dict(_, existing)), Value::Dict(_, more)) => merge(existing, more),
            (_, v) => {
                into.insert(k, v);
            }
        }
    }
}

/// A string setting written as a string or as an integer.
struct Text(String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct TextVisitor;

        impl Visitor<'_> for TextVisitor {
            type Value = Text;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string (an integer is taken as its digits)")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text(v.to_owned()))
            }

            fn visit_string<E: de::Error>(self, v: String) -> Result<Text, E> {
                Ok(Text(v))
            }

            fn visit_char<E: de::Error>(self, v: char) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }

            fn visit_u128<E: de::Error>(self, v: u128) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }

            fn visit_i128<E: de::Error>(self, v: i128) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
        }

        d.deserialize_any(TextVisitor)
    }
}

/// `#[serde(deserialize_with = "text::string")]` for a `String`.
pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Text::deserialize(d).map(|t| t.0)
}

/// For an `Option<String>`.
pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<Text>::deserialize(d)?.map(|t| t.0))
}

/// For an `Option<Vec<String>>`.
pub fn opt_strings<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    Ok(Option::<Vec<Text>>::deserialize(d)?.map(|v| v.into_iter().map(|t| t.0).collect()))
}

/// For a `SecretString`.
pub fn secret<'de, D: Deserializer<'de>>(d: D) -> Result<SecretString, D::Error> {
    string(d).map(SecretString::from)
}

/// For an `Option<SecretString>`.
pub fn opt_secret<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SecretString>, D::Error> {
    Ok(opt_string(d)?.map(SecretString::from))
}
