//! The embedded SQLite store: local runs and fast tests, no server needed.
//! One connection behind a mutex, used from blocking threads.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{params_from_iter, Connection, OptionalExtension, TransactionBehavior};

use super::migrate::SQLITE as MIGRATIONS;
use super::sql::{self, Dialect, Param};
use super::{ExpenseRow, Store, StoreError, WriteOutcome};
use crate::domain::expense::Expense;
use crate::domain::filter::ListQuery;
use crate::domain::UserId;

pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
}

impl rusqlite::ToSql for Param {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self {
            Param::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Param::Int(n) => ToSqlOutput::Borrowed(ValueRef::Integer(*n)),
            Param::Null => ToSqlOutput::Borrowed(ValueRef::Null),
        })
    }
}

fn internal(e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        // The category vanished between the check and the write.
        Some(rusqlite::ErrorCode::ConstraintViolation) if e.to_string().contains("FOREIGN KEY") => {
            StoreError::UnknownCategory
        }
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
            StoreError::Unavailable(e.to_string())
        }
        _ => StoreError::Internal(e.to_string()),
    }
}

impl SqliteStore {
    /// Opens `location`: a file path, or `:memory:`.
    pub fn open(location: &str) -> Result<SqliteStore, StoreError> {
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
            .map_err(internal)?;
        conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL;")
            .map_err(internal)?;
        Ok(SqliteStore {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `work` with the connection on a blocking thread.
    async fn with_conn<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock cannot leave a half-written
            // transaction behind (rusqlite rolls back on drop), so a
            // poisoned lock is still safe to use.
            let mut guard = conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            work(&mut guard)
        })
        .await
        .map_err(|e| StoreError::Internal(e.to_string()))?
    }
}

fn read_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<ExpenseRow> {
    Ok(ExpenseRow {
        id: row.get(0)?,
        amount_minor: row.get(1)?,
        currency: row.get(2)?,
        date: row.get(3)?,
        category_id: row.get(4)?,
        merchant: row.get(5)?,
        description: row.get(6)?,
        tags: row.get(7)?,
        version: row.get(8)?,
        created_at: row.get(9)?,
        updated_at: row.get(10)?,
    })
}

/// Refuses a category that is not the user's.
fn check_category(
    tx: &rusqlite::Transaction<'_>,
    user: &UserId,
    expense: &Expense,
) -> Result<(), StoreError> {
    if let Some(category) = &expense.fields.category_id {
        let found = tx
            .query_row(sql::CATEGORY_EXISTS, [user.as_str(), category], |_| Ok(()))
            .optional()
            .map_err(internal)?;
        if found.is_none() {
            return Err(StoreError::UnknownCategory);
        }
    }
    Ok(())
}

