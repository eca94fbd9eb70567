//! Calls from us to 58: `order/updateOrderDetail` and `serviceUser/saveServiceUser`, each a
//! form POST of the signed system parameters with the business parameters as `daojiaJson`.
//! Failures are told apart for the outbox: a refusal (a non-zero `code`) will not change on
//! retry; 5xx, timeouts and unreadable answers are transient.

use std::{collections::BTreeMap, time::Duration};

use chrono::Utc;
use secrecy::ExposeSecret;
use serde::Serialize;

use super::{Daojia58Settings, sign, wire::Envelope};
use crate::{
    domain::{ProviderId, china_offset},
    providers::{ProviderError, ProviderResult, RejectKind, instrument},
};

const P: ProviderId = ProviderId::Daojia58;

pub use super::wire::{OrderUpdate, ServiceUser};

#[derive(Clone)]
pub struct Daojia58Client {
    http: reqwest::Client,
    settings: Daojia58Settings,
}

impl Daojia58Client {
    pub fn new(settings: Daojia58Settings) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(5)))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self { http, settings })
    }

    pub async fn update_order_detail(&self, update: &OrderUpdate) -> ProviderResult<()> {
        self.call("order/updateOrderDetail", update).await
    }

    pub async fn save_service_user(&self, user: &ServiceUser) -> ProviderResult<()> {
        self.call("serviceUser/saveServiceUser", user).await
    }

    /// The signed form of a call with `business` as `daojiaJson`.
    fn form(&self, business: &impl Serialize) -> ProviderResult<BTreeMap<String, String>> {
        let json = serde_json::to_string(business).map_err(|e| ProviderError::Protocol {
            provider: P,
            detail: format!("daojiaJson: {e}"),
        })?;
        let timestamp = Utc::now()
            .with_timezone(&china_offset())
            .format("%Y-%m-%d %H:%M:%S")
            .to_string();
        let mut params = BTreeMap::from([
            (
                "accessToken".to_owned(),
                self.settings.access_token.expose_secret().to_owned(),
            ),
            ("serviceKey".to_owned(), self.settings.service_key.clone()),
            ("format".to_owned(), "json".to_owned()),
            ("timestamp".to_owned(), timestamp),
            ("daojiaJson".to_owned(), json),
        ]);
        let signature = sign::sign(&params, self.settings.service_secret.expose_secret());
        params.insert("sign".to_owned(), signature);
        Ok(params)
    }

    #[tracing::instrument(skip_all, fields(provider = "DAOJIA58", path))]
    async fn call(&self, path: &'static str, business: &impl Serialize) -> ProviderResult<()> {
        tracing::Span::current().record("path", path);
        instrument::observe(P, path, self.call_inner(path, business)).await
    }

    async fn call_inner(
        &self,
        path: &'static str,
        business: &impl Serialize,
    ) -> ProviderResult<()> {
        let url = format!("{}/{path}", self.settings.base_url.trim_end_matches('/'));
        let form = self.form(business)?;
        let response = self
            .http
            .post(&url)
            .form(&form)
            .send()
            .await
            .map_err(|e| instrument::unavailable(P, &e))?;
        let status = response.status();
        if status.is_server_error() {
            return Err(ProviderError::Unavailable {
                provider: P,
                detail: format!("HTTP {status}"),
                outcome_unknown: false,
            });
        }
        let body = response
            .bytes()
            .await
            .map_err(|_| ProviderError::Unavailable {
                provider: P,
                detail: "answer cut off".into(),
                outcome_unknown: true,
            })?;
        let envelope: Envelope =
            serde_json::from_slice(&body).map_err(|e| ProviderError::Protocol {
                provider: P,
                detail: format!("HTTP {status}: unreadable answer: {e}"),
            })?;
        if envelope.code == 0 {
            return Ok(());
        }
        Err(ProviderError::Rejected {
            provider: P,
            kind: RejectKind::Other,
            code: Some(envelope.code.to_string()),
            message: envelope.msg.unwrap_or_else(|| "refused".into()),
        })
    }
}
