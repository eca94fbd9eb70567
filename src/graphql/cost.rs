//! A per-caller budget by calculated cost, like Shopify's Admin API: each caller (API key, or
//! the anonymous development caller) has a bucket of `cost_bucket` points that refills at
//! `cost_restore_per_sec`; a request costs its query's complexity (a page costs `first` times
//! one item), taken at validation, before anything runs. A request the bucket cannot pay for
//! is refused with `THROTTLED` and a retry hint, and changes nothing. Every answer carries
//! `extensions.cost`: the requested cost, the actual cost (the fields the answer holds), and
//! the bucket's state. The bucket lives in this instance (GCRA, the `governor` crate).

use std::{num::NonZeroU32, sync::Arc};

use async_graphql::{Response, ServerError, ValidationResult, Value};
use governor::{
    Quota, RateLimiter, clock::Clock, clock::DefaultClock, middleware::StateInformationMiddleware,
    state::keyed::DefaultKeyedStateStore,
};

use crate::access::Caller;

type Limiter =
    RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>;

/// The budget, shared by every request of this instance.
#[derive(Clone)]
pub struct CostLimit {
    limiter: Arc<Limiter>,
    bucket: u32,
    restore: u32,
    /// The largest depth and complexity one document may have (checked here rather than by
    /// async-graphql, so the refusal carries `limit` and `actual`).
    pub max_depth: usize,
    pub max_complexity: usize,
}

impl CostLimit {
    pub fn new(bucket: u32, restore_per_sec: u32) -> Self {
        let bucket = bucket.max(1);
        let restore = restore_per_sec.max(1);
        let quota = Quota::per_second(NonZeroU32::new(restore).unwrap_or(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::new(bucket).unwrap_or(NonZeroU32::MIN));
        Self {
            limiter: Arc::new(
                RateLimiter::keyed(quota).with_middleware::<StateInformationMiddleware>(),
            ),
            bucket,
            restore,
            max_depth: usize::MAX,
            max_complexity: usize::MAX,
        }
    }

    pub fn with_shape(mut self, max_depth: usize, max_complexity: usize) -> Self {
        self.max_depth = max_depth;
        self.max_complexity = max_complexity;
        self
    }
}

/// What a request paid: its cost, and what the bucket held after.
#[derive(Clone, Copy, Debug)]
pub struct Paid {
    requested: u32,
    available: u32,
}

/// Who a request's bucket belongs to.
pub fn who(caller: Option<&Caller>) -> String {
    match caller.and_then(|c| c.key_id) {
        Some(id) => format!("k{id}"),
        None => "anonymous".into(),
    }
}

impl CostLimit {
    fn status(&self, available: u32) -> serde_json::Value {
        serde_json::json!({
            "maximumAvailable": self.bucket,
            "currentlyAvailable": available,
            "restoreRate": self.restore,
        })
    }

    fn throttled(
        &self,
        requested: u32,
        retry_after_ms: Option<u128>,
        message: String,
    ) -> ServerError {
        let mut e = ServerError::new(message, None);
        let mut ext = async_graphql::ErrorExtensionValues::default();
        ext.set("code", "THROTTLED");
        if let Some(ms) = retry_after_ms {
            ext.set("retryAfterMs", u64::try_from(ms).unwrap_or(u64::MAX));
        }
        if let Ok(cost) = Value::from_json(serde_json::json!({
            "requestedQueryCost": requested,
            "throttleStatus": self.status(0),
        })) {
            ext.set("cost", cost);
        }
        e.extensions = Some(ext);
        e
    }

    /// Checks a validated document's depth and complexity, and takes its cost from the
    /// caller's bucket.
    pub fn charge(&self, who: &str, result: &ValidationResult) -> Result<Paid, ServerError> {
        if result.depth > self.max_depth {
            return Err(super::limits::over_limit(
                "QUERY_TOO_DEEP",
                format!(
                    "the query is {} levels deep (at most {})",
                    result.depth, self.max_depth
                ),
                self.max_depth,
                result.depth,
            ));
        }
        if result.complexity > self.max_complexity {
            return Err(super::limits::over_limit(
                "QUERY_TOO_COMPLEX",
                format!(
                    "the query costs {} (at most {}): ask for fewer items per page or fewer fields",
                    result.complexity, self.max_complexity
                ),
                self.max_complexity,
                result.complexity,
            ));
        }
        let requested = u32::try_from(result.complexity.max(1)).unwrap_or(u32::MAX);
        let n = NonZeroU32::new(requested).unwrap_or(NonZeroU32::MIN);
        match self.limiter.check_key_n(&who.to_owned(), n) {
            Ok(Ok(snapshot)) => Ok(Paid {
                requested,
                available: snapshot.remaining_burst_capacity(),
            }),
            Ok(Err(not_until)) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Err(self.throttled(
                    requested,
                    Some(wait.as_millis().max(1)),
                    format!(
                        "throttled: this request costs {requested} and the bucket refills at {} a second",
                        self.restore
                    ),
                ))
            }
            Err(_) => Err(self.throttled(
                requested,
                None,
                format!(
                    "this request costs {requested}, more than the bucket holds ({}): ask for fewer items",
                    self.bucket
                ),
            )),
        }
    }

    /// Adds `extensions.cost` to an answer: what was asked, what the answer holds, the bucket.
    pub fn report(&self, paid: Paid, response: &mut Response) {
        if let Ok(cost) = Value::from_json(serde_json::json!({
            "requestedQueryCost": paid.requested,
            "actualQueryCost": fields(&response.data),
            "throttleStatus": self.status(paid.available),
        })) {
            response.extensions.insert("cost".into(), cost);
        }
    }
}

/// The fields an answer holds: its actual cost.
fn fields(v: &Value) -> u64 {
    match v {
        Value::Object(map) => map.values().map(|v| 1 + fields(v)).sum(),
        Value::List(items) => items.iter().map(fields).sum(),
        _ => 0,
    }
}
