//! What a provider is to the rest of orderhub: its role, the operations it supports, and how
//! it is set up in this deployment.

use crate::domain::ProviderId;

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

/// Declares an enum with the capability variants: the domain's `Capability` and the
/// GraphQL mirror of it are both declared from this one list, so they cannot drift apart.
macro_rules! capability_enum {
    ($(#[$attr:meta])* $vis:vis enum $name:ident) => {
        $(#[$attr])*
        $vis enum $name {
        /// Lists its service categories (`categories`).
        ListCategories,
        /// Lists its shops with their prices (`shops`, `shop`).
        ListShops,
        /// Takes service orders from us (`createOrder`).
        CreateOrder,
        /// Cancels an order through its API (`cancelOrder`).
        CancelOrder,
        /// Answers status queries: we poll it for orders' statuses.
        TrackStatusByPolling,
        /// Calls our callback route when an order is cancelled on the platform.
        ReceiveCancelNotification,
        /// Courier networks: fee quotes and dispatch (direct or from a quote), re-dispatch.
        QuoteDelivery,
        /// Dispatches deliveries (`dispatchDelivery`, `redispatchDelivery`).
        DispatchDelivery,
        /// Takes a higher tip for the courier while an order waits (`addTip`).
        AddTip,
        /// Appoints a delivery to a chosen courier (`assignCourier`, `unassignCourier`).
        AppointCourier,
        /// Takes complaints about a courier (`complainAboutCourier`).
        ComplainAboutCourier,
        /// Takes our confirmation that returned goods arrived (`confirmReturnedGoods`).
        ConfirmReturnedGoods,
        /// Courier position and a tracking page.
        TrackCourier,
        /// Pushes every status change to our callback route.
        ReceiveStatusCallbacks,
        /// A courier may ask to cancel; we answer.
        AnswerCourierCancellation,
        /// Stores registered and updated at the platform, and the merchant's account.
        ManageStores,
        /// Says before a cancellation what it would cost (`previewCancellation`).
        PreviewCancellation,
        /// Lists the cities it serves (`deliveryCities`).
        ListCities,
        /// The merchant's prepaid balance and a recharge page (`deliveryBalance`,
        /// `deliveryRechargeLink`).
        MerchantBalance,
        /// Reaches several courier companies through accounts the merchant binds
        /// (`deliveryCompanies`, `boundDeliveryAccounts`, `bindDeliveryAccount`,
        /// `openDeliveryService`); a quote asks each bound company.
        CourierCompanies,
        /// Pushes orders to us.
        ReceiveOrders,
        /// Takes our status changes back (through the outbox).
        SyncStatus,
        }
    };
}
pub(crate) use capability_enum;

capability_enum! {
    /// The operations a provider supports; the API refuses the others with a clear error.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Capability
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
