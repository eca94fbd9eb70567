//! The timeline in numbers: each status event also writes, on its order, how many seconds
//! after creation the order first reached `ACCEPTED`, `IN_PROGRESS` and `COMPLETED`, and who
//! cancelled it. `orderStats` durations and the courier scorecard read these columns instead
//! of searching the events. Written in the event's own transaction, so the two never disagree.

use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, Statement, Value};

use crate::domain::{EventKind, EventSource, OrderStatus};
use crate::events::StatusChange;

/// The column timing the first arrival in `status`, if the analytics time it.
pub fn step_column(status: OrderStatus) -> Option<&'static str> {
    match status {
        OrderStatus::Accepted => Some("accept_secs"),
        OrderStatus::InProgress => Some("pick_up_secs"),
        OrderStatus::Completed => Some("complete_secs"),
        _ => None,
    }
}

/// Who a cancellation learned from `source` came from.
pub fn cancelled_by(source: EventSource) -> &'static str {
    match source {
        EventSource::Api => "MERCHANT",
        EventSource::Create | EventSource::Poll | EventSource::Callback => "PLATFORM",
    }
}

/// Seconds from `b` to `a`, as SQL for `backend`.
pub fn seconds_sql(a: &str, b: &str, backend: DatabaseBackend) -> String {
    match backend {
        DatabaseBackend::Sqlite => {
            format!("CAST(ROUND((julianday({a}) - julianday({b})) * 86400) AS BIGINT)")
        }
        _ => format!("CAST(ROUND(EXTRACT(EPOCH FROM ({a} - {b}))) AS BIGINT)"),
    }
}

/// Records `change` (a status event, applied or only recorded) in its order's step columns:
/// the earliest time into a timed status wins, whatever order the news came in; an applied
/// cancellation says who cancelled.
pub async fn mark(
    txn: &impl ConnectionTrait,
    change: &StatusChange,
    applied: bool,
) -> Result<(), DbErr> {
    if change.kind != EventKind::Status {
        return Ok(());
    }
    let backend = txn.get_database_backend();
    let (p1, p2) = match backend {
        DatabaseBackend::Postgres => ("$1", "$2"),
        _ => ("?1", "?2"),
    };
    if let Some(column) = step_column(change.to) {
        let secs = seconds_sql(
            &match backend {
                DatabaseBackend::Postgres => format!("CAST({p1} AS TIMESTAMPTZ)"),
                _ => p1.to_owned(),
            },
            "created_at",
            backend,
        );
        let sql = format!(
            "UPDATE orders SET {column} = CASE WHEN {column} IS NULL OR {column} > {secs} \
             THEN {secs} ELSE {column} END WHERE id = {p2}"
        );
        let at: Value = change.occurred_at.into();
        txn.execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [at, change.order_id.into()],
        ))
        .await?;
    }
    if applied && change.to == OrderStatus::Cancelled {
        let sql = format!("UPDATE orders SET cancelled_by = {p1} WHERE id = {p2}");
        txn.execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [cancelled_by(change.source).into(), change.order_id.into()],
        ))
        .await?;
    }
    Ok(())
}
