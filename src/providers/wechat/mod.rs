//! 微信小程序即时配送 WeChat instant delivery: a network of courier companies (SF 同城, 闪送,
//! 美团配送, 达达 … and the test company `TEST`) reached through the mini-program's WeChat
//! account. We quote with every company we hold an account at, dispatch to one, follow the
//! order by WeChat's `update_waybill_status` pushes (and by polling `order/get`), tip, cancel
//! with the company's penalty and confirm returned goods.
//!
//! Two kinds of credentials meet here: the mini-program's appid and secret buy the
//! access_token every call carries ([`token`]); each company account's appkey (`shopid`) and
//! AppSecret sign every order call (`delivery_sign`, [`sign`]). Pushes are checked with the
//! message-push Token and, in safe mode, decrypted with the EncodingAESKey ([`crypto`],
//! [`callback`]).
//!
//! The files are the same as every adapter's: [`sign`] (with the published vectors), [`wire`]
//! (WeChat's spelling), [`client`] (the calls and their two result layers), [`mapping`] (the
//! status, error-code and cancel-reason tables and every wire ⇄ domain conversion) and
//! [`callback`] (reading, verifying and answering pushes); [`crypto`] and [`token`] are
//! WeChat's own. [`WechatAdapter`] puts them behind [`CourierNetwork`].

pub mod callback;
pub mod client;
pub mod crypto;
pub mod mapping;
mod settings;
pub mod sign;
pub mod status;
pub mod token;
pub mod wire;

#[cfg(test)]
mod tests;

use std::{collections::HashMap, time::Duration};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};

pub use self::callback::PushConfig;
use self::client::WechatClient;
use crate::{
    domain::{Money, ProviderId},
    providers::{
        Capability, ProviderInfo, ProviderResult, ProviderRole,
        delivery::{
            BoundAccount, CancelPreview, Company, CompanyQuote, CourierNetwork, DeliveryDetail,
            DeliveryQuote, DeliveryRequest, Dispatched, OrderRef, Reason,
        },
    },
};

/// How to reach WeChat and as whom.
#[derive(Clone, Debug)]
pub struct WechatSettings {
    /// `https://api.weixin.qq.com`, or a sandbox's address.
    pub base_url: String,
    /// The mini-program's appid.
    pub appid: String,
    /// The mini-program's AppSecret, for the access_token.
    pub secret: SecretString,
    /// The message-push Token.
    pub token: SecretString,
    /// The message-push EncodingAESKey (43 characters).
    pub encoding_aes_key: SecretString,
    /// Whether pushes come in safe mode (encrypted), which instant delivery requires.
    pub safe_mode: bool,
    /// The openid sent with orders (our requests carry no user's).
    pub openid: String,
    /// Our accounts at the delivery companies.
    pub companies: Vec<CompanyAccount>,
    /// Per call, connecting included.
    pub timeout: Duration,
}

/// Our account at one delivery company, as bound on WeChat.
#[derive(Clone, Debug)]
pub struct CompanyAccount {
    /// WeChat's id of the company (`SFTC`, `SS`, `MTPS`, `DADA`, `TEST` …).
    pub delivery_id: String,
    /// Our account there: the company's appkey (`test_shop_id` for `TEST`).
    pub shopid: String,
    /// The company's AppSecret for that appkey, which signs our order calls.
    pub app_secret: SecretString,
    /// How long after a rider is assigned cancelling is still free (our contract with the
    /// company); `None`: it costs from the assignment on.
    pub free_cancel_window: Option<Duration>,
}

/// WeChat instant delivery behind [`CourierNetwork`].
#[derive(Debug)]
pub struct WechatAdapter {
    client: WechatClient,
    openid: String,
    companies: Vec<CompanyAccount>,
    push: PushConfig,
    timeout: Duration,
}

/// The remark sent with `order/confirm_return`.
const RETURN_REMARK: &str = "商家已收到退回的货品";

