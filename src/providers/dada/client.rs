//! Typed client for every endpoint of Dada's open platform, including the test environment's
//! simulation routes. One function ([`DadaClient::post`]) builds, signs and sends the envelope
//! and reads the answer, so every call shares the same error rules:
//!
//! - transport failures and HTTP 5xx become `Unavailable` (a timeout leaves the outcome
//!   unknown; a refused connection or a 5xx means nothing was done);
//! - an answer that is not Dada's envelope becomes `Protocol`;
//! - a failure envelope becomes what [`mapping::classify_error`] says: `Unavailable` for Dada's
//!   own transient codes, else `Rejected` with Dada's code and message kept.
//!
//! The app secret is used for signing only and is never logged or printed.

use chrono::Utc;
use reqwest::{Url, header};
use secrecy::{ExposeSecret, SecretString};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;

use super::{
    DadaSettings,
    mapping::{self, ErrorClass, protocol},
    sign, wire,
};
use crate::{
    domain::ProviderId,
    providers::{ProviderError, ProviderResult, instrument},
};

const FORMAT: &str = "json";
const VERSION: &str = "1.0";

/// Most order ids `/api/order/transporter/position` takes in one call.
pub const MAX_POSITION_IDS: usize = 50;

pub struct DadaClient {
    http: reqwest::Client,
    base: Url,
    app_key: String,
    app_secret: SecretString,
    source_id: String,
}

impl std::fmt::Debug for DadaClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DadaClient")
            .field("base", &self.base.as_str())
            .field("app_key", &self.app_key)
            .field("source_id", &self.source_id)
            .finish_non_exhaustive()
    }
}

