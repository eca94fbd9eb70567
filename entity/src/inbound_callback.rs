//! A platform callback already applied, by its de-duplication key: a repeat is acknowledged
//! without being applied again.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "inbound_callback")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub provider: String,
    pub kind: String,
    /// Unique per provider: a second delivery of the same callback finds this row.
    pub dedup_key: String,
    pub order_id: Option<i64>,
    pub payload: String,
    pub received_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
