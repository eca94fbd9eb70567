//! 58到家 58 Daojia: an order source. 58 pushes service orders to our intake route
//! ([`callback`] reads and verifies them); we work them and sync every status change back with
//! `order/updateOrderDetail` ([`client`]), through the outbox so none is lost or sent twice.
//! Technicians are registered with `serviceUser/saveServiceUser`.
//!
//! Much of 58's wire is not public. Every assumption the code makes is listed in
//! [`ASSUMPTIONS`] (and in the README), in one place.

pub mod callback;
pub mod client;
pub mod mapping;
mod settings;
pub mod sign;
pub mod status;
pub mod wire;

/// The intake was renamed `callback`, as on every platform; the old path still works.
pub use self::callback as intake;

use std::time::Duration;

use async_trait::async_trait;
use secrecy::SecretString;

use self::client::Daojia58Client;
use crate::{
    domain::{OrderStatus, ProviderId},
    providers::{
        Capability, OrderSource, ProviderInfo, ProviderResult, ProviderRole, SourceStep,
        StatusSync, TechnicianProfile,
    },
};

/// What our code assumes where 58 publishes nothing.
pub const ASSUMPTIONS: &[&str] = &[
    "access token: 58 assigns it with the serviceKey and serviceSecret; how is not public, so it is configured (`daojia58.access_token`) and sent as is",
    "updateOrderDetail answers HTTP 200 with {code, msg, data}: code 0 is success, any other code a refusal that will not change on retry; 5xx, timeouts and unreadable answers are transient and retried",
    "our calls are form-encoded POSTs of the system parameters (accessToken, serviceKey, format=json, timestamp, daojiaJson, sign)",
    "order pushes are form-encoded POSTs of serviceKey, nonce, timestamp (yyyy-MM-dd HH:mm:ss, GMT+8), daojiaJson and funId, signed into a field named `sign` with the same MD5 rule and our serviceSecret",
    "only funId createOrder is pushed; 58's cancel push is not public, so cancellations by 58 are not received",
    "repeating an order's current status in updateOrderDetail is accepted (so a retried call after a lost answer is harmless)",
    "a technician assignment is synced as updateOrderDetail with the current status and serviceUserName / serviceUserPhone",
];

/// What the adapter needs to talk to 58.
#[derive(Clone)]
pub struct Daojia58Settings {
    /// e.g. `https://sandboxapi.daojia.com/api/v1`.
    pub base_url: String,
    pub service_key: String,
    pub service_secret: SecretString,
    pub access_token: SecretString,
    pub timeout: Duration,
}

impl std::fmt::Debug for Daojia58Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Daojia58Settings")
            .field("base_url", &self.base_url)
            .field("service_key", &self.service_key)
            .finish_non_exhaustive()
    }
}

pub fn info(enabled: bool, sandbox: bool) -> ProviderInfo {
    ProviderInfo {
        id: ProviderId::Daojia58,
        name: "58到家 58 Daojia",
        role: ProviderRole::OrderSource,
        capabilities: vec![Capability::ReceiveOrders, Capability::SyncStatus],
        enabled,
        sandbox,
    }
}

/// 58 as an order source: each request is one call of the client.
#[async_trait]
impl OrderSource for Daojia58Client {
    fn id(&self) -> ProviderId {
        ProviderId::Daojia58
    }

    async fn sync_status(&self, sync: &StatusSync) -> ProviderResult<()> {
        self.update_order_detail(&mapping::order_update(sync)).await
    }

    async fn register_technician(&self, technician: &TechnicianProfile) -> ProviderResult<()> {
        self.save_service_user(&mapping::service_user(technician))
            .await
    }

    fn step_code(&self, step: SourceStep) -> i64 {
        match step {
            SourceStep::Accept => status::ACCEPTED,
            SourceStep::RequestPayment => status::AWAITING_PAYMENT,
            SourceStep::ConfirmPayment => status::PAID,
            SourceStep::StartService => status::IN_SERVICE,
            SourceStep::Complete => status::COMPLETED,
            SourceStep::Cancel => status::CANCELLED,
        }
    }

    fn allows(&self, history: &[i64], next: i64) -> bool {
        status::allowed(history, next)
    }

    fn refusal(&self, from: i64, next: i64) -> String {
        format!(
            "58 does not allow {} after {} (its sequences are 10→20→30→40→50→60 and 10→20→50→30→40→60)",
            status::describe(next),
            status::describe(from)
        )
    }

    fn describe(&self, code: i64) -> &'static str {
        status::describe(code)
    }

    fn unified(&self, code: i64, current: OrderStatus) -> Option<OrderStatus> {
        status::unified(code, current)
    }
}
