//! The access_token every WeChat call carries: fetched with the appid and secret
//! (`GET /cgi-bin/token?grant_type=client_credential&appid=…&secret=…`), kept until about five
//! minutes before it expires, and refreshed by one caller at a time — the others wait for that
//! refresh and use its token, so a burst of calls costs one fetch (WeChat caps fetches per
//! day, and each fetch invalidates the previous token after a grace period).
//!
//! When WeChat refuses a token (40001 / 42001), [`TokenManager::refresh_after_rejection`]
//! replaces it — unless another caller already did, in which case that newer token is used.
//!
//! Neither the secret nor a token is ever logged or printed: the URL of the fetch (which holds
//! the secret) is not even kept in error texts.

use std::{
    sync::Mutex,
    time::{Duration, Instant},
};

use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};

use super::{mapping, wire};
use crate::{
    domain::ProviderId,
    providers::{ProviderError, ProviderResult, instrument},
};

/// Refresh this long before the token expires.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// A token and which fetch it came from.
#[derive(Clone)]
pub struct AccessToken {
    value: SecretString,
    generation: u64,
}

impl AccessToken {
    pub fn expose(&self) -> &str {
        self.value.expose_secret()
    }
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessToken")
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

struct Cached {
    token: AccessToken,
    /// When to stop using it: the expiry less the margin.
    refresh_at: Instant,
}

pub struct TokenManager {
    http: reqwest::Client,
    /// `…/cgi-bin/token`, without the query.
    url: Url,
    appid: String,
    secret: SecretString,
    cache: Mutex<Option<Cached>>,
    /// Held by the one caller refreshing; the others queue on it and then re-check the cache.
    refreshing: tokio::sync::Mutex<Refresh>,
    /// What time it is: `Instant::now`, except in tests that age a token without waiting.
    clock: Clock,
}

/// A source of "now" for the token's age.
type Clock = std::sync::Arc<dyn Fn() -> Instant + Send + Sync>;

/// What the refresh lock guards.
#[derive(Default)]
struct Refresh {
    /// Fetches so far; tells a rejected token from a newer one.
    generation: u64,
    /// The last failed fetch: callers that queued while it ran share its error instead of
    /// each trying again (an outage would otherwise cost one timeout per caller, in turn).
    last_failure: Option<(Instant, ProviderError)>,
}

impl Refresh {
    /// The error of a fetch that failed after `asked_at`, if any.
    fn failed_since(&self, asked_at: Instant) -> Option<ProviderError> {
        self.last_failure
            .as_ref()
            .filter(|(at, _)| *at > asked_at)
            .map(|(_, e)| e.clone())
    }
}

impl std::fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenManager")
            .field("url", &self.url.as_str())
            .field("appid", &self.appid)
            .finish_non_exhaustive()
    }
}

impl TokenManager {
    pub fn new(
        http: reqwest::Client,
        base: &Url,
        appid: &str,
        secret: SecretString,
    ) -> Result<Self, String> {
        let url = base
            .join("cgi-bin/token")
            .map_err(|e| format!("wechat token url: {e}"))?;
        Ok(Self {
            http,
            url,
            appid: appid.to_owned(),
            secret,
            cache: Mutex::new(None),
            refreshing: tokio::sync::Mutex::new(Refresh::default()),
            clock: std::sync::Arc::new(Instant::now),
        })
    }

    /// The same manager reading the time from `clock` (tests age tokens with it).
    #[cfg(test)]
    fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    fn now(&self) -> Instant {
        (self.clock)()
    }

    /// A token that is not about to expire: the cached one, or a fresh one.
    pub async fn get(&self) -> ProviderResult<AccessToken> {
        if let Some(token) = self.cached() {
            return Ok(token);
        }
        let asked_at = self.now();
        let mut refresh = self.refreshing.lock().await;
        // Whoever held the lock before us may have refreshed already, or failed to.
        if let Some(token) = self.cached() {
            return Ok(token);
        }
        if let Some(e) = refresh.failed_since(asked_at) {
            return Err(e);
        }
        self.fetch(&mut refresh).await
    }

    /// Replaces `rejected`, which WeChat refused; when the cache already holds a newer token
    /// (someone refreshed meanwhile), that one is returned without a fetch.
    pub async fn refresh_after_rejection(
        &self,
        rejected: &AccessToken,
    ) -> ProviderResult<AccessToken> {
        let asked_at = self.now();
        let mut refresh = self.refreshing.lock().await;
        if let Some(token) = self
            .cached()
            .filter(|t| t.generation != rejected.generation)
        {
            return Ok(token);
        }
        if let Some(e) = refresh.failed_since(asked_at) {
            return Err(e);
        }
        self.fetch(&mut refresh).await
    }

