//! Durable outgoing calls: a call that must reach a platform (answering a courier, syncing a
//! status back) is written as an `outbox` row in the same transaction as the change that
//! needs it, and a worker performs it, retrying with exponential backoff and jitter until it
//! succeeds or, after `max_attempts`, is parked as `DEAD` with its last error.
//!
//! Claiming is a lease: one `UPDATE … RETURNING` pushes the row's `next_attempt_at` past the
//! lease and counts the attempt, so a crashed worker's rows come back by themselves and, on
//! PostgreSQL, `FOR UPDATE SKIP LOCKED` lets several instances claim side by side without
//! taking the same row. Rows of one order go one at a time, oldest first.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use chrono::{TimeDelta, Utc};
use entity::outbox;
use rand::Rng;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseConnection, DbBackend, DbErr, EntityTrait, QueryFilter, Statement, Value,
    sea_query::Expr,
};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

pub use crate::config::OutboxConfig;
use crate::domain::ProviderId;

pub const PENDING: &str = "PENDING";
pub const SENT: &str = "SENT";
pub const DEAD: &str = "DEAD";

/// Why an attempt failed, and whether trying again can help.
#[derive(Debug, Clone)]
pub enum Failure {
    /// Unreachable, timed out, 5xx: try again later.
    Retry(String),
    /// Refused for good (the platform said no, the payload is wrong): park it now.
    Permanent(String),
}

