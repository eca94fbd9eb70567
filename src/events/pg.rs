//! Status changes across instances, through PostgreSQL LISTEN/NOTIFY. The notification is
//! sent inside the transaction that writes the event, so it is delivered if and only if the
//! change commits; every other instance reads the event row and publishes it to its own
//! subscribers. Notifications missed while a listener reconnects are not lost to clients:
//! the rows are in `order_event`, and subscribers resume with `afterEventId`.

use std::time::Duration;

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, Statement,
    sqlx::postgres::PgListener,
};
use tokio_util::sync::CancellationToken;

use super::{EventBus, StatusChange};

pub const CHANNEL: &str = "orderhub_status_changes";

/// The advisory lock that orders the commits of transactions writing applied events.
const EVENT_ORDER_LOCK: i64 = 0x6f68_6576_656e_7473; // "ohevents"

/// Makes the caller's transaction, which is about to write an applied event, commit after
/// every earlier one that did (PostgreSQL only; SQLite has one writer). Event ids then commit
/// in id order, so a subscriber that resumes after the last id it saw (`lastEventId`,
/// `afterEventId`) cannot miss a smaller id that committed later. Held from the event's
/// insert to the commit, which follows at once at every call site; PostgreSQL already
/// serialises the commits of notifying transactions, so this costs little more.
pub async fn order_event_commit(conn: &impl ConnectionTrait) -> Result<(), DbErr> {
    if conn.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    conn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_advisory_xact_lock($1)",
        [EVENT_ORDER_LOCK.into()],
    ))
    .await?;
    Ok(())
}

/// Queues the notification of `event_id` in the caller's transaction (PostgreSQL only).
pub async fn notify(
    conn: &impl ConnectionTrait,
    bus: &EventBus,
    event_id: i64,
) -> Result<(), DbErr> {
    if conn.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    conn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_notify($1, $2)",
        [
            CHANNEL.into(),
            format!("{}:{event_id}", bus.instance()).into(),
        ],
    ))
    .await?;
    Ok(())
}

/// Queues the notifications of several events in one statement (PostgreSQL only).
pub async fn notify_many(
    conn: &impl ConnectionTrait,
    bus: &EventBus,
    event_ids: &[i64],
) -> Result<(), DbErr> {
    if conn.get_database_backend() != DbBackend::Postgres || event_ids.is_empty() {
        return Ok(());
    }
    let payloads: Vec<String> = event_ids
        .iter()
        .map(|id| format!("{}:{id}", bus.instance()))
        .collect();
    conn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_notify($1, p) FROM unnest($2::text[]) WITH ORDINALITY AS t(p, n) ORDER BY n",
        [CHANNEL.into(), payloads.into()],
    ))
    .await?;
    Ok(())
}

/// Listens until shutdown, reconnecting with a pause after failures.
pub async fn listen(db: DatabaseConnection, bus: EventBus, shutdown: CancellationToken) {
    loop {
        match run(&db, &bus, &shutdown).await {
            Ok(()) => return,
            Err(e) => tracing::warn!(error = %e, "event listener failed; reconnecting"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

async fn run(
    db: &DatabaseConnection,
    bus: &EventBus,
    shutdown: &CancellationToken,
) -> Result<(), String> {
    let mut listener = PgListener::connect_with(db.get_postgres_connection_pool())
        .await
        .map_err(|e| e.to_string())?;
    listener.listen(CHANNEL).await.map_err(|e| e.to_string())?;
    loop {
        let n = tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            n = listener.recv() => n.map_err(|e| e.to_string())?,
        };
        let Some((instance, id)) = n.payload().split_once(':') else {
            continue;
        };
        if instance == bus.instance() {
            continue;
        }
        let Ok(id) = id.parse::<i64>() else { continue };
        match entity::order_event::Entity::find_by_id(id).one(db).await {
            Ok(Some(row)) if row.applied => {
                if let Some(change) = StatusChange::from_row(row) {
                    bus.publish(change);
                }
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, event_id = id, "event listener: reading the event failed")
            }
        }
    }
}