impl WechatAdapter {
    pub fn new(settings: WechatSettings) -> Result<Self, String> {
        if settings.appid.trim().is_empty() {
            return Err("wechat appid is empty".into());
        }
        if settings.safe_mode {
            crypto::AesKey::from_encoding_key(settings.encoding_aes_key.expose_secret())
                .map_err(|e| format!("wechat encoding_aes_key: {e}"))?;
        }
        let mut seen = HashMap::new();
        for account in &settings.companies {
            if account.delivery_id.trim().is_empty() || account.shopid.trim().is_empty() {
                return Err("wechat company account with an empty delivery_id or shopid".into());
            }
            if seen.insert(account.delivery_id.as_str(), ()).is_some() {
                return Err(format!(
                    "wechat company {:?} is configured twice",
                    account.delivery_id
                ));
            }
        }
        Ok(Self {
            client: WechatClient::new(&settings)?,
            push: PushConfig {
                token: settings.token.clone(),
                aes_key: settings.encoding_aes_key.clone(),
                appid: settings.appid.clone(),
                safe_mode: settings.safe_mode,
            },
            openid: settings.openid,
            companies: settings.companies,
            timeout: settings.timeout,
        })
    }

    /// The client, for what the trait does not cover.
    pub fn client(&self) -> &WechatClient {
        &self.client
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// What the push route needs: Token, EncodingAESKey, appid and mode.
    pub fn push_config(&self) -> PushConfig {
        self.push.clone()
    }

    pub fn info(enabled: bool, sandbox: bool) -> ProviderInfo {
        ProviderInfo {
            id: ProviderId::Wechat,
            name: "微信即时配送 WeChat",
            role: ProviderRole::CourierNetwork,
            capabilities: vec![
                Capability::QuoteDelivery,
                Capability::DispatchDelivery,
                Capability::CancelOrder,
                Capability::AddTip,
                Capability::ConfirmReturnedGoods,
                Capability::TrackCourier,
                Capability::TrackStatusByPolling,
                Capability::ReceiveStatusCallbacks,
                Capability::PreviewCancellation,
                Capability::CourierCompanies,
            ],
            enabled,
            sandbox,
        }
    }

    /// `test_update_order`: moves an order of the test company `TEST` to `status` (sandbox
    /// only; WeChat answers 930561 for other companies).
    pub async fn mock_update(
        &self,
        order: &OrderRef,
        status: i64,
        action_time: DateTime<Utc>,
        msg: &str,
    ) -> ProviderResult<()> {
        let account = self.order_account(order)?;
        self.client
            .mock_update(&wire::MockUpdate {
                key: self.order_key(account, order),
                action_time: action_time.timestamp(),
                order_status: status,
                action_msg: msg,
            })
            .await
    }

    /// The account of a company named by a request; a request must name it.
    fn request_account(&self, company: Option<&str>) -> ProviderResult<&CompanyAccount> {
        let company = company
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .ok_or_else(|| {
                mapping::invalid(
                    "WeChat needs the courier company (delivery_id) to send an order with",
                )
            })?;
        self.companies
            .iter()
            .find(|a| a.delivery_id == company)
            .ok_or_else(|| {
                mapping::invalid(format!(
                    "no WeChat account is configured for courier company {company:?}"
                ))
            })
    }

    /// The account of an existing order: its company, or the only one configured.
    fn order_account(&self, order: &OrderRef) -> ProviderResult<&CompanyAccount> {
        match (order.company.as_deref(), self.companies.as_slice()) {
            (None, [only]) => Ok(only),
            (company, _) => self.request_account(company),
        }
    }

    fn key<'a>(
        &'a self,
        account: &'a CompanyAccount,
        shop_order_id: &'a str,
        shop_no: &'a str,
    ) -> wire::OrderKey<'a> {
        wire::OrderKey {
            shopid: &account.shopid,
            shop_order_id,
            shop_no,
            delivery_id: &account.delivery_id,
            openid: &self.openid,
            delivery_sign: sign::delivery_sign(
                &account.shopid,
                Some(shop_order_id),
                account.app_secret.expose_secret(),
            ),
        }
    }

    fn order_key<'a>(
        &'a self,
        account: &'a CompanyAccount,
        order: &'a OrderRef,
    ) -> wire::OrderKey<'a> {
        self.key(
            account,
            &order.origin_id,
            order.shop_no.as_deref().unwrap_or_default(),
        )
    }

    async fn quote_with(
        &self,
        request: &DeliveryRequest,
        account: &CompanyAccount,
    ) -> ProviderResult<DeliveryQuote> {
        let key = self.key(account, &request.origin_id, &request.shop_no);
        let body = mapping::order_body(request, key, None)?;
        let result = self.client.pre_add(&body).await?;
        // Valid 3 minutes (Dada) from our receipt of the answer, as close to the company's own
        // start as we can see.
        mapping::quote(&result, Utc::now())
    }

    async fn send(
        &self,
        request: &DeliveryRequest,
        token: Option<&str>,
        again: bool,
    ) -> ProviderResult<Dispatched> {
        let account = self.request_account(request.company.as_deref())?;
        let key = self.key(account, &request.origin_id, &request.shop_no);
        let body = mapping::order_body(request, key, token)?;
        let result = if again {
            self.client.readd(&body).await?
        } else {
            self.client.add(&body).await?
        };
        mapping::dispatched(&result)
    }

    fn cancel_body<'a>(
        &'a self,
        account: &'a CompanyAccount,
        order: &'a OrderRef,
        reason_id: i64,
        reason: &'a str,
    ) -> wire::CancelOrder<'a> {
        wire::CancelOrder {
            key: self.order_key(account, order),
            waybill_id: order.waybill.as_deref().filter(|w| !w.is_empty()),
            cancel_reason_id: reason_id,
            cancel_reason: reason,
        }
    }
}

