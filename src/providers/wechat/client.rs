//! Typed client for WeChat's instant-delivery endpoints (`/cgi-bin/express/local/business/*`).
//! One function ([`WechatClient::call`]) sends every call, so all share the same rules:
//!
//! - `POST <base>/cgi-bin/express/local/business/<path>?access_token=…`, a JSON body with
//!   Chinese sent as is (never `\uXXXX`, which WeChat was seen to refuse);
//! - transport failures and HTTP 5xx become `Unavailable` (a timeout leaves the outcome
//!   unknown; a refused connection or a 5xx means nothing was done);
//! - an answer that is not a JSON object becomes `Protocol`;
//! - WeChat's `errcode` is checked first: 40001 / 42001 (token invalid or expired) refresh the
//!   token once and retry once; any other non-zero code becomes what
//!   [`mapping::classify_error`] says. Then the company's `resultcode`, likewise, with
//!   `resultmsg` kept.
//!
//! The access_token travels only in the URL, which is never logged (reqwest's error texts,
//! which include it, are dropped).

use reqwest::{Url, header};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;

use super::{
    WechatSettings,
    mapping::{self, ErrorClass, protocol},
    token::{AccessToken, TokenManager, unavailable},
    wire,
};
use crate::{
    domain::ProviderId,
    providers::{ProviderError, ProviderResult, RejectKind, instrument},
};

/// Where the instant-delivery endpoints live, under the base URL.
const BUSINESS: &str = "cgi-bin/express/local/business/";

pub struct WechatClient {
    http: reqwest::Client,
    base: Url,
    tokens: TokenManager,
}

impl std::fmt::Debug for WechatClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WechatClient")
            .field("base", &self.base.as_str())
            .field("tokens", &self.tokens)
            .finish()
    }
}

/// How one attempt ended, before the token rule is applied.
enum Attempt {
    Done(Value),
    TokenRejected { code: i64, message: String },
    Failed(ProviderError),
}

impl WechatClient {
    pub fn new(settings: &WechatSettings) -> Result<Self, String> {
        let base_url = settings.base_url.trim();
        // Without a trailing slash `join` would drop the base's last path segment.
        let with_slash = if base_url.ends_with('/') {
            base_url.to_owned()
        } else {
            format!("{base_url}/")
        };
        let base =
            Url::parse(&with_slash).map_err(|e| format!("wechat base_url {base_url:?}: {e}"))?;
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .build()
            .map_err(|e| e.to_string())?;
        let tokens = TokenManager::new(
            http.clone(),
            &base,
            &settings.appid,
            settings.secret.clone(),
        )?;
        Ok(Self { http, base, tokens })
    }

    pub fn base_url(&self) -> &str {
        self.base.as_str()
    }

    pub fn tokens(&self) -> &TokenManager {
        &self.tokens
    }

    // ---------------------------------------------------------------------------- endpoints

    /// `delivery/getall`.
    pub async fn companies(&self) -> ProviderResult<wire::CompanyList> {
        self.call("delivery/getall", &wire::Empty {}).await
    }

    /// `shop/get`.
    pub async fn bound_shops(&self) -> ProviderResult<wire::ShopList> {
        self.call("shop/get", &wire::Empty {}).await
    }

    /// `shop/add`.
    pub async fn bind_account(&self, delivery_id: &str) -> ProviderResult<()> {
        self.exec("shop/add", &wire::BindAccount { delivery_id })
            .await
    }

    /// `open`.
    pub async fn open(&self) -> ProviderResult<()> {
        self.exec("open", &wire::Empty {}).await
    }

    /// `order/pre_add`.
    pub async fn pre_add(&self, body: &wire::OrderBody<'_>) -> ProviderResult<wire::FeeResult> {
        self.call("order/pre_add", body).await
    }

    /// `order/add`.
    pub async fn add(&self, body: &wire::OrderBody<'_>) -> ProviderResult<wire::FeeResult> {
        self.call("order/add", body).await
    }

    /// `order/readd`.
    pub async fn readd(&self, body: &wire::OrderBody<'_>) -> ProviderResult<wire::FeeResult> {
        self.call("order/readd", body).await
    }

    /// `order/addtips`.
    pub async fn add_tips(&self, body: &wire::AddTips<'_>) -> ProviderResult<()> {
        self.exec("order/addtips", body).await
    }

    /// `order/get`.
    pub async fn get_order(&self, body: &wire::GetOrder<'_>) -> ProviderResult<wire::OrderDetail> {
        self.call("order/get", body).await
    }

    /// `order/precancel`.
    pub async fn pre_cancel(
        &self,
        body: &wire::CancelOrder<'_>,
    ) -> ProviderResult<wire::CancelResult> {
        self.call("order/precancel", body).await
    }

    /// `order/cancel`.
    pub async fn cancel(&self, body: &wire::CancelOrder<'_>) -> ProviderResult<wire::CancelResult> {
        self.call("order/cancel", body).await
    }

    /// `order/confirm_return`.
    pub async fn confirm_return(&self, body: &wire::ConfirmReturn<'_>) -> ProviderResult<()> {
        self.exec("order/confirm_return", body).await
    }

