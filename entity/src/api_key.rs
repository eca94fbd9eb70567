//! An API key: who may call the API with which scopes, restricted to some shops or not.
//! Only a SHA-256 of the secret is kept; the secret is shown once, when the key is made.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "api_key")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    /// The secret's first characters (`oh_live_…`, `oh_sandbox_…`), to tell keys apart.
    pub prefix: String,
    /// Hex SHA-256 of the whole secret.
    #[sea_orm(unique)]
    pub secret_hash: String,
    /// Made for a deployment that talks to real platforms (a sandbox key is refused there).
    pub live: bool,
    /// Space-separated scope names.
    pub scopes: String,
    /// JSON list of the shop ids the key is restricted to; None = every shop.
    pub shops: Option<String>,
    pub created_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
    pub last_used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
