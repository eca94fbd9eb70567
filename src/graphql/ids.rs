//! Global object ids (Relay): `base64("Type:rowid")`, opaque to clients.

use async_graphql::ID;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Shop,
    Order,
    Category,
    Price,
    Event,
    Quote,
    ApiKey,
    AuditEntry,
    Technician,
    OutboxEntry,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Self::Shop => "Shop",
            Self::Order => "Order",
            Self::Category => "Category",
            Self::Price => "Price",
            Self::Event => "StatusEvent",
            Self::Quote => "DeliveryQuote",
            Self::ApiKey => "ApiKey",
            Self::AuditEntry => "AuditEntry",
            Self::Technician => "Technician",
            Self::OutboxEntry => "OutboxEntry",
        }
    }
}

pub fn encode(kind: Kind, id: i64) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{}:{id}", kind.name())))
}

/// Any well-formed id, with its kind.
pub fn decode_any(id: &str) -> Option<(Kind, i64)> {
    let raw = URL_SAFE_NO_PAD.decode(id.trim_end_matches('=')).ok()?;
    let text = std::str::from_utf8(&raw).ok()?;
    let (name, n) = text.split_once(':')?;
    let kind = [
        Kind::Shop,
        Kind::Order,
        Kind::Category,
        Kind::Price,
        Kind::Event,
        Kind::Quote,
        Kind::ApiKey,
        Kind::AuditEntry,
        Kind::Technician,
        Kind::OutboxEntry,
    ]
    .into_iter()
    .find(|k| k.name() == name)?;
    Some((kind, n.parse().ok().filter(|n: &i64| *n > 0)?))
}

/// The row id, if `id` is a well-formed id of `kind`.
pub fn decode(kind: Kind, id: &str) -> Option<i64> {
    decode_any(id).filter(|(k, _)| *k == kind).map(|(_, n)| n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_reject() {
        let id = encode(Kind::Order, 42);
        assert_eq!(decode(Kind::Order, &id), Some(42));
        assert_eq!(decode(Kind::Shop, &id), None);
        assert_eq!(decode(Kind::Order, "garbage!"), None);
        assert_eq!(decode_any(&URL_SAFE_NO_PAD.encode("Order:-1")), None);
    }
}