impl DadaClient {
    pub fn new(settings: &DadaSettings) -> Result<Self, String> {
        let base_url = settings.base_url.trim();
        // Without a trailing slash `join` would drop the base's last path segment.
        let with_slash = if base_url.ends_with('/') {
            base_url.to_owned()
        } else {
            format!("{base_url}/")
        };
        let base =
            Url::parse(&with_slash).map_err(|e| format!("dada base_url {base_url:?}: {e}"))?;
        if settings.app_key.is_empty() {
            return Err("dada app_key is empty".into());
        }
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            http,
            base,
            app_key: settings.app_key.clone(),
            app_secret: settings.app_secret.clone(),
            source_id: settings.source_id.clone(),
        })
    }

    pub fn base_url(&self) -> &str {
        self.base.as_str()
    }

    /// The merchant every call but merchant registration acts for.
    pub fn source_id(&self) -> &str {
        &self.source_id
    }

    // ------------------------------------------------------------------------------ orders

    /// `/api/order/addOrder`.
    pub async fn add_order(&self, body: &wire::OrderBody<'_>) -> ProviderResult<wire::FeeResult> {
        self.fetch("/api/order/addOrder", Some(body)).await
    }

    /// `/api/order/reAddOrder`: only after 5 cancelled, 7 expired or 10 returned.
    pub async fn re_add_order(
        &self,
        body: &wire::OrderBody<'_>,
    ) -> ProviderResult<wire::FeeResult> {
        self.fetch("/api/order/reAddOrder", Some(body)).await
    }

    /// `/api/order/queryDeliverFee`: the fee plus a `deliveryNo` valid for 3 minutes.
    pub async fn query_deliver_fee(
        &self,
        body: &wire::OrderBody<'_>,
    ) -> ProviderResult<wire::FeeResult> {
        self.fetch("/api/order/queryDeliverFee", Some(body)).await
    }

    /// `/api/order/addAfterQuery`: publishes a quote.
    pub async fn add_after_query(&self, delivery_no: &str) -> ProviderResult<wire::FeeResult> {
        self.fetch(
            "/api/order/addAfterQuery",
            Some(&wire::DeliveryNo { delivery_no }),
        )
        .await
    }

    /// `/api/order/addTip`.
    pub async fn add_tip(&self, body: &wire::AddTip<'_>) -> ProviderResult<()> {
        self.exec("/api/order/addTip", Some(body)).await
    }

    /// `/api/order/status/query`.
    pub async fn status_query(&self, origin_id: &str) -> ProviderResult<wire::OrderDetail> {
        self.fetch(
            "/api/order/status/query",
            Some(&wire::OrderId {
                order_id: origin_id,
            }),
        )
        .await
    }

    /// `/api/order/formalCancel`.
    pub async fn formal_cancel(
        &self,
        body: &wire::FormalCancel<'_>,
    ) -> ProviderResult<wire::CancelResult> {
        self.fetch("/api/order/formalCancel", Some(body)).await
    }

    /// `/api/order/cancel/reasons`.
    pub async fn cancel_reasons(&self) -> ProviderResult<Vec<wire::ReasonItem>> {
        self.fetch("/api/order/cancel/reasons", None::<&()>).await
    }

    /// `/api/order/appoint/exist`.
    pub async fn appoint(&self, body: &wire::Appoint<'_>) -> ProviderResult<()> {
        self.exec("/api/order/appoint/exist", Some(body)).await
    }

    /// `/api/order/appoint/cancel`.
    pub async fn cancel_appointment(&self, origin_id: &str) -> ProviderResult<()> {
        self.exec(
            "/api/order/appoint/cancel",
            Some(&wire::OrderId {
                order_id: origin_id,
            }),
        )
        .await
    }

    /// `/api/order/appoint/list/transporter`.
    pub async fn appointable_transporters(
        &self,
        shop_no: &str,
    ) -> ProviderResult<Vec<wire::Transporter>> {
        self.fetch(
            "/api/order/appoint/list/transporter",
            Some(&wire::ShopNo { shop_no }),
        )
        .await
    }

    /// `/api/complaint/dada`.
    pub async fn complain(&self, body: &wire::Complaint<'_>) -> ProviderResult<()> {
        self.exec("/api/complaint/dada", Some(body)).await
    }

    /// `/api/complaint/reasons`.
    pub async fn complaint_reasons(&self) -> ProviderResult<Vec<wire::ReasonItem>> {
        self.fetch("/api/complaint/reasons", None::<&()>).await
    }

    /// `/api/order/confirm/goods`: the store has its goods back (9 → 10).
    pub async fn confirm_goods(&self, origin_id: &str) -> ProviderResult<()> {
        self.exec(
            "/api/order/confirm/goods",
            Some(&wire::OrderId {
                order_id: origin_id,
            }),
        )
        .await
    }

    /// `/api/order/transporter/position`, in calls of at most [`MAX_POSITION_IDS`] ids (none
    /// for an empty list, which Dada would refuse). Orders without a courier on the road are
    /// simply absent from the answer.
    pub async fn transporter_positions(
        &self,
        origin_ids: &[String],
    ) -> ProviderResult<Vec<wire::TransporterPosition>> {
        let mut all = Vec::new();
        for chunk in origin_ids.chunks(MAX_POSITION_IDS) {
            let part: Vec<wire::TransporterPosition> = self
                .fetch(
                    "/api/order/transporter/position",
                    Some(&wire::Positions { order_ids: chunk }),
                )
                .await?;
            all.extend(part);
        }
        Ok(all)
    }

    /// `/api/order/transporter/track`.
    pub async fn track(&self, origin_id: &str) -> ProviderResult<wire::TrackResult> {
        self.fetch(
            "/api/order/transporter/track",
            Some(&wire::OrderId {
                order_id: origin_id,
            }),
        )
        .await
    }

    // ---------------------------------------------------------------------------- merchant

    /// `/api/cityCode/list`.
    pub async fn cities(&self) -> ProviderResult<Vec<wire::CityItem>> {
        self.fetch("/api/cityCode/list", None::<&()>).await
    }

    /// `/merchantApi/merchant/add`: answers the new merchant's `source_id`. Sent with an empty
    /// `source_id`, since the merchant does not exist yet.
    pub async fn merchant_add(&self, body: &wire::MerchantAdd<'_>) -> ProviderResult<String> {
        let result = self
            .post("/merchantApi/merchant/add", Some(body), "")
            .await?
            .ok_or_else(|| protocol("merchant/add: success without result"))?;
        wire::value_text(&result)
            .filter(|id| !id.is_empty())
            .ok_or_else(|| protocol(format!("merchant/add: unreadable source_id {result}")))
    }

    /// `/api/shop/add`: a JSON array of shops; each succeeds or fails on its own, and a batch
    /// in which none succeeds comes back as a failure envelope.
    pub async fn shop_add(
        &self,
        shops: &[wire::ShopAdd<'_>],
    ) -> ProviderResult<wire::ShopAddResult> {
        self.fetch("/api/shop/add", Some(shops)).await
    }

    /// `/api/shop/update`.
    pub async fn shop_update(&self, body: &wire::ShopUpdate<'_>) -> ProviderResult<()> {
        self.exec("/api/shop/update", Some(body)).await
    }

    /// `/api/shop/detail`.
    pub async fn shop_detail(&self, origin_shop_id: &str) -> ProviderResult<wire::ShopDetail> {
        self.fetch(
            "/api/shop/detail",
            Some(&wire::OriginShopId { origin_shop_id }),
        )
        .await
    }

    /// `/api/recharge`: the cashier URL.
    pub async fn recharge(&self, body: &wire::Recharge<'_>) -> ProviderResult<String> {
        let url: String = self.fetch("/api/recharge", Some(body)).await?;
        if url.trim().is_empty() {
            return Err(protocol("recharge: empty URL"));
        }
        Ok(url)
    }

    /// `/api/balance/query` (`category` 1 freight, 2 red packet, 3 both).
    pub async fn balance(&self, category: i64) -> ProviderResult<wire::BalanceResult> {
        self.fetch("/api/balance/query", Some(&wire::BalanceQuery { category }))
            .await
    }

    /// `/api/message/confirm`.
    pub async fn message_confirm(&self, body: &wire::MessageConfirm) -> ProviderResult<()> {
        self.exec("/api/message/confirm", Some(body)).await
    }

    /// The test environment's simulation routes (Dada answers 2068 in production).
    pub fn simulate(&self) -> Simulation<'_> {
        Simulation { client: self }
    }

    // ------------------------------------------------------------------------------- core

    /// A call whose `result` we need.
    async fn fetch<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        path: &'static str,
        body: Option<&B>,
    ) -> ProviderResult<T> {
        let result = self
            .post(path, body, &self.source_id)
            .await?
            .ok_or_else(|| protocol(format!("{path}: success without result")))?;
        serde_json::from_value(result)
            .map_err(|e| protocol(format!("{path}: unreadable result ({e})")))
    }

    /// A call that answers nothing but success or failure.
    async fn exec<B: Serialize + ?Sized>(
        &self,
        path: &'static str,
        body: Option<&B>,
    ) -> ProviderResult<()> {
        self.post(path, body, &self.source_id).await.map(|_| ())
    }

    /// One signed call; `Ok` holds the success envelope's `result`, if any.
    #[tracing::instrument(skip_all, fields(provider = "DADA", path = path))]
    async fn post<B: Serialize + ?Sized>(
        &self,
        path: &'static str,
        body: Option<&B>,
        source_id: &str,
    ) -> ProviderResult<Option<Value>> {
        instrument::observe(
            ProviderId::Dada,
            path,
            self.post_inner(path, body, source_id),
        )
        .await
    }

    async fn post_inner<B: Serialize + ?Sized>(
        &self,
        path: &'static str,
        body: Option<&B>,
        source_id: &str,
    ) -> ProviderResult<Option<Value>> {
        // Serialised once: the signature covers exactly this string and it is sent as is.
        let body = match body {
            None => String::new(),
            Some(b) => {
                serde_json::to_string(b).map_err(|e| protocol(format!("{path}: body ({e})")))?
            }
        };
        let timestamp = unix_seconds();
        let fields = sign::RequestFields {
            app_key: &self.app_key,
            body: &body,
            format: FORMAT,
            source_id,
            timestamp: &timestamp,
            v: VERSION,
        };
        let envelope = wire::Envelope {
            app_key: &self.app_key,
            body: &body,
            format: FORMAT,
            source_id,
            timestamp: &timestamp,
            v: VERSION,
            signature: sign::request_signature(self.app_secret.expose_secret(), &fields),
        };
        let payload = serde_json::to_vec(&envelope)
            .map_err(|e| protocol(format!("{path}: envelope ({e})")))?;
        let url = self
            .base
            .join(path.trim_start_matches('/'))
            .map_err(|e| protocol(format!("{path}: url ({e})")))?;
        let response = self
            .http
            .post(url)
            .header(header::CONTENT_TYPE, "application/json")
            .body(payload)
            .send()
            .await
            .map_err(|e| unavailable(&e))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| unavailable(&e))?;
        if status.is_server_error() {
            // Dada answered that it failed; it did nothing (the sandbox's injected 503 with
            // code -1 is this case too).
            return Err(ProviderError::Unavailable {
                provider: ProviderId::Dada,
                detail: format!("HTTP {status}"),
                outcome_unknown: false,
            });
        }
        let answer: wire::Answer = serde_json::from_slice(&bytes)
            .map_err(|e| protocol(format!("{path}: HTTP {status}, unreadable answer ({e})")))?;
        if answer.is_success() {
            return Ok(answer.result);
        }
        let Some(code) = answer.failure_code() else {
            return Err(protocol(format!(
                "{path}: HTTP {status}, neither success nor a failure code"
            )));
        };
        let message = answer.msg.unwrap_or_else(|| format!("Dada error {code}"));
        Err(match mapping::classify_error(code) {
            ErrorClass::Transient { outcome_unknown } => ProviderError::Unavailable {
                provider: ProviderId::Dada,
                detail: format!("code {code}: {message}"),
                outcome_unknown,
            },
            ErrorClass::Refused(kind) => ProviderError::Rejected {
                provider: ProviderId::Dada,
                kind,
                code: Some(code.to_string()),
                message,
            },
        })
    }
}

