//! The caller a request runs as, and the scopes a key can hold.

use std::{fmt, str::FromStr};

/// What a key may do. `Admin` holds every other scope too.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// Providers, categories, shops and prices.
    CatalogRead,
    /// Orders, their timelines and the order stream (customer names, phones, addresses).
    OrdersRead,
    /// Placing and cancelling orders.
    OrdersWrite,
    /// Courier dispatch: quotes, dispatch, tips, courier actions, the networks' accounts.
    Dispatch,
    /// Working orders pushed to us (58 Daojia): accept, pay, start, complete, technicians.
    Inbound,
    /// Keys, the audit log, bound accounts, merchant and store registration, outbox retry.
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 6] = [
        Scope::CatalogRead,
        Scope::OrdersRead,
        Scope::OrdersWrite,
        Scope::Dispatch,
        Scope::Inbound,
        Scope::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::CatalogRead => "catalog:read",
            Scope::OrdersRead => "orders:read",
            Scope::OrdersWrite => "orders:write",
            Scope::Dispatch => "delivery:dispatch",
            Scope::Inbound => "inbound:work",
            Scope::Admin => "admin",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s.trim())
            .ok_or_else(|| {
                let known: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
                format!("unknown scope `{s}` (one of: {})", known.join(", "))
            })
    }
}

/// Who a request runs as: a key, or the anonymous development caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The key's id; None for the anonymous development caller.
    pub key_id: Option<i64>,
    /// The key's name, or `anonymous`.
    pub name: String,
    pub scopes: Vec<Scope>,
    /// The shops the key is restricted to; None = every shop.
    pub shops: Option<Vec<i64>>,
}

impl Caller {
    /// The caller of a keyless request where that is allowed: every scope, every shop.
    pub fn anonymous() -> Self {
        Self {
            key_id: None,
            name: "anonymous".into(),
            scopes: Scope::ALL.to_vec(),
            shops: None,
        }
    }

    /// Whether the caller holds `scope` (admin holds them all).
    pub fn allows(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope) || self.scopes.contains(&Scope::Admin)
    }

    /// Whether the caller may see or act on a shop's orders. An order without a shop (one a
    /// platform pushed before its store was known) is for unrestricted callers only.
    pub fn sees_shop(&self, shop_id: Option<i64>) -> bool {
        match (&self.shops, shop_id) {
            (None, _) => true,
            (Some(allowed), Some(id)) => allowed.contains(&id),
            (Some(_), None) => false,
        }
    }

    /// The namespace of the caller's idempotency keys: one caller can never see, reuse or
    /// collide with another's.
    pub fn idempotency_namespace(&self) -> String {
        match self.key_id {
            Some(id) => format!("k{id}"),
            None => "anonymous".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_and_admin_holds_all() {
        for s in Scope::ALL {
            assert_eq!(s.as_str().parse::<Scope>(), Ok(s));
        }
        assert!("orders".parse::<Scope>().is_err());
        let admin = Caller {
            key_id: Some(1),
            name: "ops".into(),
            scopes: vec![Scope::Admin],
            shops: None,
        };
        assert!(Scope::ALL.iter().all(|s| admin.allows(*s)));
        let reader = Caller {
            scopes: vec![Scope::OrdersRead],
            shops: Some(vec![3]),
            ..admin
        };
        assert!(reader.allows(Scope::OrdersRead));
        assert!(!reader.allows(Scope::OrdersWrite));
        assert!(reader.sees_shop(Some(3)));
        assert!(!reader.sees_shop(Some(4)));
        assert!(!reader.sees_shop(None));
        assert_eq!(reader.idempotency_namespace(), "k1");
        assert!(Caller::anonymous().sees_shop(None));
    }
}
