//! Adapters to the platforms. Each platform lives in its own folder with the same files
//! (`wire.rs` spelled as the platform spells it, `client.rs`, `mapping.rs`, `callback.rs`);
//! everything outside an adapter sees only the types in this module and in `domain`.
//! Adapters never touch the database: they call the platform and translate.

pub mod dada;
pub mod daojia58;
pub mod daoway;
pub mod delivery;
pub mod lenient;
pub mod wechat;

use std::{future::Future, sync::Arc, time::Duration};

use chrono::NaiveDateTime;

use crate::domain::{GeoPoint, Money, OrderStatus, ProviderId};

/// What a provider is to us.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProviderRole {
    /// We browse its shops and place service orders (Daoway).
    ServiceMarketplace,
    /// We dispatch couriers through it (Dada, WeChat).
    CourierNetwork,
    /// It pushes orders to us (58 Daojia).
    OrderSource,
}

/// The operations a provider supports; the API refuses the others with a clear error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Capability {
    ListCategories,
    ListShops,
    CreateOrder,
    CancelOrder,
    TrackStatusByPolling,
    ReceiveCancelNotification,
    /// Courier networks: fee quotes and dispatch (direct or from a quote), re-dispatch.
    QuoteDelivery,
    DispatchDelivery,
    AddTip,
    AppointCourier,
    ComplainAboutCourier,
    ConfirmReturnedGoods,
    /// Courier position and a tracking page.
    TrackCourier,
    /// Pushes every status change to our callback route.
    ReceiveStatusCallbacks,
    /// A courier may ask to cancel; we answer.
    AnswerCourierCancellation,
    /// Stores registered and updated at the platform, and the merchant's account.
    ManageStores,
    /// Pushes orders to us.
    ReceiveOrders,
    /// Takes our status changes back (through the outbox).
    SyncStatus,
}

#[derive(Clone, Debug)]
pub struct ProviderInfo {
    pub id: ProviderId,
    pub name: &'static str,
    pub role: ProviderRole,
    pub capabilities: Vec<Capability>,
    /// Whether the adapter is configured and enabled in this deployment.
    pub enabled: bool,
    pub sandbox: bool,
}

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
    pub fn provider(&self) -> ProviderId {
        match self {
            Self::Unavailable { provider, .. }
            | Self::Rejected { provider, .. }
            | Self::Protocol { provider, .. } => *provider,
        }
    }
}

pub type ProviderResult<T> = Result<T, ProviderError>;

/// A category of services as a marketplace lists it.
#[derive(Clone, Debug)]
pub struct CategoryData {
    pub external_id: String,
    pub name: String,
    pub icon_url: Option<String>,
}

/// A price item of a shop.
#[derive(Clone, Debug)]
pub struct PriceData {
    pub external_id: String,
    pub name: String,
    pub description: Option<String>,
    pub amount: Money,
    pub unit: Option<String>,
    pub img_url: Option<String>,
    pub min_buy_num: i32,
}

/// A shop as a marketplace's search lists it: the main price only.
#[derive(Clone, Debug)]
pub struct ShopSummary {
    pub external_id: String,
    pub category_external_id: Option<String>,
    pub title: String,
    pub image_url: Option<String>,
    pub main_price: Option<PriceData>,
    pub tag_icons: Vec<String>,
}

/// A shop with everything needed to order from it.
#[derive(Clone, Debug)]
pub struct ShopDetail {
    pub external_id: String,
    pub category_external_id: Option<String>,
    pub title: String,
    pub description: Option<String>,
    pub city: Option<String>,
    pub location: Option<GeoPoint>,
    pub images: Vec<String>,
    pub tag_icons: Vec<String>,
    /// `HH:MM` local time.
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    /// 0 = Monday … 6 = Sunday.
    pub available_days: Vec<u8>,
    pub ahead_minutes: i32,
    pub prices: Vec<PriceData>,
    pub fix_fee: Money,
    pub no_fix_fee_price: Money,
    pub min_buy_price: Money,
}

#[derive(Clone, Debug, Default)]
pub struct ShopQuery {
    pub city: Option<String>,
    pub category: Option<String>,
    pub search: Option<String>,
    pub near: Option<GeoPoint>,
    pub offset: usize,
    pub limit: usize,
}

#[derive(Clone, Debug)]
pub struct OrderLine {
    pub price_external_id: String,
    pub quantity: i32,
}

/// A service order to place on a marketplace.
#[derive(Clone, Debug)]
pub struct PlaceServiceOrder {
    pub shop_external_id: String,
    pub items: Vec<OrderLine>,
    pub city: String,
    pub street: String,
    pub house: String,
    pub contact_person: String,
    pub phone: String,
    /// Wall-clock time in China (UTC+8), as the platforms take it.
    pub appoint_time: NaiveDateTime,
    pub note: Option<String>,
}

#[derive(Clone, Debug)]
pub struct PlacedOrder {
    pub external_id: String,
    pub consumed: Money,
    pub remaining: Option<Money>,
    pub raw_status: String,
    pub status: OrderStatus,
}

/// A status read from or pushed by a platform, already mapped.
#[derive(Clone, Debug)]
pub struct ObservedStatus {
    pub status: OrderStatus,
    pub raw_status: String,
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
