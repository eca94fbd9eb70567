//! One mutation as it was asked for and how it ended: who (the key), what (the operation
//! and its target), when, and the outcome.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub at: DateTimeUtc,
    /// The key that called; None for the anonymous development caller.
    pub api_key_id: Option<i64>,
    /// The key's name (or `anonymous`), as it was at the time.
    pub caller: String,
    /// The mutation's field name, e.g. `createOrder`.
    pub operation: String,
    /// What it acted on, when it names something (an order or shop id, a key id).
    pub target: Option<String>,
    /// `ok`, `refused:<CODE>` (user errors), `denied:<CODE>` (access) or `error:<CODE>`.
    pub outcome: String,
    pub detail: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
