//! One entry of an order's timeline: a status change (applied or only recorded) or another
//! kind of event; its id is the subscriptions' resume cursor.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "order_event")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub order_id: i64,
    pub provider: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub raw_status: String,
    /// Where we learned of it: `CREATE`, `POLL`, `CALLBACK`, `API`.
    pub source: String,
    /// False when the event was recorded but did not move the order (late or out of order).
    pub applied: bool,
    pub detail: Option<String>,
    /// The platform's time of the change (or ours when the platform gives none).
    pub occurred_at: DateTimeUtc,
    pub recorded_at: DateTimeUtc,
    /// `STATUS` for a status change; otherwise what happened around the order without
    /// changing its status (`COURIER_CANCEL_REQUESTED`, `TIP_ADDED`, …).
    pub kind: String,
    /// The instance that wrote it (its event-bus id); null for events written before this
    /// was recorded.
    pub origin: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
