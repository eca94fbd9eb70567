//! Who may call what: API keys (made, listed and revoked here; only a hash of each secret
//! is stored), the scopes a key holds and the shops it is restricted to, the caller a
//! request runs as, and the audit log of every mutation. The HTTP layer authenticates each
//! request through [`AccessService::authenticate`]; GraphQL checks the [`Caller`] on every
//! field that reads or changes anything.

mod audit;
mod caller;
mod keys;

pub use audit::{AuditEntry, Outcome};
pub use caller::{Caller, Scope};
pub use keys::{AuthError, IssuedKey, KeyRow, NewKey, scopes_of, shops_of};

use sea_orm::DatabaseConnection;

/// The access service: keys, authentication and the audit log.
#[derive(Clone)]
pub struct AccessService {
    db: DatabaseConnection,
    /// Where a request's key is looked up (the API's read connection; `db` by default).
    reader: DatabaseConnection,
    /// This deployment talks to at least one real platform: its keys are `oh_live_…`, and
    /// sandbox keys are refused.
    live: bool,
    /// Requests without a key run as the anonymous development caller (every scope). Only
    /// for an all-sandbox server bound to loopback; see [`anonymous_allowed`].
    anonymous: bool,
}

impl AccessService {
    pub fn new(db: DatabaseConnection, live: bool, anonymous: bool) -> Self {
        Self {
            reader: db.clone(),
            db,
            live,
            anonymous,
        }
    }

    /// Looks keys up through `reader` (every request does) instead of the writer.
    pub fn with_reader(mut self, reader: DatabaseConnection) -> Self {
        self.reader = reader;
        self
    }

    /// Whether requests without a key are let in (as the anonymous development caller).
    pub fn anonymous_allowed(&self) -> bool {
        self.anonymous
    }

    /// Whether this deployment's keys are live ones.
    pub fn live(&self) -> bool {
        self.live
    }
}

/// The rule for keyless access: only while every enabled provider is a sandbox and the server
/// listens on loopback alone, unless configuration turns it off (`auth.anonymous = "never"`).
pub fn anonymous_allowed(config: &Config) -> bool {
    match config.auth.anonymous {
        AnonymousAccess::Never => false,
        AnonymousAccess::Auto => !config.live() && config.server.host.is_loopback(),
    }
}

use crate::config::{AnonymousAccess, Config};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anonymous_only_for_a_loopback_sandbox() {
        let mut c = Config::default();
        assert!(anonymous_allowed(&c));
        c.dada.base_url = Some("https://newopen.imdada.cn".into());
        assert!(!anonymous_allowed(&c), "a real platform");
        c.dada.base_url = None;
        c.server.host = std::net::IpAddr::from([0, 0, 0, 0]);
        assert!(!anonymous_allowed(&c), "not loopback");
        c.server.host = std::net::IpAddr::from([127, 0, 0, 1]);
        c.auth.anonymous = AnonymousAccess::Never;
        assert!(!anonymous_allowed(&c));
    }
}