#[async_trait]
impl CourierNetwork for WechatAdapter {
    fn raw_step_allowed(&self, from: &str, to: &str) -> bool {
        mapping::moves_forward(from, to)
    }

    async fn simulate_status(&self, order: &OrderRef, raw_status: i64) -> ProviderResult<()> {
        if mapping::status(raw_status).is_none() {
            return Err(mapping::invalid(format!(
                "{raw_status} is not a WeChat order status"
            )));
        }
        self.mock_update(order, raw_status, chrono::Utc::now(), "simulated")
            .await
    }

    fn free_cancel_window(&self, company: Option<&str>) -> Option<Duration> {
        let company = company?;
        self.companies
            .iter()
            .find(|a| a.delivery_id == company)
            .and_then(|a| a.free_cancel_window)
    }

    fn id(&self) -> ProviderId {
        ProviderId::Wechat
    }

    fn raw_status_published(&self) -> &'static str {
        mapping::PUBLISHED
    }

    fn raw_status_cancelled(&self) -> &'static str {
        mapping::CANCELLED
    }

    fn other_cancel_reason_id(&self) -> i64 {
        mapping::OTHER_CANCEL_REASON
    }

    async fn quote(&self, request: &DeliveryRequest) -> ProviderResult<DeliveryQuote> {
        let account = self.request_account(request.company.as_deref())?;
        self.quote_with(request, account).await
    }

    async fn quote_all(&self, request: &DeliveryRequest) -> ProviderResult<Vec<CompanyQuote>> {
        // One company when the request names one (refused in its own entry if we hold no
        // account there), else every company we hold an account at.
        let accounts: Vec<Result<&CompanyAccount, (String, _)>> = match request
            .company
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            Some(company) => vec![
                self.request_account(Some(company))
                    .map_err(|e| (company.to_owned(), e)),
            ],
            None => self.companies.iter().map(Ok).collect(),
        };
        if accounts.is_empty() {
            return Ok(Vec::new());
        }
        let quotes = futures::future::join_all(accounts.into_iter().map(|account| async move {
            match account {
                Ok(account) => (
                    account.delivery_id.clone(),
                    self.quote_with(request, account).await,
                ),
                Err((company, e)) => (company, Err(e)),
            }
        }));
        // The companies' names, asked alongside; without them the ids stand in.
        let (quotes, names) = futures::join!(quotes, self.client.companies());
        let names: HashMap<String, String> = match names {
            Ok(list) => list
                .list
                .into_iter()
                .map(mapping::company)
                .map(|c| (c.id, c.name))
                .collect(),
            Err(e) => {
                tracing::info!(error = %e, "wechat delivery/getall failed; quoting with ids only");
                HashMap::new()
            }
        };
        Ok(quotes
            .into_iter()
            .map(|(id, quote)| CompanyQuote {
                company: Company {
                    name: names.get(&id).cloned().unwrap_or_else(|| id.clone()),
                    id,
                },
                quote,
            })
            .collect())
    }

    async fn dispatch(&self, request: &DeliveryRequest) -> ProviderResult<Dispatched> {
        self.send(request, None, false).await
    }

    async fn dispatch_quote(
        &self,
        request: &DeliveryRequest,
        token: &str,
    ) -> ProviderResult<Dispatched> {
        // An empty token (a company that gives none) sends the quoted request as a fresh order.
        self.send(request, Some(token), false).await
    }

    async fn redispatch(&self, request: &DeliveryRequest) -> ProviderResult<Dispatched> {
        self.send(request, None, true).await
    }

    async fn add_tip(
        &self,
        order: &OrderRef,
        total: Money,
        note: Option<&str>,
    ) -> ProviderResult<()> {
        let account = self.order_account(order)?;
        let waybill = order
            .waybill
            .as_deref()
            .filter(|w| !w.is_empty())
            .ok_or_else(|| mapping::invalid("WeChat needs the order's waybill id to add a tip"))?;
        self.client
            .add_tips(&wire::AddTips {
                key: self.order_key(account, order),
                waybill_id: waybill,
                tips: wire::JsonDecimal(total.to_yuan()),
                remark: note.unwrap_or_default(),
            })
            .await
    }

    async fn detail(&self, order: &OrderRef) -> ProviderResult<DeliveryDetail> {
        let account = self.order_account(order)?;
        let result = self
            .client
            .get_order(&wire::GetOrder {
                key: self.order_key(account, order),
            })
            .await?;
        mapping::detail(result)
    }

    async fn cancel(
        &self,
        order: &OrderRef,
        reason_id: i64,
        reason: &str,
    ) -> ProviderResult<Money> {
        let account = self.order_account(order)?;
        let text = mapping::cancel_reason_text(reason_id, reason)?;
        let result = self
            .client
            .cancel(&self.cancel_body(account, order, reason_id, &text))
            .await?;
        mapping::money(result.deduct_fee, "deduct_fee")
    }

    async fn preview_cancel(
        &self,
        order: &OrderRef,
        reason_id: i64,
        reason: &str,
    ) -> ProviderResult<CancelPreview> {
        let account = self.order_account(order)?;
        let text = mapping::cancel_reason_text(reason_id, reason)?;
        let result = self
            .client
            .pre_cancel(&self.cancel_body(account, order, reason_id, &text))
            .await?;
        mapping::cancel_preview(&result)
    }

    async fn cancel_reasons(&self) -> ProviderResult<Vec<Reason>> {
        Ok(mapping::cancel_reasons())
    }

    async fn confirm_returned_goods(&self, order: &OrderRef) -> ProviderResult<()> {
        let account = self.order_account(order)?;
        self.client
            .confirm_return(&wire::ConfirmReturn {
                key: self.order_key(account, order),
                waybill_id: order.waybill.as_deref().filter(|w| !w.is_empty()),
                remark: RETURN_REMARK,
            })
            .await
    }

    async fn companies(&self) -> ProviderResult<Vec<Company>> {
        Ok(self
            .client
            .companies()
            .await?
            .list
            .into_iter()
            .map(mapping::company)
            .collect())
    }

    async fn bound_accounts(&self) -> ProviderResult<Vec<BoundAccount>> {
        self.client
            .bound_shops()
            .await?
            .shop_list
            .into_iter()
            .map(mapping::bound_account)
            .collect()
    }

    async fn bind_account(&self, company_id: &str) -> ProviderResult<()> {
        self.client.bind_account(company_id).await
    }

    async fn open_service(&self) -> ProviderResult<()> {
        self.client.open().await
    }
}
