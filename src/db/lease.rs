//! Leases on singular background work, so that a cluster of instances over one database does
//! it once: the status pollers (one instance polls each platform per interval). A lease is a
//! row naming its holder and when it runs out; an instance takes it when it is free or run
//! out, and renews it each round while it holds it. An instance that dies stops renewing,
//! and another takes the work over once the lease has run out.

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use entity::lease;
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, ExprTrait, QueryFilter,
    sea_query::{Expr, OnConflict},
};

/// One piece of singular work and this instance's claim on it.
#[derive(Clone)]
pub struct Lease {
    db: DatabaseConnection,
    name: String,
    holder: String,
    ttl: Duration,
}

impl Lease {
    /// `name` names the work (`poll:DAOWAY`); `holder` this instance; `ttl` how long a claim
    /// lasts without renewal (a few rounds of the work).
    pub fn new(db: DatabaseConnection, name: String, holder: String, ttl: Duration) -> Self {
        Self {
            db,
            name,
            holder,
            ttl,
        }
    }

    /// Takes the lease if it is free, run out or already ours, and renews it for `ttl`;
    /// whether this instance holds it now. One statement: an upsert whose update applies
    /// only to our own or a run-out lease.
    pub async fn claim(&self) -> Result<bool, DbErr> {
        let now = Utc::now();
        let until = now + TimeDelta::from_std(self.ttl).unwrap_or(TimeDelta::MAX);
        let row = lease::ActiveModel {
            name: Set(self.name.clone()),
            holder: Set(self.holder.clone()),
            expires_at: Set(until),
            renewals: Set(0),
        };
        let ours = Expr::col((lease::Entity, lease::Column::Holder))
            .eq(self.holder.as_str())
            .or(Expr::col((lease::Entity, lease::Column::ExpiresAt)).lt(now));
        let changed = lease::Entity::insert(row)
            .on_conflict(
                OnConflict::column(lease::Column::Name)
                    .update_columns([lease::Column::Holder, lease::Column::ExpiresAt])
                    .value(
                        lease::Column::Renewals,
                        Expr::col((lease::Entity, lease::Column::Renewals)).add(1),
                    )
                    .action_and_where(ours)
                    .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await?;
        Ok(changed > 0)
    }

    /// Gives the lease up at once (at shutdown), so another instance need not wait for it
    /// to run out.
    pub async fn release(&self) -> Result<(), DbErr> {
        lease::Entity::update_many()
            .col_expr(lease::Column::ExpiresAt, Expr::value(Utc::now()))
            .filter(lease::Column::Name.eq(self.name.as_str()))
            .filter(lease::Column::Holder.eq(self.holder.as_str()))
            .exec(&self.db)
            .await
            .map(|_| ())
    }
}
