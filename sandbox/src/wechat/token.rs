//! access_token: issuing, checking and forgetting.
//!
//! Two issuers, as WeChat has them. `GET /cgi-bin/token` hands out a new token on every call; the
//! tokens it handed out before stay usable for five more minutes (WeChat's documented overlap
//! while a central server refreshes) and are then refused with 40001. `POST
//! /cgi-bin/stable_token` keeps one token per app: it answers the same token, with the seconds
//! it has left, until that expires, unless `force_refresh` is true, which issues a new one and
//! ends the old one at once. The two issuers do not affect each other. A token past its
//! `expires_in` is refused with 42001; one the sandbox never issued with 40001.

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};

/// How long a `/cgi-bin/token` token stays valid after a newer one was issued.
pub const OVERLAP: TimeDelta = TimeDelta::minutes(5);
/// Records this long past their expiry are dropped.
const FORGET_AFTER: TimeDelta = TimeDelta::days(1);

/// Which issuer a token came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Plain,
    Stable,
}

#[derive(Clone, Debug)]
struct Record {
    kind: Kind,
    expires_at: DateTime<Utc>,
    /// Set when a newer token replaced this one: refused with 40001 from then on.
    replaced_until: Option<DateTime<Utc>>,
}

/// What a presented token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    Valid,
    /// Never issued, or replaced and past the overlap: 40001.
    Invalid,
    /// Past its lifetime: 42001.
    Expired,
}

/// Every token the sandbox issued, and how many.
#[derive(Debug, Default)]
pub struct Tokens {
    records: HashMap<String, Record>,
    issued: u64,
    stable: Option<String>,
}

fn lifetime(ttl_secs: u64) -> TimeDelta {
    i64::try_from(ttl_secs)
        .ok()
        .and_then(TimeDelta::try_seconds)
        .unwrap_or(TimeDelta::MAX)
}

impl Tokens {
    /// `/cgi-bin/token`: a new token; the earlier ones keep five minutes.
    pub fn issue(&mut self, now: DateTime<Utc>, ttl_secs: u64) -> (String, u64) {
        let until = now + OVERLAP;
        for record in self.records.values_mut().filter(|r| r.kind == Kind::Plain) {
            let end = record.replaced_until.map_or(until, |t| t.min(until));
            record.replaced_until = Some(end);
        }
        (self.create(Kind::Plain, now, ttl_secs), ttl_secs)
    }

    /// `/cgi-bin/stable_token`: the current stable token while it lives, unless forced.
    pub fn stable(&mut self, now: DateTime<Utc>, ttl_secs: u64, force: bool) -> (String, u64) {
        if !force
            && let Some(current) = self.stable.clone()
            && self.check(&current, now) == Check::Valid
            && let Some(record) = self.records.get(&current)
        {
            let left = (record.expires_at - now).num_seconds().max(0);
            return (current, u64::try_from(left).unwrap_or(0));
        }
        if let Some(record) = self.stable.as_ref().and_then(|t| self.records.get_mut(t)) {
            record.replaced_until = Some(now);
        }
        let token = self.create(Kind::Stable, now, ttl_secs);
        self.stable = Some(token.clone());
        (token, ttl_secs)
    }

    fn create(&mut self, kind: Kind, now: DateTime<Utc>, ttl_secs: u64) -> String {
        self.forget_old(now);
        self.issued += 1;
        let token = format!("{}_{}", 80 + self.issued % 20, random_text(120));
        self.records.insert(
            token.clone(),
            Record {
                kind,
                expires_at: now
                    .checked_add_signed(lifetime(ttl_secs))
                    .unwrap_or(DateTime::<Utc>::MAX_UTC),
                replaced_until: None,
            },
        );
        token
    }

    pub fn check(&self, token: &str, now: DateTime<Utc>) -> Check {
        let Some(record) = self.records.get(token) else {
            return Check::Invalid;
        };
        if record.replaced_until.is_some_and(|t| now >= t) {
            Check::Invalid
        } else if record.expires_at <= now {
            Check::Expired
        } else {
            Check::Valid
        }
    }

