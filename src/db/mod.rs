//! Opening the database (SQLite or PostgreSQL), applying migrations, counting SQL
//! statements for the metrics endpoint, and the batched by-id read the repositories share.

pub mod lease;

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};
use secrecy::ExposeSecret;

use crate::config::DatabaseConfig;

/// Connects, creating the SQLite file's directory if needed, and runs pending migrations.
/// Every statement run on the connection is counted in `statements`: per instance, so
/// tests running side by side in one process don't see each other's queries.
pub async fn connect(
    config: &DatabaseConfig,
    statements: Arc<AtomicU64>,
) -> Result<DatabaseConnection, DbErr> {
    let url = config.url.expose_secret();
    let sqlite = url.starts_with("sqlite:");
    if sqlite {
        ensure_sqlite_dir(url)?;
    }
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.sqlx_logging(false)
        .acquire_timeout(Duration::from_secs(30))
        .max_connections(if sqlite { 1 } else { config.max_connections });
    if sqlite {
        opts.min_connections(1).map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
        });
    }
    let mut db = Database::connect(opts).await?;
    db.set_metric_callback(move |info| {
        statements.fetch_add(1, Ordering::Relaxed);
        if info.failed {
            metrics::counter!("orderhub_db_statement_errors_total").increment(1);
        }
    });
    Migrator::up(&db, None).await?;
    Ok(db)
}

/// The connection the API's reads go through. On SQLite, a pool of `readers` read-only
/// connections beside the single writer (WAL: they read the last commit while the writer
/// writes), counted in `statements` like the writer; on PostgreSQL, the writer's own pool.
/// Call after [`connect`] (the schema must exist).
pub async fn connect_readers(
    config: &DatabaseConfig,
    writer: &DatabaseConnection,
    statements: Arc<AtomicU64>,
) -> Result<DatabaseConnection, DbErr> {
    let url = config.url.expose_secret();
    // An in-memory database exists only on its own connection: the writer serves it all.
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    if !url.starts_with("sqlite:") || in_memory || config.readers == 0 {
        return Ok(writer.clone());
    }
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.sqlx_logging(false)
        .acquire_timeout(Duration::from_secs(30))
        .max_connections(config.readers)
        .min_connections(1)
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(10))
                .read_only(true)
        });
    let mut db = Database::connect(opts).await?;
    db.set_metric_callback(move |info| {
        statements.fetch_add(1, Ordering::Relaxed);
        if info.failed {
            metrics::counter!("orderhub_db_statement_errors_total").increment(1);
        }
    });
    Ok(db)
}

/// A connection of its own for `/healthz`: a health probe must say whether the database
/// answers, not wait in line behind the request traffic on the application's pool (on SQLite
/// that pool is a single writer connection). One connection, a short acquire timeout.
pub async fn connect_probe(config: &DatabaseConfig) -> Result<DatabaseConnection, DbErr> {
    let url = config.url.expose_secret();
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.sqlx_logging(false)
        .acquire_timeout(Duration::from_secs(2))
        .max_connections(1)
        .min_connections(0);
    if url.starts_with("sqlite:") {
        opts.map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(2))
        });
    }
    Database::connect(opts).await
}

fn ensure_sqlite_dir(url: &str) -> Result<(), DbErr> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    if let Some(dir) = std::path::Path::new(path).parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)
            .map_err(|e| DbErr::Custom(format!("creating {}: {e}", dir.display())))?;
    }
    Ok(())
}

/// Whether the database answers (the health check).
pub async fn ping(db: &DatabaseConnection) -> Result<(), DbErr> {
    use sea_orm::ConnectionTrait;
    db.execute_unprepared("SELECT 1").await.map(|_| ())
}

/// The rows of `E` whose `id` column is among `ids` (those that exist), by id: the one
/// batched lookup behind the DataLoaders of every repository.
pub async fn rows_by_id<E>(
    db: &DatabaseConnection,
    id: E::Column,
    ids: &[i64],
    id_of: impl Fn(&E::Model) -> i64,
) -> Result<std::collections::HashMap<i64, E::Model>, DbErr>
where
    E: sea_orm::EntityTrait,
{
    use sea_orm::{ColumnTrait, QueryFilter};
    Ok(E::find()
        .filter(id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|row| (id_of(&row), row))
        .collect())
}
