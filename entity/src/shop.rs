//! A shop: a marketplace shop (Daoway) or one of our stores at a courier network (Dada,
//! WeChat), with its detail as last fetched.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "shop")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub provider: String,
    pub external_id: String,
    pub category_external_id: Option<String>,
    pub title: String,
    pub description: Option<String>,
    pub city: Option<String>,
    /// JSON array of image URLs.
    pub image_urls: String,
    /// JSON array of tag icon URLs.
    pub tag_icons: String,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    /// Comma-separated weekdays, 0 = Monday … 6 = Sunday.
    pub available_days: Option<String>,
    pub ahead_minutes: Option<i32>,
    pub fix_fee_fen: Option<i64>,
    pub no_fix_fee_price_fen: Option<i64>,
    pub min_buy_price_fen: Option<i64>,
    pub lng: Option<f64>,
    pub lat: Option<f64>,
    pub main_price_external_id: Option<String>,
    /// Set once the full detail (hours, fees, all prices) has been fetched.
    pub detail_fetched_at: Option<DateTimeUtc>,
    pub fetched_at: DateTimeUtc,
    /// The last refresh from the platform failed: what we serve may be out of date.
    pub stale: bool,
    /// Our own stores at a courier network: street address, area, contact, business type,
    /// the platform's city code, and whether they are open for orders.
    pub address: Option<String>,
    pub area_name: Option<String>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub business_type: Option<i32>,
    pub city_code: Option<String>,
    pub open: Option<bool>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::price::Entity")]
    Price,
}

impl Related<super::price::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Price.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