    /// Ends every token's life now (they answer 42001 from here on); returns how many were alive.
    pub fn expire_all(&mut self, now: DateTime<Utc>) -> usize {
        let mut alive = 0;
        for record in self.records.values_mut() {
            if record.expires_at > now {
                alive += 1;
                record.expires_at = now;
            }
        }
        alive
    }

    /// Tokens issued since start (a stable token answered again does not count).
    pub fn issued(&self) -> u64 {
        self.issued
    }

    /// Tokens that would be accepted now.
    pub fn active(&self, now: DateTime<Utc>) -> usize {
        self.records
            .keys()
            .filter(|t| self.check(t, now) == Check::Valid)
            .count()
    }

    fn forget_old(&mut self, now: DateTime<Utc>) {
        self.records.retain(|_, r| {
            r.expires_at
                .checked_add_signed(FORGET_AFTER)
                .is_none_or(|t| t > now)
        });
    }
}

fn random_text(len: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    (0..len)
        .map(|_| char::from(CHARS[rand::random_range(0..CHARS.len())]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_tokens_overlap_for_five_minutes() {
        let t0 = DateTime::<Utc>::UNIX_EPOCH;
        let mut tokens = Tokens::default();
        let (first, ttl) = tokens.issue(t0, 7200);
        assert_eq!(ttl, 7200);
        assert_eq!(tokens.check(&first, t0), Check::Valid);
        let (second, _) = tokens.issue(t0 + TimeDelta::seconds(10), 7200);
        assert_ne!(first, second);
        assert_eq!(
            tokens.check(&first, t0 + TimeDelta::seconds(300)),
            Check::Valid
        );
        assert_eq!(
            tokens.check(&first, t0 + TimeDelta::seconds(310)),
            Check::Invalid
        );
        assert_eq!(
            tokens.check(&second, t0 + TimeDelta::seconds(7209)),
            Check::Valid
        );
        assert_eq!(
            tokens.check(&second, t0 + TimeDelta::seconds(7210)),
            Check::Expired
        );
        assert_eq!(tokens.check("nope", t0), Check::Invalid);
        assert_eq!(tokens.issued(), 2);
    }

    #[test]
    fn stable_tokens_repeat_until_forced() {
        let t0 = DateTime::<Utc>::UNIX_EPOCH;
        let mut tokens = Tokens::default();
        let (a, _) = tokens.stable(t0, 7200, false);
        let (b, left) = tokens.stable(t0 + TimeDelta::seconds(100), 7200, false);
        assert_eq!(a, b);
        assert_eq!(left, 7100);
        assert_eq!(tokens.issued(), 1);
        let (c, left) = tokens.stable(t0 + TimeDelta::seconds(200), 7200, true);
        assert_ne!(a, c);
        assert_eq!(left, 7200);
        assert_eq!(
            tokens.check(&a, t0 + TimeDelta::seconds(200)),
            Check::Invalid
        );
        // A plain token does not touch the stable one.
        tokens.issue(t0 + TimeDelta::seconds(300), 7200);
        assert_eq!(tokens.check(&c, t0 + TimeDelta::seconds(900)), Check::Valid);
    }

    #[test]
    fn expire_all() {
        let t0 = DateTime::<Utc>::UNIX_EPOCH;
        let mut tokens = Tokens::default();
        let (a, _) = tokens.issue(t0, 7200);
        assert_eq!(tokens.expire_all(t0 + TimeDelta::seconds(1)), 1);
        assert_eq!(tokens.check(&a, t0 + TimeDelta::seconds(1)), Check::Expired);
        assert_eq!(tokens.active(t0 + TimeDelta::seconds(1)), 0);
        let (b, _) = tokens.stable(t0 + TimeDelta::seconds(2), 7200, false);
        assert_eq!(tokens.check(&b, t0 + TimeDelta::seconds(2)), Check::Valid);
    }
}
