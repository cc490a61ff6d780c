//! The embedded SQLite backend: local runs and fast tests, no server
//! needed. One connection behind an async mutex; each statement runs on a
//! blocking thread, so the runtime never waits on the disk.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::types::ValueRef;
use rusqlite::{params_from_iter, Connection, OptionalExtension};
use tokio::sync::{Mutex, OwnedMutexGuard};

use super::backend::{Backend, Cell, Row, Tx};
use super::migrate::SQLITE as MIGRATIONS;
use super::sql::{Dialect, Param};
use super::StoreError;

pub struct SqliteBackend {
    conn: Arc<Mutex<Connection>>,
}

impl rusqlite::ToSql for Param {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::ToSqlOutput;
        Ok(ToSqlOutput::Borrowed(match self {
            Param::Text(s) => ValueRef::Text(s.as_bytes()),
            Param::Bytes(b) => ValueRef::Blob(b),
            Param::Int(n) => ValueRef::Integer(*n),
            Param::Null => ValueRef::Null,
        }))
    }
}

fn classify(e: rusqlite::Error) -> StoreError {
    let text = e.to_string();
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::ConstraintViolation) if text.contains("FOREIGN KEY") => {
            // The category vanished between the check and the write.
            StoreError::UnknownCategory
        }
        Some(rusqlite::ErrorCode::ConstraintViolation) if text.contains("UNIQUE") => {
            StoreError::Conflict
        }
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
            StoreError::Transient(text)
        }
        _ => StoreError::Internal(text),
    }
}

fn read_rows(conn: &Connection, sql: &str, params: &[Param]) -> Result<Vec<Row>, StoreError> {
    let mut statement = conn.prepare_cached(sql).map_err(classify)?;
    let columns = statement.column_count();
    let mut rows = statement
        .query(params_from_iter(params.iter()))
        .map_err(classify)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(classify)? {
        let cells = (0..columns)
            .map(|i| match row.get_ref(i) {
                Ok(ValueRef::Integer(n)) => Cell::Int(n),
                Ok(ValueRef::Text(t)) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
                Ok(ValueRef::Blob(b)) => Cell::Bytes(b.to_vec()),
                _ => Cell::Null,
            })
            .collect();
        out.push(cells);
    }
    Ok(out)
}

fn execute(conn: &Connection, sql: &str, params: &[Param]) -> Result<u64, StoreError> {
    let mut statement = conn.prepare_cached(sql).map_err(classify)?;
    let changed = statement
        .execute(params_from_iter(params.iter()))
        .map_err(classify)?;
    Ok(changed as u64)
}

impl SqliteBackend {
    /// Opens `location`: a file path, or `:memory:`.
    pub fn open(location: &str) -> Result<SqliteBackend, StoreError> {
        let conn = if location == ":memory:" {
            Connection::open_in_memory()
        } else {
            if let Some(parent) = Path::new(location).parent() {
                if !parent.as_os_str().is_empty() {
                    std::fs::create_dir_all(parent).map_err(|e| {
                        StoreError::Unavailable(format!("cannot create {}: {e}", parent.display()))
                    })?;
                }
            }
            Connection::open(location)
        }
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(classify)?;
        conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL;")
            .map_err(classify)?;
        Ok(SqliteBackend {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `work` with the connection on a blocking thread.
    async fn with_conn<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let guard = Arc::clone(&self.conn).lock_owned().await;
        let (_, result) = on_blocking_thread(guard, |conn| {
            abandon_unfinished(conn);
            work(conn)
        })
        .await?;
        result
    }
}

/// Moves the locked connection to a blocking thread and back.
async fn on_blocking_thread<T: Send + 'static>(
    mut guard: OwnedMutexGuard<Connection>,
    work: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
) -> Result<(OwnedMutexGuard<Connection>, Result<T, StoreError>), StoreError> {
    tokio::task::spawn_blocking(move || {
        let result = work(&mut guard);
        (guard, result)
    })
    .await
    .map_err(|e| StoreError::Internal(e.to_string()))
}

/// Rolls back a transaction left open by a request that was cancelled
/// while its statement ran on a blocking thread.
fn abandon_unfinished(conn: &Connection) {
    if !conn.is_autocommit() {
        let _ = conn.execute_batch("ROLLBACK");
    }
}

/// A transaction holds the connection's lock from BEGIN to COMMIT.
struct SqliteTx {
    guard: Option<OwnedMutexGuard<Connection>>,
}

impl SqliteTx {
    async fn run<T: Send + 'static>(
        &mut self,
        work: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let guard = self
            .guard
            .take()
            .ok_or_else(|| StoreError::Internal("transaction already finished".into()))?;
        let (guard, result) = on_blocking_thread(guard, work).await?;
        self.guard = Some(guard);
        result
    }
}