/// Rewrites the tag rows of `expense`.
fn write_tags(
    tx: &rusqlite::Transaction<'_>,
    user: &UserId,
    expense: &Expense,
) -> Result<(), StoreError> {
    tx.execute(sql::DELETE_TAGS, [&expense.id])
        .map_err(internal)?;
    for tag in &expense.fields.tags {
        tx.execute(sql::INSERT_TAG, [&expense.id, user.as_str(), tag])
            .map_err(internal)?;
    }
    Ok(())
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> Result<(), StoreError> {
        self.with_conn(|c| c.query_row("SELECT 1", [], |_| Ok(())).map_err(internal))
            .await
    }

    async fn migrate(&self) -> Result<usize, StoreError> {
        self.with_conn(|conn| {
            // An immediate transaction takes the write lock first: a second
            // process starting at the same time waits, then sees the result.
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(internal)?;
            tx.execute_batch(
                "CREATE TABLE IF NOT EXISTS schema_migrations (\
                 version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
            )
            .map_err(internal)?;
            let mut applied = 0;
            for migration in MIGRATIONS {
                let done: Option<i64> = tx
                    .query_row(
                        "SELECT version FROM schema_migrations WHERE version = ?",
                        [migration.version],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(internal)?;
                if done.is_some() {
                    continue;
                }
                for statement in migration.statements() {
                    tx.execute_batch(statement).map_err(internal)?;
                }
                tx.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    rusqlite::params![migration.version, migration.name, crate::domain::now_micros()],
                )
                .map_err(internal)?;
                applied += 1;
            }
            tx.commit().map_err(internal)?;
            Ok(applied)
        })
        .await
    }

    async fn insert_expense(&self, user: &UserId, expense: &Expense) -> Result<(), StoreError> {
        let (user, expense) = (user.clone(), expense.clone());
        self.with_conn(move |conn| {
            let tx = conn.transaction().map_err(internal)?;
            check_category(&tx, &user, &expense)?;
            tx.execute(
                sql::INSERT_EXPENSE,
                params_from_iter(sql::insert_params(&user, &expense)),
            )
            .map_err(internal)?;
            write_tags(&tx, &user, &expense)?;
            tx.commit().map_err(internal)
        })
        .await
    }

    async fn get_expense(&self, user: &UserId, id: &str) -> Result<Option<Expense>, StoreError> {
        let (user, id) = (user.clone(), id.to_owned());
        let row = self
            .with_conn(move |conn| {
                conn.query_row(
                    &sql::select_expense(Dialect::Sqlite),
                    [user.as_str(), &id],
                    read_row,
                )
                .optional()
                .map_err(internal)
            })
            .await?;
        row.map(ExpenseRow::into_expense).transpose()
    }

    async fn update_expense(
        &self,
        user: &UserId,
        expense: &Expense,
        expected_version: i64,
    ) -> Result<WriteOutcome, StoreError> {
        let (user, expense) = (user.clone(), expense.clone());
        self.with_conn(move |conn| {
            let tx = conn.transaction().map_err(internal)?;
            check_category(&tx, &user, &expense)?;
            let changed = tx
                .execute(
                    sql::UPDATE_EXPENSE,
                    params_from_iter(sql::update_params(&user, &expense, expected_version)),
                )
                .map_err(internal)?;
            if changed == 0 {
                return version_outcome(&tx, &user, &expense.id);
            }
            write_tags(&tx, &user, &expense)?;
            tx.commit().map_err(internal)?;
            Ok(WriteOutcome::Done)
        })
        .await
    }

    async fn delete_expense(
        &self,
        user: &UserId,
        id: &str,
        expected_version: Option<i64>,
    ) -> Result<WriteOutcome, StoreError> {
        let (user, id) = (user.clone(), id.to_owned());
        self.with_conn(move |conn| {
            let tx = conn.transaction().map_err(internal)?;
            let deleted = match expected_version {
                Some(v) => tx.execute(
                    sql::DELETE_EXPENSE_AT_VERSION,
                    rusqlite::params![user.as_str(), id, v],
                ),
                None => tx.execute(sql::DELETE_EXPENSE, [user.as_str(), &id]),
            }
            .map_err(internal)?;
            if deleted == 0 {
                return version_outcome(&tx, &user, &id);
            }
            tx.commit().map_err(internal)?;
            Ok(WriteOutcome::Done)
        })
        .await
    }

    async fn list_expenses(
        &self,
        user: &UserId,
        query: &ListQuery,
    ) -> Result<Vec<Expense>, StoreError> {
        let (sql, params) = sql::list_query(Dialect::Sqlite, user, query);
        let rows = self
            .with_conn(move |conn| {
                let mut statement = conn.prepare_cached(&sql).map_err(internal)?;
                let rows = statement
                    .query_map(params_from_iter(params), read_row)
                    .map_err(internal)?;
                rows.collect::<Result<Vec<_>, _>>().map_err(internal)
            })
            .await?;
        rows.into_iter().map(ExpenseRow::into_expense).collect()
    }
}

/// After a conditional write changed nothing: was the row missing, or at
/// another version?
fn version_outcome(
    tx: &rusqlite::Transaction<'_>,
    user: &UserId,
    id: &str,
) -> Result<WriteOutcome, StoreError> {
    let version: Option<i64> = tx
        .query_row(sql::EXPENSE_VERSION, [user.as_str(), id], |r| r.get(0))
        .optional()
        .map_err(internal)?;
    Ok(match version {
        None => WriteOutcome::NotFound,
        Some(_) => WriteOutcome::VersionMismatch,
    })
}
