//! A shop's dispatch policy: how `dispatchDelivery(strategy: AUTO)` chooses among courier
//! networks, escalates tips and moves on.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "dispatch_policy")]
pub struct Model {
    /// The shop dispatched from (our id).
    #[sea_orm(primary_key, auto_increment = false)]
    pub shop_id: i64,
    /// `CHEAPEST`, `FASTEST`, `PREFERRED` or `SCORECARD`.
    pub strategy: String,
    /// The networks and companies allowed, in preferred order (JSON `[{network, company}]`);
    /// empty = every one the stores reach.
    pub networks: String,
    /// The same store on other courier networks (JSON array of shop ids).
    pub linked_shops: String,
    pub fee_cap_fen: Option<i64>,
    /// Tip escalation: this much more every interval, up to the cap (0 = none).
    pub tip_step_fen: i64,
    pub tip_interval_secs: i64,
    pub tip_cap_fen: i64,
    /// Unaccepted after this long: move to the next network (None = never).
    pub switch_after_secs: Option<i64>,
    pub race: bool,
    /// How many attempts a race sends at once (2 to 5).
    pub race_width: i32,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
