//! Start-up bits every simulator repeats: the state lock that survives a panic, and the HTTP
//! client its background task delivers with.

use std::sync::{Mutex, MutexGuard};

/// The state behind `mutex`, even after a panic elsewhere: a poisoned lock must not turn every
/// later request into a panic, and the data stays consistent because every sandbox method
/// finishes its writes before returning.
pub fn lock<S>(mutex: &Mutex<S>) -> MutexGuard<'_, S> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Builds the delivery client; should the builder fail (it only does on a broken TLS or
/// resolver setup), falls back to a default client rather than refusing to start, and says so.
pub fn http_client(builder: reqwest::ClientBuilder, sandbox: &str) -> reqwest::Client {
    builder.build().unwrap_or_else(|error| {
        tracing::warn!(%error, sandbox, "sandbox: falling back to a default HTTP client");
        reqwest::Client::new()
    })
}
