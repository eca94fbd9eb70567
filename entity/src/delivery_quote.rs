//! A delivery quote kept until it is dispatched or its price lock expires, with the request
//! it prices (our spelling).

use sea_orm::entity::prelude::*;

/// A delivery fee quote a client may dispatch until it expires.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "delivery_quote")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub provider: String,
    pub shop_id: i64,
    /// Our reference the quote was made for; the dispatched order keeps it.
    pub origin_id: String,
    /// The platform's handle to publish the quote (Dada `deliveryNo`).
    pub token: String,
    /// The quoted request (JSON, our own spelling), to create the order from.
    pub request: String,
    pub fee_fen: i64,
    pub delivery_fee_fen: i64,
    pub coupon_fen: i64,
    pub tips_fen: i64,
    pub insurance_fen: i64,
    pub distance_m: i64,
    pub expires_at: DateTimeUtc,
    /// Set once dispatched.
    pub order_id: Option<i64>,
    pub created_at: DateTimeUtc,
    /// The courier company quoting, on a network of several (WeChat `delivery_id`).
    pub company: Option<String>,
    /// Expected minutes until a courier is found, when the company says.
    pub dispatch_minutes: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
