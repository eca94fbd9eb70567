//! An automatic dispatch in progress or done: its ranked candidates, the next one to try,
//! the tip raised so far, when the driver looks again, and which instance drives it now.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "dispatch_plan")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub shop_id: i64,
    /// `ACTIVE`, `WON`, `FAILED` or `CANCELLED`.
    pub state: String,
    pub strategy: String,
    /// Our reference; attempt n > 1 carries it with `-n`.
    pub origin_id: String,
    /// The delivery asked for (JSON, the service's own spelling).
    pub request: String,
    /// The ranked candidates (JSON).
    pub candidates: String,
    /// The index of the next candidate not yet dispatched.
    pub next_candidate: i32,
    pub race: bool,
    /// How many attempts a round sends at once when racing.
    pub race_width: i32,
    pub tip_step_fen: i64,
    pub tip_interval_secs: i64,
    pub tip_cap_fen: i64,
    /// The tip added so far.
    pub tip_fen: i64,
    pub switch_after_secs: Option<i64>,
    pub winner_order_id: Option<i64>,
    /// When the attempts now live were dispatched.
    pub step_started_at: DateTimeUtc,
    pub last_tip_at: DateTimeUtc,
    /// When the driver looks again (None: on news only).
    pub next_step_at: Option<DateTimeUtc>,
    pub claimed_by: Option<String>,
    pub claimed_until: Option<DateTimeUtc>,
    /// Why it failed, or what it could not avoid.
    pub detail: Option<String>,
    /// Penalties paid cancelling losing attempts (only when unavoidable).
    pub penalty_fen: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