    /// `test_update_order`: moves a `TEST` order (sandbox only).
    pub async fn mock_update(&self, body: &wire::MockUpdate<'_>) -> ProviderResult<()> {
        self.exec("test_update_order", body).await
    }

    // ------------------------------------------------------------------------------- core

    async fn exec<B: Serialize + ?Sized>(
        &self,
        path: &'static str,
        body: &B,
    ) -> ProviderResult<()> {
        self.call::<wire::Nothing, B>(path, body).await.map(|_| ())
    }

    /// One call, with the token rule; `T` is read from the whole answer object.
    #[tracing::instrument(skip_all, fields(provider = "WECHAT", endpoint = path))]
    pub async fn call<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        path: &'static str,
        body: &B,
    ) -> ProviderResult<T> {
        let result =
            instrument::observe(ProviderId::Wechat, path, self.call_inner(path, body)).await;
        let value = result?;
        serde_json::from_value(value)
            .map_err(|e| protocol(format!("{path}: unreadable answer ({e})")))
    }

    async fn call_inner<B: Serialize + ?Sized>(
        &self,
        path: &'static str,
        body: &B,
    ) -> ProviderResult<Value> {
        // serde_json writes non-ASCII as is, which is what WeChat wants.
        let payload =
            serde_json::to_vec(body).map_err(|e| protocol(format!("{path}: body ({e})")))?;
        let token = self.tokens.get().await?;
        let (code, message) = match self.attempt(path, &payload, &token).await {
            Attempt::Done(v) => return Ok(v),
            Attempt::Failed(e) => return Err(e),
            Attempt::TokenRejected { code, message } => (code, message),
        };
        // WeChat refused the token before doing anything: safe to send again once.
        tracing::info!(code, "wechat refused the access_token; refreshing once");
        let fresh = self.tokens.refresh_after_rejection(&token).await?;
        match self.attempt(path, &payload, &fresh).await {
            Attempt::Done(v) => Ok(v),
            Attempt::Failed(e) => Err(e),
            Attempt::TokenRejected {
                code: again,
                message: again_message,
            } => Err(ProviderError::Rejected {
                provider: ProviderId::Wechat,
                kind: RejectKind::Unauthorized,
                code: Some(again.to_string()),
                message: if again_message.is_empty() {
                    message
                } else {
                    again_message
                },
            }),
        }
    }

    async fn attempt(&self, path: &'static str, payload: &[u8], token: &AccessToken) -> Attempt {
        let url = match self.base.join(BUSINESS).and_then(|u| u.join(path)) {
            Ok(mut url) => {
                url.query_pairs_mut()
                    .append_pair("access_token", token.expose());
                url
            }
            Err(e) => return Attempt::Failed(protocol(format!("{path}: url ({e})"))),
        };
        let response = match self
            .http
            .post(url)
            .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
            .body(payload.to_vec())
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) => return Attempt::Failed(unavailable(&e)),
        };
        let status = response.status();
        let bytes = match response.bytes().await {
            Ok(b) => b,
            Err(e) => return Attempt::Failed(unavailable(&e)),
        };
        if status.is_server_error() {
            return Attempt::Failed(ProviderError::Unavailable {
                provider: ProviderId::Wechat,
                detail: format!("{path}: HTTP {status}"),
                outcome_unknown: false,
            });
        }
        let value: Value = match serde_json::from_slice(&bytes) {
            Ok(v @ Value::Object(_)) => v,
            Ok(_) => {
                return Attempt::Failed(protocol(format!(
                    "{path}: HTTP {status}, answer is not a JSON object"
                )));
            }
            Err(e) => {
                return Attempt::Failed(protocol(format!(
                    "{path}: HTTP {status}, unreadable answer ({e})"
                )));
            }
        };
        let layers: wire::ResultLayers = match serde_json::from_value(value.clone()) {
            Ok(l) => l,
            Err(e) => {
                return Attempt::Failed(protocol(format!(
                    "{path}: unreadable errcode/resultcode ({e})"
                )));
            }
        };
        if let Some(code) = layers.errcode.filter(|c| *c != 0) {
            let message = layers
                .errmsg
                .unwrap_or_else(|| format!("WeChat error {code}"));
            if mapping::is_token_rejected(code) {
                return Attempt::TokenRejected { code, message };
            }
            return Attempt::Failed(failure(path, code, message));
        }
        if let Some(code) = layers.resultcode.filter(|c| *c != 0) {
            let message = layers
                .resultmsg
                .unwrap_or_else(|| format!("delivery company error {code}"));
            return Attempt::Failed(failure(path, code, message));
        }
        Attempt::Done(value)
    }
}

/// A non-zero code of either layer, as the table classifies it.
fn failure(path: &str, code: i64, message: String) -> ProviderError {
    match mapping::classify_error(code) {
        ErrorClass::Transient { outcome_unknown } => ProviderError::Unavailable {
            provider: ProviderId::Wechat,
            detail: format!("{path}: code {code}: {message}"),
            outcome_unknown,
        },
        ErrorClass::Refused(kind) => ProviderError::Rejected {
            provider: ProviderId::Wechat,
            kind,
            code: Some(code.to_string()),
            message,
        },
    }
}
