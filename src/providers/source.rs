//! Order sources: platforms that push orders to us (58 Daojia today) and want every change we
//! make reported back. The order service holds an `Arc<dyn OrderSource>`, not a platform's
//! client; the adapter turns these requests into the platform's own calls, and answers what
//! the platform's status codes mean and in which order it allows them. A pushed order reaches
//! the service as a [`PushedOrder`], already verified and parsed by the adapter's callback.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::ProviderResult;
use crate::domain::{GeoPoint, Money, OrderStatus, ProviderId};

/// One line of a pushed order.
#[derive(Debug, Clone, PartialEq)]
pub struct PushedLine {
    pub goods_id: String,
    pub quantity: i32,
    pub unit_price: Money,
}

/// An order a platform pushed to us, checked by the platform's callback.
#[derive(Debug, Clone, PartialEq)]
pub struct PushedOrder {
    /// The platform's order id (58's is a long above 2^53: kept exact).
    pub order_id: i64,
    /// The platform's status code for the order as pushed (its first status).
    pub status_code: i64,
    pub user_mobile: String,
    pub city_name: String,
    pub location: Option<GeoPoint>,
    pub service_address: String,
    pub service_begin: DateTime<Utc>,
    pub service_end: Option<DateTime<Utc>>,
    pub total: Money,
    pub remark: Option<String>,
    /// The technician the customer chose, when any (an id we registered).
    pub service_user_id: Option<String>,
    pub lines: Vec<PushedLine>,
}

/// The steps our staff take an order pushed to us through; the platform numbers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceStep {
    Accept,
    RequestPayment,
    ConfirmPayment,
    StartService,
    Complete,
    Cancel,
}

/// An order's status (and technician) as we now have it, to report to the platform that
/// pushed the order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusSync {
    /// The platform's order id.
    pub platform_order_id: i64,
    /// Our reference for the order, which the platform keeps beside its own.
    pub our_ref: String,
    /// The platform's own status code for the new status.
    pub status_code: i64,
    pub technician_name: Option<String>,
    pub technician_phone: Option<String>,
}

/// One of our technicians, to register (or update) with the platform.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TechnicianProfile {
    /// Our id for the technician, which the platform keys on.
    pub external_id: String,
    pub name: String,
    pub phone: String,
    pub age: Option<i32>,
    /// True male, false female, None not given.
    pub male: Option<bool>,
    pub remark: String,
}

/// A platform that pushes orders to us. A refusal (`ProviderError::Rejected`) will not change
/// on retry; anything else may.
#[async_trait]
pub trait OrderSource: Send + Sync {
    fn id(&self) -> ProviderId;
    /// Reports an order's status (and technician) change.
    async fn sync_status(&self, sync: &StatusSync) -> ProviderResult<()>;
    /// Registers or updates a technician.
    async fn register_technician(&self, technician: &TechnicianProfile) -> ProviderResult<()>;

    // The platform's status table and sequences: pure, no call.

    /// The platform's status code for `step`.
    fn step_code(&self, step: SourceStep) -> i64;
    /// Whether the platform allows `next` after the codes the order went through (oldest
    /// first).
    fn allows(&self, history: &[i64], next: i64) -> bool;
    /// Why `next` is refused after `from`, in words a caller can show.
    fn refusal(&self, from: i64, next: i64) -> String;
    /// The code's label.
    fn describe(&self, code: i64) -> &'static str;
    /// The unified status after `code`, given the current one.
    fn unified(&self, code: i64, current: OrderStatus) -> Option<OrderStatus>;
}
