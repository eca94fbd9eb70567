//! A technician of ours registered at 58 Daojia, who can be assigned to its pushed orders.

use sea_orm::entity::prelude::*;

/// A technician of ours, registered with a platform that pushes orders to us (58 Daojia's
/// `serviceUser`).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "technician")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub provider: String,
    /// The id we gave the technician at the platform (`userId`).
    pub external_id: String,
    pub name: String,
    pub phone: String,
    pub age: Option<i32>,
    /// `M` or `F`.
    pub sex: Option<String>,
    pub remark: Option<String>,
    pub active: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
