//! Apollo's automatic persisted queries: a client sends `extensions.persistedQuery.sha256Hash`
//! alone; a hash this instance knows runs its query, an unknown one answers
//! `PersistedQueryNotFound` (code `PERSISTED_QUERY_NOT_FOUND`) and the client sends hash and
//! query together, which registers it. A query is registered only once it has passed the
//! document limits and validation (so the cache holds no hostile documents) and the hash is
//! checked against the query. The known queries are kept per instance, least recently used
//! first out: behind several instances a client is at worst asked for the query once more.
//!
//! (async-graphql's own extension hands its parsed document past the parse step, which would
//! skip our document limits; this one gives the query text back to the normal path.)

use std::{
    num::NonZeroUsize,
    sync::{Arc, Mutex},
};

use async_graphql::{Request, ServerResult};
use sha2::{Digest, Sha256};

use super::limits::refusal;

type Known = Arc<Mutex<lru::LruCache<String, Arc<str>>>>;

/// The known queries of this instance.
pub struct PersistedQueries {
    known: Known,
}

impl PersistedQueries {
    pub fn new(capacity: usize) -> Self {
        let cap = NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN);
        Self {
            known: Arc::new(Mutex::new(lru::LruCache::new(cap))),
        }
    }
}

/// A query to register once it has validated: its hash and its text.
pub struct Pending(String, Arc<str>);

/// The hash a request names, if it uses the extension.
fn hash_of(request: &mut Request) -> ServerResult<Option<String>> {
    let Some(value) = request.extensions.remove("persistedQuery") else {
        return Ok(None);
    };
    let json = value.into_json().unwrap_or_default();
    if json.get("version").and_then(|v| v.as_i64()) != Some(1) {
        return Err(refusal(
            "PERSISTED_QUERY_NOT_SUPPORTED",
            "only version 1 of persistedQuery is supported".into(),
        ));
    }
    match json.get("sha256Hash").and_then(|v| v.as_str()) {
        Some(h) if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Ok(Some(h.to_ascii_lowercase()))
        }
        _ => Err(refusal(
            "BAD_REQUEST",
            "persistedQuery.sha256Hash must be 64 hex digits".into(),
        )),
    }
}

impl PersistedQueries {
    /// Puts the query a request names by hash in its place, or refuses an unknown hash
    /// (`PERSISTED_QUERY_NOT_FOUND`: the client sends the query too). A request that sends
    /// hash and query gets back what to [`register`](Self::register) once it has validated.
    pub fn resolve(&self, request: &mut Request) -> ServerResult<Option<Pending>> {
        let Some(hash) = hash_of(request)? else {
            return Ok(None);
        };
        if request.query.trim().is_empty() {
            let known = self
                .known
                .lock()
                .ok()
                .and_then(|mut k| k.get(&hash).cloned());
            match known {
                Some(query) => {
                    request.query = query.to_string();
                    Ok(None)
                }
                None => {
                    metrics::counter!("orderhub_persisted_queries_total", "outcome" => "not_found")
                        .increment(1);
                    Err(refusal(
                        "PERSISTED_QUERY_NOT_FOUND",
                        "PersistedQueryNotFound".into(),
                    ))
                }
            }
        } else {
            let actual = hex::encode(Sha256::digest(request.query.as_bytes()));
            if actual != hash {
                return Err(refusal(
                    "BAD_REQUEST",
                    "persistedQuery.sha256Hash is not the SHA-256 of the query".into(),
                ));
            }
            Ok(Some(Pending(hash, Arc::from(request.query.as_str()))))
        }
    }

    /// Makes a validated query known by its hash.
    pub fn register(&self, Pending(hash, query): Pending) {
        if let Ok(mut known) = self.known.lock() {
            known.put(hash, query);
        }
    }
}
