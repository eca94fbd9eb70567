//! Typed client for every endpoint of Daoway's channel API. Errors keep the platform's
//! message; transport failures and 5xx answers become `Unavailable` so callers can retry.

use std::time::Duration;

use reqwest::{Method, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;

use super::{mapping, wire};
use crate::{
    domain::{Money, ProviderId},
    providers::{ProviderError, ProviderResult, ShopQuery, instrument},
};

#[derive(Clone)]
pub struct DaowayClient {
    http: reqwest::Client,
    base: Url,
    channel: String,
    user_name: String,
    password: SecretString,
}

/// What `POST /orders` answered, in domain money.
#[derive(Debug, Clone)]
pub struct Created {
    pub order_id: String,
    pub consumed: Money,
    pub remaining: Option<Money>,
}

impl DaowayClient {
    pub fn new(
        base_url: &str,
        channel: String,
        user_name: String,
        password: SecretString,
        timeout: Duration,
    ) -> Result<Self, String> {
        // A base without a trailing slash would make `join` drop its last segment.
        let base = if base_url.ends_with('/') {
            base_url.to_owned()
        } else {
            format!("{base_url}/")
        };
        let base = Url::parse(&base).map_err(|e| format!("daoway base_url {base_url:?}: {e}"))?;
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            http,
            base,
            channel,
            user_name,
            password,
        })
    }

    pub fn base_url(&self) -> &str {
        self.base.as_str()
    }

    pub fn channel(&self) -> &str {
        &self.channel
    }

    /// `GET /categories`.
    pub async fn categories(&self) -> ProviderResult<Vec<wire::Category>> {
        self.call(Method::GET, "categories", "categories", &[], None::<&()>)
            .await
    }

    /// `GET /services` with the search filters and paging.
    pub async fn services(&self, q: &ShopQuery) -> ProviderResult<Vec<wire::ServiceListItem>> {
        let mut params: Vec<(&str, String)> = vec![
            ("size", q.limit.to_string()),
            ("start", q.offset.to_string()),
        ];
        if let Some(city) = &q.city {
            params.push(("city", city.clone()));
        }
        if let Some(c) = &q.category {
            params.push(("category", c.clone()));
        }
        if let Some(s) = &q.search {
            params.push(("search", s.clone()));
        }
        if let Some(p) = q.near {
            params.push(("lng", p.lng.to_string()));
            params.push(("lat", p.lat.to_string()));
        }
        self.call(Method::GET, "services", "services", &params, None::<&()>)
            .await
    }

    /// `GET /services/{serviceId}`.
    pub async fn service(&self, service_id: &str) -> ProviderResult<wire::ServiceDetail> {
        let path = format!("services/{}", url_escape(service_id));
        self.call(Method::GET, &path, "service", &[], None::<&()>)
            .await
    }

    /// `POST /orders?channel=`: the pre-paid account is debited.
    pub async fn create_order(&self, order: &wire::CreateOrder<'_>) -> ProviderResult<Created> {
        let created: wire::CreatedOrder = self
            .call(Method::POST, "orders", "create_order", &[], Some(order))
            .await?;
        let money = |d| Money::from_platform_yuan(d).map_err(|e| mapping::protocol(e.to_string()));
        Ok(Created {
            consumed: money(created.consumed_money)?,
            remaining: created.remaining_money.map(money).transpose()?,
            order_id: created.order_id,
        })
    }

    /// `GET /orders/{orderId}/status`.
    pub async fn order_status(&self, order_id: &str) -> ProviderResult<String> {
        let path = format!("orders/{}/status", url_escape(order_id));
        self.call(Method::GET, &path, "order_status", &[], None::<&()>)
            .await
    }

    /// Credentials for the order body; borrowed so the secret is not copied around.
    pub fn credentials(&self) -> (&str, &str) {
        (&self.user_name, self.password.expose_secret())
    }

    #[tracing::instrument(skip_all, fields(provider = "DAOWAY", endpoint = endpoint))]
    async fn call<T: DeserializeOwned, B: serde::Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        endpoint: &'static str,
        params: &[(&str, String)],
        body: Option<&B>,
    ) -> ProviderResult<T> {
        instrument::observe(
            ProviderId::Daoway,
            endpoint,
            self.call_inner(method, path, params, body),
        )
        .await
    }

    async fn call_inner<T: DeserializeOwned, B: serde::Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        params: &[(&str, String)],
        body: Option<&B>,
    ) -> ProviderResult<T> {
        let mut url = self
            .base
            .join(path)
            .map_err(|e| mapping::protocol(format!("url: {e}")))?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("channel", &self.channel);
            for (k, v) in params {
                q.append_pair(k, v);
            }
        }
        let mut req = self.http.request(method, url);
        if let Some(body) = body {
            req = req.json(body);
        }
        let resp = req.send().await.map_err(|e| unavailable(&e))?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| unavailable(&e))?;
        if status.is_server_error() {
            // The platform answered that it failed: nothing was done.
            return Err(ProviderError::Unavailable {
                provider: ProviderId::Daoway,
                detail: format!("HTTP {status}"),
                outcome_unknown: false,
            });
        }
        let envelope: wire::Envelope<T> = serde_json::from_slice(&bytes)
            .map_err(|e| mapping::protocol(format!("HTTP {status}, unreadable body ({e})")))?;
        match envelope.status.as_str() {
            "ok" => envelope
                .data
                .ok_or_else(|| mapping::protocol("ok without data".into())),
            _ => {
                let message = envelope.msg.unwrap_or_else(|| format!("HTTP {status}"));
                Err(ProviderError::Rejected {
                    provider: ProviderId::Daoway,
                    kind: mapping::classify_refusal(&message),
                    code: None,
                    message,
                })
            }
        }
    }
}

fn unavailable(e: &reqwest::Error) -> ProviderError {
    instrument::unavailable(ProviderId::Daoway, e)
}

/// Percent-encodes everything but unreserved characters, so an id can't add path segments.
fn url_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_cannot_escape_their_segment() {
        assert_eq!(url_escape("../orders"), "%2E%2E%2Forders");
        assert_eq!(url_escape("abc123"), "abc123");
    }
}
