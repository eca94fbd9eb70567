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

use async_graphql::{
    Request, ServerError, ServerResult, ValidationResult,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest, NextValidation,
    },
};
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

impl ExtensionFactory for PersistedQueries {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Persist {
            known: self.known.clone(),
            pending: Mutex::new(None),
        })
    }
}

/// One request: a query to register once it has validated.
struct Persist {
    known: Known,
    pending: Mutex<Option<(String, Arc<str>)>>,
}

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

#[async_trait::async_trait]
impl Extension for Persist {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        if let Some(hash) = hash_of(&mut request)? {
            if request.query.trim().is_empty() {
                let known = self
                    .known
                    .lock()
                    .ok()
                    .and_then(|mut k| k.get(&hash).cloned());
                match known {
                    Some(query) => request.query = query.to_string(),
                    None => {
                        metrics::counter!("orderhub_persisted_queries_total", "outcome" => "not_found").increment(1);
                        return Err(refusal(
                            "PERSISTED_QUERY_NOT_FOUND",
                            "PersistedQueryNotFound".into(),
                        ));
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
                if let Ok(mut pending) = self.pending.lock() {
                    *pending = Some((hash, Arc::from(request.query.as_str())));
                }
            }
        }
        next.run(ctx, request).await
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        let pending = self.pending.lock().ok().and_then(|mut p| p.take());
        if let Some((hash, query)) = pending
            && let Ok(mut known) = self.known.lock()
        {
            known.put(hash, query);
        }
        Ok(result)
    }
}
