//! A line of a service order: the price item, its unit price and quantity.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "order_item")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub order_id: i64,
    pub price_id: Option<i64>,
    pub external_price_id: String,
    pub name: String,
    pub unit: Option<String>,
    pub unit_price_fen: i64,
    pub quantity: i32,
    pub amount_fen: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