/// Queues a call in the caller's transaction.
pub async fn enqueue(
    conn: &impl ConnectionTrait,
    provider: ProviderId,
    operation: &str,
    order_id: Option<i64>,
    payload: &str,
) -> Result<outbox::Model, DbErr> {
    let now = Utc::now();
    outbox::ActiveModel {
        provider: Set(provider.as_str().to_owned()),
        operation: Set(operation.to_owned()),
        order_id: Set(order_id),
        payload: Set(payload.to_owned()),
        state: Set(PENDING.into()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        last_error: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        sent_at: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await
}

/// What asking to retry a row did.
pub enum Retry {
    NotFound,
    /// Only dead rows are put back (pending ones are being retried; sent ones never go twice).
    NotDead(outbox::Model),
    Requeued(outbox::Model),
}

/// Puts a dead row back in line, as if new.
pub async fn retry_dead(db: &DatabaseConnection, id: i64) -> Result<Retry, DbErr> {
    let Some(row) = outbox::Entity::find_by_id(id).one(db).await? else {
        return Ok(Retry::NotFound);
    };
    if row.state != DEAD {
        return Ok(Retry::NotDead(row));
    }
    let now = Utc::now();
    let mut am: outbox::ActiveModel = row.into();
    am.state = Set(PENDING.into());
    am.attempts = Set(0);
    am.next_attempt_at = Set(now);
    am.updated_at = Set(now);
    am.update(db).await.map(Retry::Requeued)
}

fn lease(config: &OutboxConfig) -> Duration {
    Duration::from_secs(config.lease_secs.max(1))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Extends the lease of rows this worker still holds (fenced by their attempt count, like
/// [`finish`]: a row claimed again elsewhere is left alone).
async fn renew_leases(
    db: &DatabaseConnection,
    config: &OutboxConfig,
    rows: &[(i64, i32)],
) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    let until = Utc::now() + TimeDelta::from_std(lease(config)).unwrap_or(TimeDelta::MAX);
    let mut mine = Condition::any();
    for (id, attempts) in rows {
        mine = mine.add(
            Condition::all()
                .add(outbox::Column::Id.eq(*id))
                .add(outbox::Column::Attempts.eq(*attempts)),
        );
    }
    outbox::Entity::update_many()
        .col_expr(outbox::Column::NextAttemptAt, Expr::value(until))
        .filter(outbox::Column::State.eq(PENDING))
        .filter(mine)
        .exec(db)
        .await
        .map(|_| ())
}

/// Claims up to `batch` due rows, one per order, under a lease.
async fn claim(
    db: &DatabaseConnection,
    config: &OutboxConfig,
) -> Result<Vec<outbox::Model>, DbErr> {
    let now = Utc::now();
    let lease_until = now + TimeDelta::from_std(lease(config)).unwrap_or(TimeDelta::MAX);
    let backend = db.get_database_backend();
    let (sql, lock) = match backend {
        DbBackend::Postgres => ("$", " FOR UPDATE SKIP LOCKED"),
        _ => ("?", ""),
    };
    let p = |n: usize| {
        if sql == "$" {
            format!("${n}")
        } else {
            "?".to_owned()
        }
    };
    // The oldest unsent row of each order (rows without an order stand alone) that is due: a
    // later change never overtakes an earlier one, not even a dead one (it waits for the
    // dead row's retry).
    let text = format!(
        "UPDATE outbox SET next_attempt_at = {p1}, attempts = attempts + 1, updated_at = {p2} \
         WHERE id IN (SELECT o.id FROM outbox o WHERE o.state = 'PENDING' AND o.next_attempt_at <= {p3} \
         AND (o.order_id IS NULL OR NOT EXISTS (SELECT 1 FROM outbox e WHERE e.order_id = o.order_id \
         AND e.state IN ('PENDING', 'DEAD') AND e.id < o.id)) ORDER BY o.id LIMIT {p4}{lock}) \
         RETURNING *",
        p1 = p(1),
        p2 = p(2),
        p3 = p(3),
        p4 = p(4),
    );
    let values: Vec<Value> = vec![
        lease_until.into(),
        now.into(),
        now.into(),
        (config.batch as i64).into(),
    ];
    outbox::Entity::find()
        .from_raw_sql(Statement::from_sql_and_values(backend, text, values))
        .all(db)
        .await
}

fn backoff(config: &OutboxConfig, attempts: i32) -> Duration {
    let exp = attempts.clamp(1, 30) as u32 - 1;
    let base = config
        .initial_backoff_ms
        .saturating_mul(1u64 << exp.min(20))
        .min(config.max_backoff_secs.saturating_mul(1000));
    let jitter = rand::rng().random_range(0.8..1.2);
    Duration::from_millis((base as f64 * jitter) as u64)
}

async fn finish(
    db: &DatabaseConnection,
    config: &OutboxConfig,
    row: outbox::Model,
    result: Result<(), Failure>,
) -> Result<(), DbErr> {
    let now = Utc::now();
    let provider = row.provider.clone();
    let attempts = row.attempts;
    let id = row.id;
    let mut am: outbox::ActiveModel = row.into();
    am.id = sea_orm::ActiveValue::NotSet;
    am.updated_at = Set(now);
    let outcome = match result {
        Ok(()) => {
            am.state = Set(SENT.into());
            am.sent_at = Set(Some(now));
            am.last_error = Set(None);
            "sent"
        }
        Err(Failure::Permanent(e)) => {
            am.state = Set(DEAD.into());
            am.last_error = Set(Some(e));
            "dead"
        }
        Err(Failure::Retry(e)) if attempts >= config.max_attempts => {
            am.state = Set(DEAD.into());
            am.last_error = Set(Some(e));
            "dead"
        }
        Err(Failure::Retry(e)) => {
            let wait = backoff(config, attempts);
            am.next_attempt_at = Set(now + TimeDelta::from_std(wait).unwrap_or(TimeDelta::MAX));
            am.last_error = Set(Some(e));
            "retry"
        }
    };
    // The attempt count is the claim's fencing token: a worker whose lease ran out (and whose
    // row another worker claimed since) records nothing.
    let recorded = outbox::Entity::update_many()
        .set(am)
        .filter(outbox::Column::Id.eq(id))
        .filter(outbox::Column::State.eq(PENDING))
        .filter(outbox::Column::Attempts.eq(attempts))
        .exec(db)
        .await?;
    if recorded.rows_affected == 0 {
        tracing::warn!(
            outbox_id = id,
            "outcome not recorded: the row was claimed again after its lease ran out"
        );
        return Ok(());
    }
    metrics::counter!("orderhub_outbox_attempts_total", "provider" => provider, "outcome" => outcome)
        .increment(1);
    Ok(())
}

/// What actually makes an outgoing call. The outbox owns durability, leases, retries and
/// backoff; the service that wrote a row knows what its operation means and performs it.
/// Kept as a trait so the outbox sits below the services and never imports them.
#[async_trait::async_trait]
pub trait Performer: Send + Sync + 'static {
    /// Performs one claimed row's operation; safe to repeat (delivery is at-least-once).
    async fn perform(
        &self,
        provider: ProviderId,
        operation: &str,
        order_id: Option<i64>,
        payload: &str,
    ) -> Result<(), Failure>;
}

/// Performs one claimed row.
async fn perform(performer: &dyn Performer, row: &outbox::Model) -> Result<(), Failure> {
    let provider: ProviderId = row
        .provider
        .parse()
        .map_err(|e| Failure::Permanent(format!("provider: {e}")))?;
    performer
        .perform(provider, &row.operation, row.order_id, &row.payload)
        .await
}

/// Works the outbox until shutdown: claims due rows, performs them, records the outcome.
pub async fn run(
    db: DatabaseConnection,
    performer: Arc<dyn Performer>,
    config: OutboxConfig,
    wake: Arc<Notify>,
    shutdown: CancellationToken,
) {
    let idle = Duration::from_millis(config.poll_interval_ms.max(50));
    loop {
        let claimed = match claim(&db, &config).await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "outbox: claiming failed");
                Vec::new()
            }
        };
        let busy = !claimed.is_empty();
        // The claimed rows stay leased while they wait and while their call is in flight:
        // renewed every third of the lease, so a worker that dies gives its rows back within
        // one lease, however long a call may take.
        let held: Mutex<Vec<(i64, i32)>> =
            Mutex::new(claimed.iter().map(|r| (r.id, r.attempts)).collect());
        let work = async {
            for row in claimed {
                let result = perform(performer.as_ref(), &row).await;
                if let Err(Failure::Retry(e) | Failure::Permanent(e)) = &result {
                    tracing::warn!(outbox_id = row.id, operation = %row.operation, attempt = row.attempts, error = %e, "outbox call failed");
                }
                let id = row.id;
                if let Err(e) = finish(&db, &config, row, result).await {
                    // The lease runs out and the row is tried again: at-least-once, like the
                    // platforms' own retries, which is why every operation is safe to repeat.
                    tracing::error!(error = %e, "outbox: recording an outcome failed");
                }
                lock(&held).retain(|(held_id, _)| *held_id != id);
            }
        };
        let renew = async {
            let every = lease(&config) / 3;
            loop {
                tokio::time::sleep(every).await;
                let rows = lock(&held).clone();
                if let Err(e) = renew_leases(&db, &config, &rows).await {
                    tracing::warn!(error = %e, "outbox: renewing leases failed");
                }
            }
        };
        tokio::select! {
            () = work => {}
            () = renew => {}
        }
        if busy {
            continue;
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = wake.notified() => {}
            _ = tokio::time::sleep(idle) => {}
        }
    }
}
