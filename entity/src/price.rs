//! A price item of a shop: name, unit, amount in fen, minimum quantity; inactive when the
//! marketplace no longer lists it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "price")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub shop_id: i64,
    pub external_id: String,
    pub name: String,
    pub description: Option<String>,
    pub amount_fen: i64,
    pub unit: Option<String>,
    pub img_url: Option<String>,
    pub min_buy_num: i32,
    pub position: i32,
    /// False once the platform no longer lists this price for the shop.
    pub active: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::shop::Entity",
        from = "Column::ShopId",
        to = "super::shop::Column::Id"
    )]
    Shop,
}

impl Related<super::shop::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Shop.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