    /// Forgets the cached token (tests, or a secret rotated by hand).
    pub fn invalidate(&self) {
        if let Ok(mut cache) = self.cache.lock() {
            *cache = None;
        }
    }

    fn cached(&self) -> Option<AccessToken> {
        let cache = self.cache.lock().ok()?;
        cache
            .as_ref()
            .filter(|c| self.now() < c.refresh_at)
            .map(|c| c.token.clone())
    }

    /// One fetch, under the refresh lock (whose content is `refresh`).
    #[tracing::instrument(skip_all, fields(provider = "WECHAT", endpoint = "cgi-bin/token"))]
    async fn fetch(&self, refresh: &mut Refresh) -> ProviderResult<AccessToken> {
        let started = self.now();
        let result =
            instrument::observe(ProviderId::Wechat, "cgi-bin/token", self.fetch_inner()).await;
        let (value, expires_in) = match result {
            Ok(v) => v,
            Err(e) => {
                refresh.last_failure = Some((self.now(), e.clone()));
                return Err(e);
            }
        };
        refresh.generation += 1;
        refresh.last_failure = None;
        let token = AccessToken {
            value,
            generation: refresh.generation,
        };
        // A token shorter-lived than the margin is still used for half its life.
        let lifetime = Duration::from_secs(expires_in);
        let usable = lifetime.saturating_sub(REFRESH_MARGIN).max(lifetime / 2);
        if let Ok(mut cache) = self.cache.lock() {
            *cache = Some(Cached {
                token: token.clone(),
                refresh_at: started + usable,
            });
        }
        tracing::info!(
            generation = refresh.generation,
            expires_in,
            "wechat access_token refreshed"
        );
        Ok(token)
    }

    async fn fetch_inner(&self) -> ProviderResult<(SecretString, u64)> {
        let response = self
            .http
            .get(self.url.clone())
            .query(&[
                ("grant_type", "client_credential"),
                ("appid", self.appid.as_str()),
                ("secret", self.secret.expose_secret()),
            ])
            .send()
            .await
            .map_err(|e| unavailable(&e))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| unavailable(&e))?;
        if status.is_server_error() {
            return Err(ProviderError::Unavailable {
                provider: ProviderId::Wechat,
                detail: format!("cgi-bin/token: HTTP {status}"),
                outcome_unknown: false,
            });
        }
        let answer: wire::TokenAnswer = serde_json::from_slice(&bytes).map_err(|e| {
            mapping::protocol(format!(
                "cgi-bin/token: HTTP {status}, unreadable answer ({e})"
            ))
        })?;
        if let Some(code) = answer.errcode.filter(|c| *c != 0) {
            let message = answer
                .errmsg
                .clone()
                .unwrap_or_else(|| format!("WeChat error {code}"));
            return Err(match mapping::classify_error(code) {
                mapping::ErrorClass::Transient { .. } => ProviderError::Unavailable {
                    provider: ProviderId::Wechat,
                    detail: format!("cgi-bin/token: code {code}: {message}"),
                    // Nothing to undo: a token fetch has no effect worth knowing.
                    outcome_unknown: false,
                },
                // At the token endpoint a refusal is always our appid, secret or address.
                mapping::ErrorClass::Refused(_) => ProviderError::Rejected {
                    provider: ProviderId::Wechat,
                    kind: crate::providers::RejectKind::Unauthorized,
                    code: Some(code.to_string()),
                    message,
                },
            });
        }
        let token = answer
            .access_token
            .clone()
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| {
                mapping::protocol(format!("cgi-bin/token: no access_token ({answer})"))
            })?;
        let expires_in = answer
            .expires_in
            .and_then(|s| u64::try_from(s).ok())
            .filter(|s| *s > 0)
            .ok_or_else(|| {
                mapping::protocol(format!("cgi-bin/token: bad expires_in ({answer})"))
            })?;
        Ok((SecretString::from(token), expires_in))
    }
}

/// reqwest's error text carries the full URL (with the secret here, the token elsewhere);
/// keep only the kind of failure. Only a failed connection proves nothing reached WeChat.
pub(super) fn unavailable(e: &reqwest::Error) -> ProviderError {
    instrument::unavailable(ProviderId::Wechat, e)
}

