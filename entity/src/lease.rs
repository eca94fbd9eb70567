//! A lease on a piece of singular background work (see `orderhub::db::lease`).

use sea_orm::entity::prelude::*;

/// Who does one piece of singular work (e.g. `poll:DAOWAY`) until when.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "lease")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    /// The instance holding it (its event-bus id).
    pub holder: String,
    pub expires_at: DateTimeUtc,
    /// How often the lease was taken or renewed: the rounds of the work done under it.
    pub renewals: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
