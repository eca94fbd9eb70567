//! 达达 Dada: the courier network we dispatch deliveries through. We quote and publish orders
//! for our own stores, follow them by status callbacks (and by polling `status/query`), cancel
//! them with Dada's penalty, and manage the merchant side — stores, balance, recharge links.
//!
//! The files are the same as every adapter's: [`sign`] (both signatures, with the published
//! vectors), [`wire`] (Dada's spelling), [`client`] (the signed calls and their error rules),
//! [`mapping`] (the status and error-code tables and every wire ⇄ domain conversion) and
//! [`callback`] (reading and verifying what Dada pushes to us). [`DadaAdapter`] puts them
//! behind [`CourierNetwork`].

pub mod callback;
pub mod client;
pub mod mapping;
mod settings;
pub mod sign;
pub mod status;
pub mod wire;

#[cfg(all(test, feature = "sandbox"))]
mod tests;

use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use secrecy::SecretString;

use self::client::DadaClient;
use crate::{
    domain::{Money, ProviderId},
    providers::{
        Capability, ProviderInfo, ProviderResult, ProviderRole,
        delivery::{
            Balance, City, Courier, CourierNetwork, CourierPosition, DeliveryDetail, DeliveryQuote,
            DeliveryRequest, Dispatched, MerchantRegistration, OrderRef, Reason, RechargeChannel,
            Store, StoreBatch, StoreUpdate,
        },
    },
};

/// How to reach Dada and as whom.
#[derive(Clone, Debug)]
pub struct DadaSettings {
    /// `https://newopen.imdada.cn`, the test host, or a sandbox's address.
    pub base_url: String,
    pub app_key: String,
    pub app_secret: SecretString,
    /// The merchant we act for (`73753` in Dada's test environment).
    pub source_id: String,
    /// Per call, connecting included.
    pub timeout: Duration,
}

/// Dada behind [`CourierNetwork`].
#[derive(Debug)]
pub struct DadaAdapter {
    client: DadaClient,
    timeout: Duration,
    tokens: callback::CallbackTokens,
}

/// `messageType` of a courier's cancel request and of our answer to it.
const COURIER_CANCEL_MESSAGE: i64 = 1;
/// `/api/balance/query` category for both accounts.
const BOTH_ACCOUNTS: i64 = 3;

impl DadaAdapter {
    pub fn new(settings: DadaSettings) -> Result<Self, String> {
        Ok(Self {
            client: DadaClient::new(&settings)?,
            timeout: settings.timeout,
            tokens: callback::CallbackTokens::new(settings.app_secret.clone()),
        })
    }

    /// The tokens of the orders' callback URLs, for the route that receives them.
    pub fn callback_tokens(&self) -> callback::CallbackTokens {
        self.tokens.clone()
    }

    /// The request with the order's own callback URL: the configured one plus the order's
    /// token as its last segment.
    fn with_callback_token(&self, request: &DeliveryRequest) -> DeliveryRequest {
        let mut r = request.clone();
        if !r.callback_url.is_empty() {
            r.callback_url = format!(
                "{}/{}",
                r.callback_url.trim_end_matches('/'),
                self.tokens.token(&r.origin_id)
            );
        }
        r
    }

    /// The client, for what the trait does not cover (the test environment's simulations).
    pub fn client(&self) -> &DadaClient {
        &self.client
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    pub fn info(enabled: bool, sandbox: bool) -> ProviderInfo {
        ProviderInfo {
            id: ProviderId::Dada,
            name: "达达 Dada",
            role: ProviderRole::CourierNetwork,
            capabilities: vec![
                Capability::QuoteDelivery,
                Capability::DispatchDelivery,
                Capability::CancelOrder,
                Capability::AddTip,
                Capability::AppointCourier,
                Capability::ComplainAboutCourier,
                Capability::ConfirmReturnedGoods,
                Capability::TrackCourier,
                Capability::TrackStatusByPolling,
                Capability::ReceiveStatusCallbacks,
                Capability::AnswerCourierCancellation,
                Capability::ManageStores,
                Capability::ListCities,
                Capability::MerchantBalance,
            ],
            enabled,
            sandbox,
        }
    }
}

#[async_trait]
impl CourierNetwork for DadaAdapter {
    async fn simulate_status(&self, order: &OrderRef, raw_status: i64) -> ProviderResult<()> {
        let sim = self.client.simulate();
        let id = order.origin_id.as_str();
        // Dada's test environment has one endpoint per move it can simulate.
        match raw_status {
            2 => sim.accept(id).await,
            3 => sim.fetch(id).await,
            4 => sim.finish(id).await,
            5 => sim.cancel(id, "simulated").await,
            7 => sim.expire(id).await,
            9 => sim.abnormal_back(id).await,
            other => Err(mapping::invalid(format!(
                "Dada's test environment simulates statuses 2, 3, 4, 5, 7 and 9, not {other}"
            ))),
        }
    }

