//! The instrumentation every adapter's calls share, in one place: each call to a platform is
//! timed (`orderhub_provider_call_seconds` by provider, endpoint and outcome); a refusal is an
//! answer, counted by code (`orderhub_provider_errors_total`) and logged at info; any other
//! failure is a fault of the link or the platform and logged as a warning. Transport errors
//! become `Unavailable` without reqwest's text, which carries the full URL.

use std::{future::Future, time::Instant};

use super::{ProviderError, ProviderResult};
use crate::domain::ProviderId;

/// Runs `call` to `provider`'s `endpoint`, recording how it went.
pub async fn observe<T>(
    provider: ProviderId,
    endpoint: &'static str,
    call: impl Future<Output = ProviderResult<T>>,
) -> ProviderResult<T> {
    let started = Instant::now();
    let result = call.await;
    let outcome = match &result {
        Ok(_) => "ok",
        Err(ProviderError::Rejected { .. }) => "rejected",
        Err(ProviderError::Unavailable { .. }) => "unavailable",
        Err(ProviderError::Protocol { .. }) => "protocol",
    };
    let name = provider.as_str();
    metrics::histogram!("orderhub_provider_call_seconds", "provider" => name, "endpoint" => endpoint, "outcome" => outcome)
        .record(started.elapsed().as_secs_f64());
    match &result {
        Ok(_) => {}
        Err(e @ ProviderError::Rejected { code, .. }) => {
            let code = code.clone().unwrap_or_default();
            tracing::info!(provider = name, endpoint, code = %code, error = %e, "platform refused");
            metrics::counter!("orderhub_provider_errors_total", "provider" => name, "endpoint" => endpoint, "code" => code)
                .increment(1);
        }
        Err(e) => tracing::warn!(provider = name, endpoint, error = %e, "platform call failed"),
    }
    result
}

/// A transport failure as `Unavailable`, keeping only its kind. Only a failed connection
/// proves the request never reached the platform.
pub fn unavailable(provider: ProviderId, e: &reqwest::Error) -> ProviderError {
    let detail = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "transport error"
    };
    ProviderError::Unavailable {
        provider,
        detail: detail.into(),
        outcome_unknown: !e.is_connect(),
    }
}
