use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "orders")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub provider: String,
    /// The platform's order id; empty only while the order is being submitted.
    pub external_id: Option<String>,
    pub direction: String,
    pub kind: String,
    /// Unified status (`PENDING`, `ACCEPTED`, …).
    pub status: String,
    /// The platform's own status code or name.
    pub raw_status: String,
    pub shop_id: Option<i64>,
    pub contact_person: String,
    pub phone: String,
    pub city: String,
    pub street: String,
    pub house: String,
    pub note: Option<String>,
    pub appoint_time: Option<DateTimeUtc>,
    pub items_total_fen: i64,
    pub fee_fen: i64,
    pub total_fen: i64,
    pub balance_after_fen: Option<i64>,
    pub cancel_reason: Option<String>,
    /// Platform time of the newest applied status event; older events never regress the order.
    pub status_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
