//! The delivery vocabulary every courier network is translated into: requests, quotes,
//! dispatch results, fees, couriers, stores and the merchant's money. Adapters produce these
//! from their wire types; services and the API read them. No platform spelling appears here.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::domain::{GeoPoint, Money, OrderStatus};

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

/// Who answers a courier's request to cancel when nobody calls the mutation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CourierCancelPolicy {
    /// Recorded and streamed; a person answers with `respondToCourierCancellation`.
    Manual,
    /// Agreed to at once, through the outbox.
    Accept,
    /// Refused at once, through the outbox.
    Reject,
}
