//! 到位 Daoway: a marketplace of home services where we are a channel (buyer). We browse
//! its shops, place pre-paid orders, poll their status (Daoway pushes only cancellations)
//! and serve its cancel notification.

mod settings;
pub use settings::DaowaySettings;
pub mod callback;
pub mod client;
pub mod mapping;
pub mod status;
pub mod wire;

use std::time::Duration;

use chrono::NaiveDateTime;

use self::client::DaowayClient;
use crate::{
    domain::{OrderStatus, ProviderId},
    providers::{
        BoxFuture, Capability, CategoryData, Marketplace, ObservedStatus, PlaceServiceOrder,
        PlacedOrder, ProviderInfo, ProviderResult, ProviderRole, ShopDetail, ShopQuery,
        ShopSummary,
    },
};

pub const APPOINT_TIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

pub struct DaowayAdapter {
    client: DaowayClient,
    timeout: Duration,
}

impl DaowayAdapter {
    pub fn new(client: DaowayClient, timeout: Duration) -> Self {
        Self { client, timeout }
    }

    pub fn client(&self) -> &DaowayClient {
        &self.client
    }

    pub fn info(enabled: bool, sandbox: bool) -> ProviderInfo {
        ProviderInfo {
            id: ProviderId::Daoway,
            name: "到位 Daoway",
            role: ProviderRole::ServiceMarketplace,
            // No cancel API on the channel interface: users cancel on Daoway itself and we
            // hear of it through the cancel notification.
            capabilities: vec![
                Capability::ListCategories,
                Capability::ListShops,
                Capability::CreateOrder,
                Capability::TrackStatusByPolling,
                Capability::ReceiveCancelNotification,
            ],
            enabled,
            sandbox,
        }
    }

    pub fn format_appoint_time(t: NaiveDateTime) -> String {
        t.format(APPOINT_TIME_FORMAT).to_string()
    }
}

impl Marketplace for DaowayAdapter {
    fn id(&self) -> ProviderId {
        ProviderId::Daoway
    }

    fn timeout(&self) -> Duration {
        self.timeout
    }

    fn categories(&self) -> BoxFuture<'_, ProviderResult<Vec<CategoryData>>> {
        Box::pin(async move {
            Ok(self
                .client
                .categories()
                .await?
                .into_iter()
                .map(mapping::category)
                .collect())
        })
    }

    fn search_shops<'a>(
        &'a self,
        query: &'a ShopQuery,
    ) -> BoxFuture<'a, ProviderResult<Vec<ShopSummary>>> {
        Box::pin(async move {
            self.client
                .services(query)
                .await?
                .into_iter()
                .map(mapping::shop_summary)
                .collect()
        })
    }

    fn shop_detail<'a>(
        &'a self,
        external_id: &'a str,
    ) -> BoxFuture<'a, ProviderResult<ShopDetail>> {
        Box::pin(async move { mapping::shop_detail(self.client.service(external_id).await?) })
    }

    fn place_order<'a>(
        &'a self,
        order: &'a PlaceServiceOrder,
    ) -> BoxFuture<'a, ProviderResult<PlacedOrder>> {
        Box::pin(async move {
            let (user_name, password) = self.client.credentials();
            let body = wire::CreateOrder {
                user_name,
                password,
                service_id: &order.shop_external_id,
                items: order
                    .items
                    .iter()
                    .map(|l| wire::OrderItem {
                        price_id: &l.price_external_id,
                        quantity: l.quantity,
                    })
                    .collect(),
                city: &order.city,
                street: &order.street,
                house: &order.house,
                contact_person: &order.contact_person,
                phone: &order.phone,
                appoint_time: Self::format_appoint_time(order.appoint_time),
                note: order.note.as_deref().unwrap_or(""),
            };
            let created = self.client.create_order(&body).await?;
            Ok(PlacedOrder {
                external_id: created.order_id,
                consumed: created.consumed,
                remaining: created.remaining,
                raw_status: "PENDING_CONFIRM".into(),
                status: OrderStatus::Pending,
            })
        })
    }

    fn order_status<'a>(
        &'a self,
        external_id: &'a str,
    ) -> BoxFuture<'a, ProviderResult<ObservedStatus>> {
        Box::pin(async move {
            let raw = self.client.order_status(external_id).await?;
            Ok(ObservedStatus {
                status: mapping::map_status(&raw)?,
                raw_status: raw,
            })
        })
    }
}
