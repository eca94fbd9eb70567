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

/// Listens until shutdown, reconnecting with a pause after failures. Nothing committed while
/// the listener was away is lost: each (re)connection first listens, then re-publishes the
/// other instances' applied events after the last one it processed, read from the table.
/// Event ids commit in id order ([`order_event_commit`]), so "after the last id processed"
/// is exactly what was missed, and a notification of an id already caught up is skipped.
pub async fn listen(db: DatabaseConnection, bus: EventBus, shutdown: CancellationToken) {
    // Events before start are history: subscribers replay them from the table themselves.
    let mut high = loop {
        match newest_event(&db).await {
            Ok(id) => break id,
            Err(e) => tracing::warn!(error = %e, "event listener: reading the newest event failed"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    };
    loop {
        match run(&db, &bus, &shutdown, &mut high).await {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(error = %e, "event listener lost its connection; reconnecting")
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

async fn newest_event(db: &DatabaseConnection) -> Result<i64, DbErr> {
    use sea_orm::{QueryOrder, QuerySelect};
    Ok(entity::order_event::Entity::find()
        .order_by_desc(entity::order_event::Column::Id)
        .limit(1)
        .one(db)
        .await?
        .map_or(0, |e| e.id))
}

/// Publishes other instances' applied events after `high`, oldest first; moves `high`.
async fn catch_up(db: &DatabaseConnection, bus: &EventBus, high: &mut i64) -> Result<(), DbErr> {
    use entity::order_event::{Column, Entity};
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
    loop {
        let rows = Entity::find()
            .filter(Column::Id.gt(*high))
            .order_by_asc(Column::Id)
            .limit(500)
            .all(db)
            .await?;
        let Some(last) = rows.last().map(|r| r.id) else {
            return Ok(());
        };
        for row in rows {
            let ours = row.origin.as_deref() == Some(bus.instance());
            if row.applied
                && !ours
                && let Some(change) = StatusChange::from_row(row)
            {
                metrics::counter!("orderhub_events_caught_up_total").increment(1);
                bus.publish(change);
            }
        }
        *high = last;
    }
}

async fn run(
    db: &DatabaseConnection,
    bus: &EventBus,
    shutdown: &CancellationToken,
    high: &mut i64,
) -> Result<(), String> {
    let mut listener = PgListener::connect_with(db.get_postgres_connection_pool())
        .await
        .map_err(|e| e.to_string())?;
    listener.listen(CHANNEL).await.map_err(|e| e.to_string())?;
    // Listening now: what committed before is in the table, what commits after is notified.
    catch_up(db, bus, high).await.map_err(|e| e.to_string())?;
    loop {
        let n = tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            n = listener.try_recv() => n.map_err(|e| e.to_string())?,
        };
        // None: the connection was lost (and notifications with it); reconnect, catch up.
        let n = n.ok_or_else(|| "the connection was lost".to_owned())?;
        let Some((instance, id)) = n.payload().split_once(':') else {
            continue;
        };
        let Ok(id) = id.parse::<i64>() else { continue };
        if id <= *high {
            continue; // caught up already
        }
        *high = id;
        if instance == bus.instance() {
            continue;
        }
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