#[cfg(test)]
mod tests {
    use std::sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    };

    use axum::{Json, Router, extract::Query, routing::get};
    use serde_json::{Value, json};

    use super::*;

    /// A token endpoint that counts its calls and answers `answer(n)` to the n-th (from 1).
    /// While its gate is closed it holds each answer back, so a test can queue callers
    /// behind a fetch in flight.
    struct Endpoint {
        url: Url,
        /// Fetches received so far.
        arrivals: tokio::sync::watch::Receiver<usize>,
        open: Arc<tokio::sync::watch::Sender<bool>>,
    }

    impl Endpoint {
        fn fetches(&self) -> usize {
            *self.arrivals.borrow()
        }

        /// Runs `calls` so that every call after the first is queued behind the first's
        /// fetch: the first starts and its fetch is held until the others have each been
        /// polled up to the refresh lock (which they must be waiting on).
        async fn queued_behind_one_fetch<T: Send + 'static>(
            &self,
            calls: Vec<crate::providers::BoxFuture<'static, T>>,
        ) -> Vec<T> {
            self.open.send_replace(false);
            let before = self.fetches();
            let mut calls = calls.into_iter();
            let first = tokio::spawn(calls.next().expect("a call"));
            let mut arrivals = self.arrivals.clone();
            arrivals
                .wait_for(|n| *n > before)
                .await
                .expect("the endpoint runs");
            let mut rest: Vec<_> = calls.collect();
            for call in &mut rest {
                assert!(
                    futures::poll!(call.as_mut()).is_pending(),
                    "a caller did not wait for the fetch in flight"
                );
            }
            self.open.send_replace(true);
            let mut done = vec![first.await.expect("the first call")];
            done.extend(futures::future::join_all(rest).await);
            done
        }
    }

    async fn serve(
        answer: impl Fn(usize, &std::collections::HashMap<String, String>) -> Value
        + Send
        + Sync
        + 'static,
    ) -> Endpoint {
        let count = Arc::new(AtomicUsize::new(0));
        let (arrived, arrivals) = tokio::sync::watch::channel(0);
        let arrived = Arc::new(arrived);
        let open = Arc::new(tokio::sync::watch::channel(true).0);
        let gate = open.clone();
        let answer = Arc::new(answer);
        let router = Router::new().route(
            "/cgi-bin/token",
            get(
                move |Query(q): Query<std::collections::HashMap<String, String>>| {
                    let n = count.fetch_add(1, Ordering::SeqCst) + 1;
                    arrived.send_replace(n);
                    let answer = answer.clone();
                    let mut open = gate.subscribe();
                    async move {
                        let _ = open.wait_for(|o| *o).await;
                        Json(answer(n, &q))
                    }
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Endpoint {
            url: Url::parse(&format!("http://{addr}/")).unwrap(),
            arrivals,
            open,
        }
    }

    fn manager(base: &Url) -> Arc<TokenManager> {
        Arc::new(
            TokenManager::new(
                reqwest::Client::new(),
                base,
                "wx-app",
                SecretString::from("the-secret".to_owned()),
            )
            .unwrap(),
        )
    }

    #[tokio::test]
    async fn twenty_concurrent_callers_cost_one_fetch() {
        let endpoint = serve(|n, q| {
            assert_eq!(
                q.get("grant_type").map(String::as_str),
                Some("client_credential")
            );
            assert_eq!(q.get("appid").map(String::as_str), Some("wx-app"));
            assert_eq!(q.get("secret").map(String::as_str), Some("the-secret"));
            json!({"access_token": format!("T{n}"), "expires_in": 7200})
        })
        .await;
        let tokens = manager(&endpoint.url);
        let calls = (0..20)
            .map(|_| {
                let tokens = tokens.clone();
                let call: crate::providers::BoxFuture<'static, _> =
                    Box::pin(async move { tokens.get().await.map(|t| t.expose().to_owned()) });
                call
            })
            .collect();
        for token in endpoint.queued_behind_one_fetch(calls).await {
            assert_eq!(token.unwrap(), "T1");
        }
        assert_eq!(endpoint.fetches(), 1);
        // Cached afterwards.
        assert_eq!(tokens.get().await.unwrap().expose(), "T1");
        assert_eq!(endpoint.fetches(), 1);
    }

    #[tokio::test]
    async fn a_rejected_token_is_replaced_once_for_all_who_saw_it() {
        let endpoint =
            serve(|n, _| json!({"access_token": format!("T{n}"), "expires_in": 7200})).await;
        let tokens = manager(&endpoint.url);
        let first = tokens.get().await.unwrap();
        let refreshes = (0..10)
            .map(|_| {
                let tokens = tokens.clone();
                let first = first.clone();
                let call: crate::providers::BoxFuture<'static, _> = Box::pin(async move {
                    tokens
                        .refresh_after_rejection(&first)
                        .await
                        .map(|t| t.expose().to_owned())
                });
                call
            })
            .collect();
        for token in endpoint.queued_behind_one_fetch(refreshes).await {
            assert_eq!(token.unwrap(), "T2");
        }
        assert_eq!(endpoint.fetches(), 2);
    }

    #[tokio::test]
    async fn callers_queued_behind_a_failed_fetch_share_its_error() {
        let endpoint = serve(|_, _| json!({"errcode": -1, "errmsg": "system busy"})).await;
        let tokens = manager(&endpoint.url);
        let calls = (0..10)
            .map(|_| {
                let tokens = tokens.clone();
                let call: crate::providers::BoxFuture<'static, _> =
                    Box::pin(async move { tokens.get().await });
                call
            })
            .collect();
        for call in endpoint.queued_behind_one_fetch(calls).await {
            assert!(matches!(call, Err(ProviderError::Unavailable { .. })));
        }
        assert_eq!(endpoint.fetches(), 1);
        // A caller arriving later tries again.
        assert!(tokens.get().await.is_err());
        assert_eq!(endpoint.fetches(), 2);
    }

    #[tokio::test]
    async fn a_token_near_expiry_is_refreshed() {
        // 1 s of life: used for half a second, then fetched again. The manager's clock is
        // moved on instead of waiting.
        let endpoint =
            serve(|n, _| json!({"access_token": format!("T{n}"), "expires_in": 1})).await;
        let start = Instant::now();
        let elapsed_ms = Arc::new(AtomicUsize::new(0));
        let clock = {
            let elapsed_ms = elapsed_ms.clone();
            Arc::new(move || {
                start + Duration::from_millis(elapsed_ms.load(Ordering::SeqCst) as u64)
            })
        };
        let tokens = TokenManager::new(
            reqwest::Client::new(),
            &endpoint.url,
            "wx-app",
            SecretString::from("the-secret".to_owned()),
        )
        .unwrap()
        .with_clock(clock);
        assert_eq!(tokens.get().await.unwrap().expose(), "T1");
        elapsed_ms.store(400, Ordering::SeqCst);
        assert_eq!(tokens.get().await.unwrap().expose(), "T1");
        elapsed_ms.store(600, Ordering::SeqCst);
        assert_eq!(tokens.get().await.unwrap().expose(), "T2");
        assert_eq!(endpoint.fetches(), 2);
    }

    #[tokio::test]
    async fn refusals_and_nonsense() {
        let endpoint = serve(|_, _| json!({"errcode": 40125, "errmsg": "invalid appsecret"})).await;
        let e = manager(&endpoint.url).get().await.unwrap_err();
        assert!(
            matches!(
                &e,
                ProviderError::Rejected { kind: crate::providers::RejectKind::Unauthorized, code: Some(c), .. } if c == "40125"
            ),
            "{e:?}"
        );
        assert!(!format!("{e:?}").contains("the-secret"));

        let endpoint = serve(|_, _| json!({"errcode": -1, "errmsg": "system busy"})).await;
        assert!(matches!(
            manager(&endpoint.url).get().await,
            Err(ProviderError::Unavailable { .. })
        ));

        let endpoint = serve(|_, _| json!({"expires_in": 7200})).await;
        assert!(matches!(
            manager(&endpoint.url).get().await,
            Err(ProviderError::Protocol { .. })
        ));
    }

    #[test]
    fn debug_never_shows_secrets() {
        let base = Url::parse("http://127.0.0.1:9/").unwrap();
        let m = manager(&base);
        let text = format!("{m:?}");
        assert!(!text.contains("the-secret"), "{text}");
        let token = AccessToken {
            value: SecretString::from("TOKEN-VALUE".to_owned()),
            generation: 3,
        };
        assert!(!format!("{token:?}").contains("TOKEN-VALUE"));
    }
}
