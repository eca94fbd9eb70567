//! The catalogue: categories, shops (a marketplace's, or our own store at a courier
//! network) and their price items, each wrapping its stored row.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::{GeoPoint, Money, ProviderId, money, parse};
use crate::{
    catalog::{
        parse_json_list,
        repo::{CategoryRow, PriceRow, ShopRow},
    },
    domain,
    graphql::{
        delivery::StoreInfo,
        ids::{Kind, encode},
        loaders::Loaders,
        prefetch,
    },
};

pub struct Category(pub CategoryRow);

/// A service category of a marketplace (e.g. cleaning); filter shops by it with
/// `shops(filter: {category})`.
#[Object]
impl Category {
    /// The category's global id.
    // Visible to `graphql::node`, where the `Node` interface calls it.
    pub(in crate::graphql) async fn id(&self) -> ID {
        encode(Kind::Category, self.0.id)
    }
    /// The marketplace it belongs to.
    async fn provider(&self) -> Result<ProviderId> {
        Ok(parse::<domain::ProviderId>(&self.0.provider)?.into())
    }
    /// The platform's id of the category.
    async fn external_id(&self) -> &str {
        &self.0.external_id
    }
    /// The category's name, as the platform gives it.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// URL of the category's icon; null when the platform has none.
    async fn icon_url(&self) -> Option<&str> {
        self.0.icon_url.as_deref()
    }
}

pub struct Shop(pub ShopRow);

impl Shop {
    /// The shop `id` through the request's loader (batched with the other lookups).
    pub(in crate::graphql) async fn load(ctx: &Context<'_>, id: i64) -> Result<Option<Shop>> {
        Ok(ctx.data::<Loaders>()?.shops.load_one(id).await?.map(Shop))
    }
}

/// Opening hours in China time (UTC+8).
#[derive(SimpleObject)]
pub struct ServiceHours {
    /// "HH:MM"
    pub start: Option<String>,
    /// "HH:MM", exclusive.
    pub end: Option<String>,
    /// Days open, 0 = Monday … 6 = Sunday.
    pub days: Vec<i32>,
    /// How long in advance an appointment must be made, in minutes.
    pub ahead_minutes: i32,
}

/// What a marketplace shop adds to an order and the smallest order it takes.
#[derive(SimpleObject)]
pub struct ShopFees {
    /// Call-out fee added to an order…
    pub fix_fee: Money,
    /// …unless the items reach this amount (zero: never waived).
    pub no_fix_fee_price: Money,
    /// The smallest order the shop takes.
    pub min_buy_price: Money,
}

