//! The catalogue vocabulary marketplaces are translated into: categories, shops, prices, the
//! search over shops, and the service orders placed with them.

use chrono::NaiveDateTime;

use crate::domain::{GeoPoint, Money, OrderStatus};

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
