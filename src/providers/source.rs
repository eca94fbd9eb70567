//! Order sources: platforms that push orders to us (58 Daojia today) and want every change we
//! make reported back. The order service holds an `Arc<dyn OrderSource>`, not a platform's
//! client; the adapter turns these requests into the platform's own calls.

use async_trait::async_trait;

use super::ProviderResult;
use crate::domain::ProviderId;

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
}
