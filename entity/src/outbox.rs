//! A durable outgoing call: its operation and payload, attempts, next attempt and state
//! (PENDING, SENT, DEAD).

use sea_orm::entity::prelude::*;

/// A call to a platform that must happen, retried with backoff until it succeeds or is
/// parked as `DEAD`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub provider: String,
    /// What to do, e.g. `ANSWER_COURIER_CANCELLATION`.
    pub operation: String,
    pub order_id: Option<i64>,
    /// The operation's arguments (JSON, our own spelling).
    pub payload: String,
    /// `PENDING`, `SENT` or `DEAD`.
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