/// The envelope's `timestamp`: unix **seconds**, as a decimal string. The platform notes and
/// most SDKs give seconds (the official Java demo alone sends milliseconds); Dada is not known
/// to check skew, and the sandbox takes either, so seconds — the documented unit — it is.
fn unix_seconds() -> String {
    Utc::now().timestamp().to_string()
}

fn unavailable(e: &reqwest::Error) -> ProviderError {
    instrument::unavailable(ProviderId::Dada, e)
}

/// Dada's test-environment routes that play the courier and Dada's staff: each moves the order
/// and fires its status callback, which is how the callback path is exercised end to end.
pub struct Simulation<'a> {
    client: &'a DadaClient,
}

impl Simulation<'_> {
    async fn step(&self, path: &'static str, origin_id: &str) -> ProviderResult<()> {
        self.client
            .exec(
                path,
                Some(&wire::OrderId {
                    order_id: origin_id,
                }),
            )
            .await
    }

    /// `/api/order/accept`: a courier accepts (→ 2).
    pub async fn accept(&self, origin_id: &str) -> ProviderResult<()> {
        self.step("/api/order/accept", origin_id).await
    }

    /// `/api/order/fetch`: the courier picks up (→ 3; 2083 unless accepted).
    pub async fn fetch(&self, origin_id: &str) -> ProviderResult<()> {
        self.step("/api/order/fetch", origin_id).await
    }

    /// `/api/order/finish`: delivered (→ 4).
    pub async fn finish(&self, origin_id: &str) -> ProviderResult<()> {
        self.step("/api/order/finish", origin_id).await
    }

    /// `/api/order/cancel`: Dada's side cancels (→ 5).
    pub async fn cancel(&self, origin_id: &str, reason: &str) -> ProviderResult<()> {
        self.client
            .exec(
                "/api/order/cancel",
                Some(&wire::SimulateCancel {
                    order_id: origin_id,
                    reason,
                }),
            )
            .await
    }

    /// `/api/order/expire`: the order expires (→ 7).
    pub async fn expire(&self, origin_id: &str) -> ProviderResult<()> {
        self.step("/api/order/expire", origin_id).await
    }

    /// `/api/order/delivery/abnormal/back`: undeliverable, goods on the way back (→ 9).
    pub async fn abnormal_back(&self, origin_id: &str) -> ProviderResult<()> {
        self.step("/api/order/delivery/abnormal/back", origin_id)
            .await
    }
}
