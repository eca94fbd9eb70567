//! Adapters to the platforms. Each platform lives in its own folder with the same files
//! (`sign.rs`, `wire.rs` spelled as the platform spells it, `client.rs`, `status.rs` with the
//! status and error tables, `mapping.rs` wire ⇄ domain, `callback.rs` verify and parse what
//! the platform pushes — pure, no HTTP state or database);
//! everything outside an adapter sees only the types in this module and in `domain`.
//! Adapters never touch the database: they call the platform and translate.

pub mod codes;
pub mod dada;
pub mod daojia58;
pub mod daoway;
pub mod delivery;
pub mod instrument;
pub mod lenient;
pub mod settings;
pub mod source;
pub mod wechat;

use std::{future::Future, sync::Arc, time::Duration};

pub use self::source::{
    OrderSource, PushedLine, PushedOrder, SourceStep, StatusSync, TechnicianProfile,
};
use crate::domain::ProviderId;
pub use crate::domain::{
    catalog::{
        CategoryData, ObservedStatus, OrderLine, PlaceServiceOrder, PlacedOrder, PriceData,
        ShopDetail, ShopQuery, ShopSummary,
    },
    provider::{Capability, ProviderInfo, ProviderRole},
};

/// Failure of a call to a platform, as the services need to tell them apart.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ProviderError {
    /// The platform could not be reached, timed out, or answered 5xx: try again later.
    #[error("{provider} is unavailable: {detail}")]
    Unavailable {
        provider: ProviderId,
        detail: String,
        /// The request may have reached the platform and taken effect (a timeout after
        /// sending), as opposed to surely not (connection refused, 5xx).
        outcome_unknown: bool,
    },
    /// The platform refused the request; its own code (if any) and message are kept.
    #[error("{provider} refused: {message}")]
    Rejected {
        provider: ProviderId,
        kind: RejectKind,
        code: Option<String>,
        message: String,
    },
    /// The platform answered something we cannot read: a bug on one side, never retried blindly.
    #[error("{provider} answered unexpectedly: {detail}")]
    Protocol {
        provider: ProviderId,
        detail: String,
    },
}

/// Refusals the API maps to specific user-error codes; anything else is `Other`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RejectKind {
    InsufficientBalance,
    NotFound,
    InvalidRequest,
    Unauthorized,
    /// The provider does not offer the operation at all.
    Unsupported,
    Other,
}

impl ProviderError {
    /// An answer of `provider` that cannot be read.
    pub fn protocol(provider: ProviderId, detail: impl Into<String>) -> Self {
        Self::Protocol {
            provider,
            detail: detail.into(),
        }
    }

    /// A refusal decided before calling `provider` (a value it could not accept anyway).
    pub fn invalid_request(provider: ProviderId, message: impl Into<String>) -> Self {
        Self::Rejected {
            provider,
            kind: RejectKind::InvalidRequest,
            code: None,
            message: message.into(),
        }
    }

    pub fn provider(&self) -> ProviderId {
        match self {
            Self::Unavailable { provider, .. }
            | Self::Rejected { provider, .. }
            | Self::Protocol { provider, .. } => *provider,
        }
    }
}

pub type ProviderResult<T> = Result<T, ProviderError>;

/// Yuan from a platform's wire, rounded to the fen; absent is zero (optional fees platforms
/// leave out). A value that is no amount is `provider`'s protocol error naming `field`.
pub fn platform_money(
    provider: ProviderId,
    yuan: Option<rust_decimal::Decimal>,
    field: &str,
) -> ProviderResult<crate::domain::Money> {
    yuan.map_or(Ok(crate::domain::Money::ZERO), |y| {
        crate::domain::Money::from_platform_yuan(y)
            .map_err(|e| ProviderError::protocol(provider, format!("{field}: {e}")))
    })
}

/// A marketplace of home services (Daoway today). Boxed futures keep the trait object-safe,
/// so the catalog fans out over `Vec<Arc<dyn Marketplace>>`.
pub trait Marketplace: Send + Sync {
    fn id(&self) -> ProviderId;
    fn categories(&self) -> BoxFuture<'_, ProviderResult<Vec<CategoryData>>>;
    fn search_shops<'a>(
        &'a self,
        query: &'a ShopQuery,
    ) -> BoxFuture<'a, ProviderResult<Vec<ShopSummary>>>;
    fn shop_detail<'a>(&'a self, external_id: &'a str)
    -> BoxFuture<'a, ProviderResult<ShopDetail>>;
    fn place_order<'a>(
        &'a self,
        order: &'a PlaceServiceOrder,
    ) -> BoxFuture<'a, ProviderResult<PlacedOrder>>;
    fn order_status<'a>(
        &'a self,
        external_id: &'a str,
    ) -> BoxFuture<'a, ProviderResult<ObservedStatus>>;
    /// How long a fan-out waits for this provider before reporting it unavailable.
    fn timeout(&self) -> Duration;
}

pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Every configured adapter, by role.
#[derive(Clone, Default)]
pub struct Registry {
    pub marketplaces: Vec<Arc<dyn Marketplace>>,
    pub couriers: Vec<Arc<dyn delivery::CourierNetwork>>,
    pub info: Vec<ProviderInfo>,
}

impl Registry {
    pub fn marketplace(&self, id: ProviderId) -> Option<&Arc<dyn Marketplace>> {
        self.marketplaces.iter().find(|m| m.id() == id)
    }

    pub fn courier(&self, id: ProviderId) -> Option<&Arc<dyn delivery::CourierNetwork>> {
        self.couriers.iter().find(|c| c.id() == id)
    }

    pub fn info(&self, id: ProviderId) -> Option<&ProviderInfo> {
        self.info.iter().find(|i| i.id == id)
    }
}

/// Runs `fut` with the provider's timeout, turning a timeout into `Unavailable`.
pub async fn with_timeout<T>(
    provider: ProviderId,
    timeout: Duration,
    fut: impl Future<Output = ProviderResult<T>>,
) -> ProviderResult<T> {
    match tokio::time::timeout(timeout, fut).await {
        Ok(r) => r,
        Err(_) => Err(ProviderError::Unavailable {
            provider,
            detail: format!("no answer within {} ms", timeout.as_millis()),
            outcome_unknown: true,
        }),
    }
}