    fn free_cancel_window(&self, _company: Option<&str>) -> Option<Duration> {
        Some(status::FREE_CANCEL_AFTER_ACCEPT)
    }

    fn id(&self) -> ProviderId {
        ProviderId::Dada
    }

    fn raw_status_published(&self) -> &'static str {
        mapping::WAITING
    }

    fn raw_status_cancelled(&self) -> &'static str {
        mapping::CANCELLED
    }

    fn other_cancel_reason_id(&self) -> i64 {
        mapping::OTHER_CANCEL_REASON
    }

    fn needs_city_code(&self) -> bool {
        true
    }

    async fn quote(&self, request: &DeliveryRequest) -> ProviderResult<DeliveryQuote> {
        let result = self
            .client
            .query_deliver_fee(&mapping::order_body(&self.with_callback_token(request)))
            .await?;
        // Valid 3 minutes from our receipt of the answer, which is as close to Dada's own start
        // as we can see.
        mapping::quote(&result, Utc::now())
    }

    async fn dispatch(&self, request: &DeliveryRequest) -> ProviderResult<Dispatched> {
        let request = self.with_callback_token(request);
        mapping::dispatched(
            &self
                .client
                .add_order(&mapping::order_body(&request))
                .await?,
        )
    }

    async fn dispatch_quote(
        &self,
        _request: &DeliveryRequest,
        token: &str,
    ) -> ProviderResult<Dispatched> {
        mapping::dispatched(&self.client.add_after_query(token).await?)
    }

    async fn redispatch(&self, request: &DeliveryRequest) -> ProviderResult<Dispatched> {
        mapping::dispatched(
            &self
                .client
                .re_add_order(&mapping::order_body(&self.with_callback_token(request)))
                .await?,
        )
    }

    async fn add_tip(
        &self,
        order: &OrderRef,
        total: Money,
        note: Option<&str>,
    ) -> ProviderResult<()> {
        self.client
            .add_tip(&wire::AddTip {
                order_id: &order.origin_id,
                tips: wire::JsonDecimal(total.to_yuan()),
                city_code: order.city_code.as_deref().unwrap_or_default(),
                info: note.filter(|n| !n.is_empty()),
            })
            .await
    }

    async fn detail(&self, order: &OrderRef) -> ProviderResult<DeliveryDetail> {
        mapping::detail(self.client.status_query(&order.origin_id).await?)
    }

    async fn cancel(
        &self,
        order: &OrderRef,
        reason_id: i64,
        reason: &str,
    ) -> ProviderResult<Money> {
        let result = self
            .client
            .formal_cancel(&wire::FormalCancel {
                order_id: &order.origin_id,
                cancel_reason_id: reason_id,
                cancel_reason: reason,
            })
            .await?;
        mapping::money(result.deduct_fee, "deduct_fee")
    }

    async fn cancel_reasons(&self) -> ProviderResult<Vec<Reason>> {
        Ok(self
            .client
            .cancel_reasons()
            .await?
            .into_iter()
            .map(mapping::reason)
            .collect())
    }

    async fn confirm_returned_goods(&self, order: &OrderRef) -> ProviderResult<()> {
        self.client.confirm_goods(&order.origin_id).await
    }

    async fn appoint(&self, order: &OrderRef, courier_id: &str) -> ProviderResult<()> {
        // Dada's courier ids are integers; anything else could only be refused.
        let transporter_id = courier_id.trim().parse::<i64>().map_err(|_| {
            mapping::invalid(format!(
                "courier id {courier_id:?} is not a Dada courier id"
            ))
        })?;
        self.client
            .appoint(&wire::Appoint {
                order_id: &order.origin_id,
                transporter_id,
                shop_no: order.shop_no.as_deref().unwrap_or_default(),
            })
            .await
    }

    async fn cancel_appointment(&self, order: &OrderRef) -> ProviderResult<()> {
        self.client.cancel_appointment(&order.origin_id).await
    }

    async fn appointable_couriers(&self, shop_no: &str) -> ProviderResult<Vec<Courier>> {
        Ok(self
            .client
            .appointable_transporters(shop_no)
            .await?
            .into_iter()
            .map(mapping::transporter)
            .collect())
    }

    async fn complain(&self, order: &OrderRef, reason_id: i64) -> ProviderResult<()> {
        self.client
            .complain(&wire::Complaint {
                order_id: &order.origin_id,
                reason_id,
            })
            .await
    }

    async fn complaint_reasons(&self) -> ProviderResult<Vec<Reason>> {
        Ok(self
            .client
            .complaint_reasons()
            .await?
            .into_iter()
            .map(mapping::reason)
            .collect())
    }

    async fn courier_positions(
        &self,
        origin_ids: &[String],
    ) -> ProviderResult<Vec<CourierPosition>> {
        Ok(self
            .client
            .transporter_positions(origin_ids)
            .await?
            .into_iter()
            .map(mapping::courier_position)
            .collect())
    }

    async fn track_url(&self, order: &OrderRef) -> ProviderResult<String> {
        self.client
            .track(&order.origin_id)
            .await?
            .track_url
            .ok_or_else(|| mapping::protocol("transporter/track answered no trackUrl"))
    }

    async fn cities(&self) -> ProviderResult<Vec<City>> {
        Ok(self
            .client
            .cities()
            .await?
            .into_iter()
            .map(mapping::city)
            .collect())
    }

    async fn register_merchant(&self, m: &MerchantRegistration) -> ProviderResult<String> {
        self.client
            .merchant_add(&wire::MerchantAdd {
                mobile: &m.mobile,
                city_name: &m.city_name,
                enterprise_name: &m.enterprise_name,
                enterprise_address: &m.enterprise_address,
                contact_name: &m.contact_name,
                contact_phone: &m.contact_phone,
                email: &m.email,
            })
            .await
    }

    async fn add_stores(&self, stores: &[Store]) -> ProviderResult<StoreBatch> {
        // Dada refuses an empty batch; an empty import simply adds nothing.
        if stores.is_empty() {
            return Ok(StoreBatch::default());
        }
        let body: Vec<wire::ShopAdd<'_>> = stores
            .iter()
            .map(|s| wire::ShopAdd {
                station_name: &s.name,
                business: s.business,
                city_name: &s.city_name,
                area_name: &s.area_name,
                station_address: &s.address,
                lng: s.location.lng,
                lat: s.location.lat,
                contact_name: &s.contact_name,
                phone: &s.phone,
                origin_shop_id: s.shop_no.as_deref().filter(|n| !n.is_empty()),
            })
            .collect();
        let result = self.client.shop_add(&body).await?;
        Ok(StoreBatch {
            added: result
                .success_list
                .into_iter()
                .map(|a| mapping::store_added(a, stores))
                .collect::<ProviderResult<_>>()?,
            failed: result
                .failed_list
                .into_iter()
                .map(mapping::store_failure)
                .collect(),
        })
    }

    async fn update_store(&self, u: &StoreUpdate) -> ProviderResult<()> {
        self.client
            .shop_update(&wire::ShopUpdate {
                origin_shop_id: &u.shop_no,
                new_shop_id: u.new_shop_no.as_deref(),
                station_name: u.name.as_deref(),
                business: u.business,
                city_name: u.city_name.as_deref(),
                area_name: u.area_name.as_deref(),
                station_address: u.address.as_deref(),
                lng: u.location.map(|p| p.lng),
                lat: u.location.map(|p| p.lat),
                contact_name: u.contact_name.as_deref(),
                phone: u.phone.as_deref(),
                status: u.open.map(u8::from),
            })
            .await
    }

    async fn store(&self, shop_no: &str) -> ProviderResult<Store> {
        mapping::store(self.client.shop_detail(shop_no).await?)
    }

    async fn answer_courier_cancellation(
        &self,
        order: &OrderRef,
        platform_order_id: &str,
        accept: bool,
    ) -> ProviderResult<()> {
        let id = platform_order_id.trim();
        // Dada's waybill number is a long: sent as a number when it reads as one, left out when
        // we do not know it (it is optional).
        let dada_order_id = (!id.is_empty()).then(|| {
            id.parse::<i64>()
                .map_or_else(|_| serde_json::Value::from(id), serde_json::Value::from)
        });
        let message_body = serde_json::to_string(&wire::CourierCancelAnswer {
            order_id: &order.origin_id,
            dada_order_id,
            is_confirm: u8::from(accept),
        })
        .map_err(|e| mapping::protocol(format!("messageBody: {e}")))?;
        self.client
            .message_confirm(&wire::MessageConfirm {
                message_type: COURIER_CANCEL_MESSAGE,
                message_body,
            })
            .await
    }

    async fn recharge_link(
        &self,
        amount: Money,
        channel: RechargeChannel,
        notify_url: Option<&str>,
    ) -> ProviderResult<String> {
        self.client
            .recharge(&wire::Recharge {
                amount: wire::JsonDecimal(amount.to_yuan()),
                category: match channel {
                    RechargeChannel::Pc => "PC",
                    RechargeChannel::H5 => "H5",
                },
                notify_url: notify_url.filter(|u| !u.is_empty()),
            })
            .await
    }

    async fn balance(&self) -> ProviderResult<Balance> {
        mapping::balance(self.client.balance(BOTH_ACCOUNTS).await?)
    }
}
