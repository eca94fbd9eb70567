//! What a courier network (Dada today, WeChat instant delivery next) offers the services:
//! quotes, dispatch, tips, cancellation with a penalty, courier details and the merchant's
//! stores and money. Types here are ours; each adapter translates its wire spelling into them.
//! Operations a network lacks keep the default body, which refuses with `Unsupported`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{ProviderError, ProviderResult, RejectKind};
use crate::domain::{GeoPoint, Money, OrderStatus, ProviderId};

/// A delivery to quote or dispatch. `origin_id` is our reference for the order at the
/// platform; callbacks name the order by it.
#[derive(Clone, Debug)]
pub struct DeliveryRequest {
    pub origin_id: String,
    /// The store's number at the platform.
    pub shop_no: String,
    pub city_code: String,
    /// Value of the goods.
    pub cargo_price: Money,
    pub cargo_weight_kg: rust_decimal::Decimal,
    /// Whether the courier pays the store for the goods (Dada `is_prepay`).
    pub prepaid: bool,
    pub receiver_name: String,
    pub receiver_address: String,
    pub receiver_phone: String,
    pub receiver_location: Option<GeoPoint>,
    /// Where the platform posts status callbacks for this order.
    pub callback_url: String,
    pub tips: Money,
    pub note: Option<String>,
    /// Publish later (Dada: at least 5 minutes ahead, at most 3 days).
    pub publish_at: Option<DateTime<Utc>>,
    /// On a network of several courier companies (WeChat): which one (`delivery_id`).
    pub company: Option<String>,
    /// The store that sends the goods, for networks that take the sender with each order
    /// (WeChat); Dada knows it from `shop_no`.
    pub sender: Option<Sender>,
    /// A quote's handle to dispatch with (WeChat `delivery_token`), when the network has one.
    pub quote_token: Option<String>,
}

/// An order as the network knows it: our reference and what else its calls need.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrderRef {
    pub origin_id: String,
    /// The courier company (WeChat `delivery_id`).
    pub company: Option<String>,
    /// The company's waybill number.
    pub waybill: Option<String>,
    /// The store's number at the company.
    pub shop_no: Option<String>,
    pub city_code: Option<String>,
}

impl OrderRef {
    pub fn new(origin_id: impl Into<String>) -> Self {
        Self {
            origin_id: origin_id.into(),
            ..Self::default()
        }
    }
}

/// Who sends the goods.
#[derive(Clone, Debug, PartialEq)]
pub struct Sender {
    pub name: String,
    pub phone: String,
    pub city: String,
    pub address: String,
    pub address_detail: String,
    pub location: Option<GeoPoint>,
}

/// A courier company reachable through a network (WeChat: SF 同城, 闪送, 美团配送, 达达 …).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Company {
    /// The network's id of it (WeChat `delivery_id`).
    pub id: String,
    pub name: String,
}

/// Our account at a courier company, as bound on the network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoundAccount {
    pub company_id: String,
    /// Our account id at the company (WeChat `shopid`, the company's appkey).
    pub shop_id: String,
    pub audit: AuditState,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditState {
    Passed,
    Reviewing,
    Rejected,
}

/// One company's answer to a quote request.
#[derive(Clone, Debug)]
pub struct CompanyQuote {
    pub company: Company,
    pub quote: Result<DeliveryQuote, ProviderError>,
}

/// What cancelling would cost, asked before cancelling.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CancelPreview {
    pub penalty: Money,
    pub description: Option<String>,
}

/// Fees as the platform computed them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeliveryFees {
    /// What the merchant pays (after coupons, including tips and insurance).
    pub fee: Money,
    /// Freight before coupons.
    pub delivery_fee: Money,
    pub coupon: Money,
    pub tips: Money,
    pub insurance: Money,
}

#[derive(Clone, Debug)]
pub struct DeliveryQuote {
    pub fees: DeliveryFees,
    pub distance_m: i64,
    /// The platform's handle to publish this quote (Dada `deliveryNo`, WeChat
    /// `delivery_token`); empty when the company gives none (the quote is then dispatched as a
    /// fresh order with the same request).
    pub token: String,
    /// When the handle stops working; None when there is no handle.
    pub expires_at: Option<DateTime<Utc>>,
    /// Expected minutes until a courier is found, when the company says.
    pub dispatch_minutes: Option<i64>,
}

#[derive(Clone, Debug)]
pub struct Dispatched {
    pub fees: DeliveryFees,
    pub distance_m: i64,
    /// The company's waybill number, when the answer carries it.
    pub waybill: Option<String>,
    /// The status the order starts in, when the answer carries it.
    pub raw_status: Option<String>,
    pub finish_code: Option<String>,
}

/// A courier as the platform describes it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Courier {
    pub id: Option<String>,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub position: Option<GeoPoint>,
}

/// Everything the platform tells about one delivery.
#[derive(Clone, Debug)]
pub struct DeliveryDetail {
    pub status: OrderStatus,
    pub raw_status: String,
    pub status_message: Option<String>,
    /// The company's waybill number, when the detail carries it.
    pub waybill: Option<String>,
    pub courier: Courier,
    pub fees: DeliveryFees,
    /// What the merchant pays now (after refunds).
    pub actual_fee: Option<Money>,
    pub penalty: Option<Money>,
    pub distance_m: Option<i64>,
    pub created_at: Option<DateTime<Utc>>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub fetched_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    /// The code the receiver gives the courier on delivery, when the platform uses one.
    pub finish_code: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reason {
    pub id: i64,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CourierPosition {
    pub origin_id: String,
    pub courier: Courier,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct City {
    pub name: String,
    pub code: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Balance {
    pub delivery: Option<Money>,
    pub red_packet: Option<Money>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RechargeChannel {
    Pc,
    H5,
}

/// A merchant account to open at the platform.
#[derive(Clone, Debug)]
pub struct MerchantRegistration {
    pub mobile: String,
    pub city_name: String,
    pub enterprise_name: String,
    pub enterprise_address: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub email: String,
}

/// One of our stores at the platform.
#[derive(Clone, Debug, PartialEq)]
pub struct Store {
    /// Our number for it at the platform (Dada `origin_shop_id`); the platform assigns one
    /// when it is empty on registration.
    pub shop_no: Option<String>,
    pub name: String,
    /// Business type code (Dada `business`, e.g. 1 food, 5 flowers …).
    pub business: i32,
    pub city_name: String,
    pub area_name: String,
    pub address: String,
    pub location: GeoPoint,
    pub contact_name: String,
    pub phone: String,
}

/// Changes to a store; `None` keeps the value.
#[derive(Clone, Debug, Default)]
pub struct StoreUpdate {
    pub shop_no: String,
    pub new_shop_no: Option<String>,
    pub name: Option<String>,
    pub business: Option<i32>,
    pub city_name: Option<String>,
    pub area_name: Option<String>,
    pub address: Option<String>,
    pub location: Option<GeoPoint>,
    pub contact_name: Option<String>,
    pub phone: Option<String>,
    /// Open (true) or closed (false) for orders.
    pub open: Option<bool>,
}

/// Result of a batch store registration: each store succeeds or fails on its own.
#[derive(Clone, Debug, Default)]
pub struct StoreBatch {
    pub added: Vec<Store>,
    pub failed: Vec<StoreFailure>,
}

#[derive(Clone, Debug)]
pub struct StoreFailure {
    pub shop_no: Option<String>,
    pub name: String,
    pub code: Option<String>,
    pub message: String,
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
