//! What a courier network (Dada today, WeChat instant delivery next) offers the services:
//! quotes, dispatch, tips, cancellation with a penalty, courier details and the merchant's
//! stores and money. Types here are ours; each adapter translates its wire spelling into them.
//! Operations a network lacks keep the default body, which refuses with `Unsupported`.

use async_trait::async_trait;

use super::{ProviderError, ProviderResult, RejectKind};
pub use crate::domain::delivery::*;
use crate::domain::{Money, ProviderId};

/// One company's answer to a quote request.
#[derive(Clone, Debug)]
pub struct CompanyQuote {
    pub company: Company,
    pub quote: Result<DeliveryQuote, ProviderError>,
}

/// A courier network. Everything but the core dispatch operations is optional.
#[async_trait]
pub trait CourierNetwork: Send + Sync {
    fn id(&self) -> ProviderId;

    /// The platform's status code of a freshly published order.
    fn raw_status_published(&self) -> &'static str {
        "PUBLISHED"
    }
    /// The platform's status code of an order we cancelled.
    fn raw_status_cancelled(&self) -> &'static str {
        "CANCELLED"
    }
    /// The cancel reason that carries free text ("other").
    fn other_cancel_reason_id(&self) -> i64 {
        0
    }
    /// Whether news may move an order from raw status `from` to `to` when both are codes of
    /// one unified status. Some are reversible (Dada's 1 waiting ⇄ 8 appointed); where they
    /// are not, a stale read must not step back (WeChat's 301 after 202, never the reverse).
    fn raw_step_allowed(&self, _from: &str, _to: &str) -> bool {
        true
    }
    /// Whether every order needs the network's city code (Dada), or the city travels in the
    /// addresses (WeChat).
    fn needs_city_code(&self) -> bool {
        false
    }

    async fn quote(&self, request: &DeliveryRequest) -> ProviderResult<DeliveryQuote>;
    async fn dispatch(&self, request: &DeliveryRequest) -> ProviderResult<Dispatched>;
    /// Publishes a quote obtained by [`CourierNetwork::quote`]: by its token alone (Dada), or
    /// the quoted request with the token (WeChat).
    async fn dispatch_quote(
        &self,
        request: &DeliveryRequest,
        token: &str,
    ) -> ProviderResult<Dispatched>;
    /// Sends again an order the platform ended (cancelled, expired, returned).
    async fn redispatch(&self, request: &DeliveryRequest) -> ProviderResult<Dispatched>;
    /// Raises the tip to `total` (the new total tip, not an increment).
    async fn add_tip(
        &self,
        order: &OrderRef,
        total: Money,
        note: Option<&str>,
    ) -> ProviderResult<()>;
    async fn detail(&self, order: &OrderRef) -> ProviderResult<DeliveryDetail>;
    /// Cancels; returns the penalty the platform keeps.
    async fn cancel(&self, order: &OrderRef, reason_id: i64, reason: &str)
    -> ProviderResult<Money>;
    async fn cancel_reasons(&self) -> ProviderResult<Vec<Reason>>;

    /// Quotes with every company the merchant can use (or only `request.company`), one
    /// answer each so a client can compare; one company failing does not fail the others.
    async fn quote_all(&self, request: &DeliveryRequest) -> ProviderResult<Vec<CompanyQuote>> {
        // A network of one company: no company id to choose.
        let company = Company {
            id: String::new(),
            name: self.id().as_str().to_owned(),
        };
        Ok(vec![CompanyQuote {
            company,
            quote: self.quote(request).await,
        }])
    }
    /// The companies of a multi-company network (WeChat `getAllImmeDelivery`).
    async fn companies(&self) -> ProviderResult<Vec<Company>> {
        Err(unsupported(self.id(), "courier companies"))
    }
    /// Our accounts at those companies (WeChat `getBindAccount`).
    async fn bound_accounts(&self) -> ProviderResult<Vec<BoundAccount>> {
        Err(unsupported(self.id(), "bound accounts"))
    }
    /// Asks to bind our account at a company (WeChat `bindLocalAccount`).
    async fn bind_account(&self, _company_id: &str) -> ProviderResult<()> {
        Err(unsupported(self.id(), "binding accounts"))
    }
    /// Opens the delivery service for the mini-program (WeChat `openDelivery`).
    async fn open_service(&self) -> ProviderResult<()> {
        Err(unsupported(self.id(), "opening the service"))
    }
    /// How long after a courier accepts cancelling is still free (a network's published
    /// rule, or a company's contract); `None`: it may cost from the acceptance on. Races of
    /// automatic dispatch keep at most one attempt without such a window.
    fn free_cancel_window(&self, _company: Option<&str>) -> Option<std::time::Duration> {
        None
    }
    /// What cancelling would cost now.
    async fn preview_cancel(
        &self,
        _order: &OrderRef,
        _reason_id: i64,
        _reason: &str,
    ) -> ProviderResult<CancelPreview> {
        Err(unsupported(self.id(), "cancellation previews"))
    }

    /// Test environments only: asks the platform to move the order to `raw_status` as if
    /// the courier did (Dada's simulation endpoints, WeChat's `test_update_order`). The
    /// change arrives like any other, through the platform's callback or push.
    async fn simulate_status(&self, _order: &OrderRef, _raw_status: i64) -> ProviderResult<()> {
        Err(unsupported(self.id(), "simulated status changes"))
    }

    async fn confirm_returned_goods(&self, _order: &OrderRef) -> ProviderResult<()> {
        Err(unsupported(self.id(), "confirming returned goods"))
    }
    async fn appoint(&self, _order: &OrderRef, _courier_id: &str) -> ProviderResult<()> {
        Err(unsupported(self.id(), "appointing a courier"))
    }
    async fn cancel_appointment(&self, _order: &OrderRef) -> ProviderResult<()> {
        Err(unsupported(self.id(), "cancelling an appointment"))
    }
    async fn appointable_couriers(&self, _shop_no: &str) -> ProviderResult<Vec<Courier>> {
        Err(unsupported(self.id(), "listing appointable couriers"))
    }
    async fn complain(&self, _order: &OrderRef, _reason_id: i64) -> ProviderResult<()> {
        Err(unsupported(self.id(), "complaints"))
    }
    async fn complaint_reasons(&self) -> ProviderResult<Vec<Reason>> {
        Err(unsupported(self.id(), "complaints"))
    }
    async fn courier_positions(
        &self,
        _origin_ids: &[String],
    ) -> ProviderResult<Vec<CourierPosition>> {
        Err(unsupported(self.id(), "courier positions"))
    }
    async fn track_url(&self, _order: &OrderRef) -> ProviderResult<String> {
        Err(unsupported(self.id(), "track links"))
    }
    async fn cities(&self) -> ProviderResult<Vec<City>> {
        Err(unsupported(self.id(), "city codes"))
    }
    /// Opens a merchant account; returns its id at the platform (Dada `source_id`).
    async fn register_merchant(&self, _m: &MerchantRegistration) -> ProviderResult<String> {
        Err(unsupported(self.id(), "merchant registration"))
    }
    async fn add_stores(&self, _stores: &[Store]) -> ProviderResult<StoreBatch> {
        Err(unsupported(self.id(), "store registration"))
    }
    async fn update_store(&self, _update: &StoreUpdate) -> ProviderResult<()> {
        Err(unsupported(self.id(), "store updates"))
    }
    async fn store(&self, _shop_no: &str) -> ProviderResult<Store> {
        Err(unsupported(self.id(), "store details"))
    }
    /// Answers a courier's request to cancel (`accept` = let them cancel).
    async fn answer_courier_cancellation(
        &self,
        _order: &OrderRef,
        _platform_order_id: &str,
        _accept: bool,
    ) -> ProviderResult<()> {
        Err(unsupported(self.id(), "answering courier cancellations"))
    }
    async fn recharge_link(
        &self,
        _amount: Money,
        _channel: RechargeChannel,
        _notify_url: Option<&str>,
    ) -> ProviderResult<String> {
        Err(unsupported(self.id(), "recharge links"))
    }
    async fn balance(&self) -> ProviderResult<Balance> {
        Err(unsupported(self.id(), "balance queries"))
    }
}

/// The refusal of an operation the network does not offer.
pub fn unsupported(provider: ProviderId, what: &str) -> ProviderError {
    ProviderError::Rejected {
        provider,
        kind: RejectKind::Unsupported,
        code: None,
        message: format!("{provider} does not offer {what}"),
    }
}