/// A shop: a marketplace's shop we can place service orders with (Daoway), or one of our
/// own stores at a courier network that deliveries leave from (`store` set).
#[Object]
impl Shop {
    /// The shop's global id.
    // Visible to `graphql::node`, where the `Node` interface calls it.
    pub(in crate::graphql) async fn id(&self) -> ID {
        encode(Kind::Shop, self.0.id)
    }
    /// The platform the shop is on.
    async fn provider(&self) -> Result<ProviderId> {
        Ok(parse::<domain::ProviderId>(&self.0.provider)?.into())
    }
    /// The platform's id of the shop (for our stores, the store's number at the network).
    async fn external_id(&self) -> &str {
        &self.0.external_id
    }
    /// The shop's name.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// The shop's own description; null when it has none.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// The city the shop serves, as the platform spells it (e.g. "北京"); null when unknown.
    async fn city(&self) -> Option<&str> {
        self.0.city.as_deref()
    }
    /// The shop's service category; null when it has none (and for stores).
    async fn category(&self, ctx: &Context<'_>) -> Result<Option<Category>> {
        let Some(ext) = self.0.category_external_id.clone() else {
            return Ok(None);
        };
        let key = (self.0.provider.clone(), ext);
        if let Some(read) = prefetch::category(ctx, &key) {
            return Ok(read.map(Category));
        }
        let loaders = ctx.data::<Loaders>()?;
        Ok(loaders.categories.load_one(key).await?.map(Category))
    }
    /// URLs of the shop's pictures; empty when it has none.
    async fn images(&self) -> Vec<String> {
        parse_json_list(&self.0.image_urls)
    }
    /// URLs of the small badges the platform shows beside the shop; empty when none.
    async fn tag_icons(&self) -> Vec<String> {
        parse_json_list(&self.0.tag_icons)
    }
    /// Where the shop is; null when the platform does not say.
    async fn location(&self) -> Option<GeoPoint> {
        Some(GeoPoint {
            lng: self.0.lng?,
            lat: self.0.lat?,
        })
    }
    /// For our own stores at a courier network: address, contact, business type, city code.
    async fn store(&self) -> Option<StoreInfo> {
        self.0.business_type?;
        Some(StoreInfo(self.0.clone()))
    }
    /// Null until the shop's detail has been fetched (`shop(id:)` fetches it), and for stores.
    async fn hours(&self) -> Option<ServiceHours> {
        self.0.detail_fetched_at?;
        if self.0.business_type.is_some() {
            return None;
        }
        Some(ServiceHours {
            start: self.0.start_time.clone(),
            end: self.0.end_time.clone(),
            days: self
                .0
                .available_days
                .as_deref()
                .unwrap_or_default()
                .split(',')
                .filter_map(|d| d.trim().parse().ok())
                .collect(),
            ahead_minutes: self.0.ahead_minutes.unwrap_or(0),
        })
    }
    /// Null until the shop's detail has been fetched, and for stores.
    async fn fees(&self) -> Option<ShopFees> {
        self.0.detail_fetched_at?;
        if self.0.business_type.is_some() {
            return None;
        }
        Some(ShopFees {
            fix_fee: money(self.0.fix_fee_fen.unwrap_or(0)),
            no_fix_fee_price: money(self.0.no_fix_fee_price_fen.unwrap_or(0)),
            min_buy_price: money(self.0.min_buy_price_fen.unwrap_or(0)),
        })
    }
    /// The shop's price items: all of them once the detail was fetched, else the main one.
    async fn prices(&self, ctx: &Context<'_>) -> Result<Vec<Price>> {
        let prices = match prefetch::prices(ctx, self.0.id) {
            Some(read) => read,
            None => ctx
                .data::<Loaders>()?
                .prices
                .load_one(self.0.id)
                .await?
                .unwrap_or_default(),
        };
        Ok(prices.into_iter().map(Price).collect())
    }
    /// Whether hours, fees and the full price list have been fetched.
    async fn detail_loaded(&self) -> bool {
        self.0.detail_fetched_at.is_some()
    }
    /// When we last fetched the shop from the platform.
    async fn fetched_at(&self) -> DateTime<Utc> {
        self.0.fetched_at
    }
    /// The last refresh from the platform failed: this is the stored copy.
    async fn stale(&self) -> bool {
        self.0.stale
    }
}

pub struct Price(pub PriceRow);

/// A price item of a shop: a service at a price per unit. Order it with
/// `createOrder(input: {items: [{priceId, quantity}]})`.
#[Object]
impl Price {
    /// The price item's global id (what `OrderLineInput.priceId` takes).
    // Visible to `graphql::node`, where the `Node` interface calls it.
    pub(in crate::graphql) async fn id(&self) -> ID {
        encode(Kind::Price, self.0.id)
    }
    /// The platform's id of the price item.
    async fn external_id(&self) -> &str {
        &self.0.external_id
    }
    /// The service's name, e.g. "家庭保洁".
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// What the service includes; null when the platform does not say.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// The price of one unit.
    async fn amount(&self) -> Money {
        money(self.0.amount_fen)
    }
    /// What one unit is, e.g. "元/小时" (per hour); null when the platform does not say.
    async fn unit(&self) -> Option<&str> {
        self.0.unit.as_deref()
    }
    /// URL of a picture of the service; null when none.
    async fn image_url(&self) -> Option<&str> {
        self.0.img_url.as_deref()
    }
    /// The smallest quantity that can be ordered.
    async fn min_buy_num(&self) -> i32 {
        self.0.min_buy_num
    }
}