impl Drop for SqliteTx {
    fn drop(&mut self) {
        // Not committed: undo, so the connection is clean for the next user.
        if let Some(conn) = &self.guard {
            let _ = conn.execute_batch("ROLLBACK");
        }
    }
}

#[async_trait]
impl Tx for SqliteTx {
    async fn exec(&mut self, sql: &str, params: Vec<Param>) -> Result<u64, StoreError> {
        let sql = sql.to_owned();
        self.run(move |conn| execute(conn, &sql, &params)).await
    }

    async fn query(&mut self, sql: &str, params: Vec<Param>) -> Result<Vec<Row>, StoreError> {
        let sql = sql.to_owned();
        self.run(move |conn| read_rows(conn, &sql, &params)).await
    }

    async fn commit(mut self: Box<Self>) -> Result<(), StoreError> {
        self.run(|conn| conn.execute_batch("COMMIT").map_err(classify))
            .await?;
        self.guard = None;
        Ok(())
    }
}

#[async_trait]
impl Backend for SqliteBackend {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.with_conn(|c| c.query_row("SELECT 1", [], |_| Ok(())).map_err(classify))
            .await
    }

    async fn migrate(&self) -> Result<usize, StoreError> {
        self.with_conn(|conn| {
            // An immediate transaction takes the write lock first: a second
            // process starting at the same time waits, then sees the result.
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(classify)?;
            tx.execute_batch(
                "CREATE TABLE IF NOT EXISTS schema_migrations (\
                 version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
            )
            .map_err(classify)?;
            let mut applied = 0;
            for migration in MIGRATIONS {
                let done: Option<i64> = tx
                    .query_row(
                        "SELECT version FROM schema_migrations WHERE version = ?",
                        [migration.version],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(classify)?;
                if done.is_some() {
                    continue;
                }
                for statement in migration.statements() {
                    tx.execute_batch(statement).map_err(classify)?;
                }
                tx.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    rusqlite::params![migration.version, migration.name, crate::domain::now_micros()],
                )
                .map_err(classify)?;
                applied += 1;
            }
            tx.commit().map_err(classify)?;
            Ok(applied)
        })
        .await
    }

    async fn begin(&self) -> Result<Box<dyn Tx>, StoreError> {
        let guard = Arc::clone(&self.conn).lock_owned().await;
        let mut tx = SqliteTx { guard: Some(guard) };
        // IMMEDIATE: take the write lock now, so two processes on one file
        // cannot deadlock upgrading read locks.
        tx.run(|conn| {
            abandon_unfinished(conn);
            conn.execute_batch("BEGIN IMMEDIATE").map_err(classify)
        })
        .await?;
        Ok(Box::new(tx))
    }

    async fn query(&self, sql: &str, params: Vec<Param>) -> Result<Vec<Row>, StoreError> {
        let sql = sql.to_owned();
        self.with_conn(move |conn| read_rows(conn, &sql, &params))
            .await
    }

    async fn exec(&self, sql: &str, params: Vec<Param>) -> Result<u64, StoreError> {
        let sql = sql.to_owned();
        self.with_conn(move |conn| execute(conn, &sql, &params))
            .await
    }
}
