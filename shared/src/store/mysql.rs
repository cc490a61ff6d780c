//! The MySQL store (RDS MySQL 8.4 in production, MariaDB 10.11 in tests),
//! through `mysql_async`. TLS is used when the URL asks for it
//! (`?require_ssl=true`). Every call is bounded: connect 2 s, whole
//! statement 5 s, then `Unavailable` (503), never a hang.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use mysql_async::prelude::{FromValue, Queryable};
use mysql_async::{Conn, Opts, OptsBuilder, Pool, PoolConstraints, PoolOpts, Row, TxOpts, Value};

use super::migrate::MYSQL as MIGRATIONS;
use super::sql::{self, Dialect, Param};
use super::{ExpenseRow, Store, StoreError, WriteOutcome};
use crate::domain::expense::Expense;
use crate::domain::filter::ListQuery;
use crate::domain::UserId;

/// How to reach MySQL and how long to wait for it.
#[derive(Clone, Debug)]
pub struct MysqlSettings {
    pub url: String,
    /// Most connections this process opens (1 in a Lambda container).
    pub pool_max: usize,
    /// `sql_mode` to set on each connection (tests use MySQL 8's on MariaDB).
    pub sql_mode: Option<String>,
    pub connect_timeout: Duration,
    pub statement_timeout: Duration,
}

pub struct MysqlStore {
    pool: Pool,
    connect_timeout: Duration,
    statement_timeout: Duration,
    /// When a connection was last taken: after a long pause (a frozen
    /// Lambda container, a quiet night) pooled connections may have been
    /// closed by the server or RDS Proxy, so they are checked first.
    last_used: std::sync::Mutex<Instant>,
}

/// Idle time after which a pooled connection is pinged before use.
const IDLE_CHECK_AFTER: Duration = Duration::from_secs(30);

/// The lock that serialises migrations across processes.
const MIGRATION_LOCK: &str = "expense_tracker.migrations";

impl From<Param> for Value {
    fn from(p: Param) -> Value {
        match p {
            Param::Text(s) => Value::Bytes(s.into_bytes()),
            Param::Int(n) => Value::Int(n),
            Param::Null => Value::NULL,
        }
    }
}

fn params(list: Vec<Param>) -> mysql_async::Params {
    mysql_async::Params::Positional(list.into_iter().map(Value::from).collect())
}

/// Sorts driver errors into "the database is not there" and the rest.
fn classify(e: mysql_async::Error) -> StoreError {
    match &e {
        mysql_async::Error::Io(_) | mysql_async::Error::Driver(_) => {
            StoreError::Unavailable(e.to_string())
        }
        mysql_async::Error::Server(server) => match server.code {
            // Foreign key failure: the category vanished under us.
            1452 => StoreError::UnknownCategory,
            // Too many connections, shutdown, lock wait timeout, deadlock,
            // query interrupted, connection killed, read-only failover.
            1040 | 1053 | 1205 | 1213 | 1317 | 1927 | 1290 | 1836 => {
                StoreError::Unavailable(e.to_string())
            }
            _ => StoreError::Internal(e.to_string()),
        },
        _ => StoreError::Internal(e.to_string()),
    }
}

fn col<T: FromValue>(row: &Row, index: usize) -> Result<T, StoreError> {
    match row.get_opt::<T, usize>(index) {
        Some(Ok(value)) => Ok(value),
        _ => Err(StoreError::Internal(format!("unreadable column {index}"))),
    }
}

fn read_row(row: &Row) -> Result<ExpenseRow, StoreError> {
    Ok(ExpenseRow {
        id: col(row, 0)?,
        amount_minor: col(row, 1)?,
        currency: col(row, 2)?,
        date: col(row, 3)?,
        category_id: col(row, 4)?,
        merchant: col(row, 5)?,
        description: col(row, 6)?,
        tags: col(row, 7)?,
        version: col(row, 8)?,
        created_at: col(row, 9)?,
        updated_at: col(row, 10)?,
    })
}

impl MysqlStore {
    /// Builds the pool; no connection is made until the first request, so
    /// a process starts even while the database is down.
    pub fn new(settings: &MysqlSettings) -> Result<MysqlStore, StoreError> {
        let opts = Opts::from_url(&settings.url)
            .map_err(|e| StoreError::Internal(format!("invalid DATABASE_URL: {e}")))?;
        let constraints = PoolConstraints::new(0, settings.pool_max.max(1))
            .ok_or_else(|| StoreError::Internal("invalid pool size".into()))?;
        let init: Vec<String> = settings
            .sql_mode
            .iter()
            .map(|mode| format!("SET SESSION sql_mode = '{}'", mode.replace('\'', "")))
            .collect();
        let builder = OptsBuilder::from_opts(opts)
            .pool_opts(PoolOpts::default().with_constraints(constraints))
            .prefer_socket(false)
            .init(init);
        Ok(MysqlStore {
            pool: Pool::new(builder),
            connect_timeout: settings.connect_timeout,
            statement_timeout: settings.statement_timeout,
            last_used: std::sync::Mutex::new(Instant::now()),
        })
    }

    async fn conn(&self) -> Result<Conn, StoreError> {
        let idle = {
            let mut last = self.last_used.lock().unwrap_or_else(|p| p.into_inner());
            let idle = last.elapsed() > IDLE_CHECK_AFTER;
            *last = Instant::now();
            idle
        };
        let mut conn = self.pooled().await?;
        if idle {
            let alive = tokio::time::timeout(Duration::from_secs(1), conn.ping())
                .await
                .is_ok_and(|pinged| pinged.is_ok());
            if !alive {
                // A broken connection is dropped, not returned to the pool.
                drop(conn);
                conn = self.pooled().await?;
            }
        }
        Ok(conn)
    }

    async fn pooled(&self) -> Result<Conn, StoreError> {
        match tokio::time::timeout(self.connect_timeout, self.pool.get_conn()).await {
            Ok(result) => result.map_err(classify),
            Err(_) => Err(StoreError::Unavailable(
                "timed out connecting to MySQL".into(),
            )),
        }
    }

    /// Bounds a whole database call by the statement budget.
    async fn bounded<T>(
        &self,
        work: impl std::future::Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(self.statement_timeout, work).await {
            Ok(result) => result,
            Err(_) => Err(StoreError::Unavailable(
                "MySQL did not answer in time".into(),
            )),
        }
    }

    /// Direct access for tests that inspect query plans.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }
}

/// Refuses a category that is not the user's.
async fn check_category(
    tx: &mut mysql_async::Transaction<'_>,
    user: &UserId,
    expense: &Expense,
) -> Result<(), StoreError> {
    if let Some(category) = &expense.fields.category_id {
        let found: Option<Row> = tx
            .exec_first(sql::CATEGORY_EXISTS, (user.as_str(), category.as_str()))
            .await
            .map_err(classify)?;
        if found.is_none() {
            return Err(StoreError::UnknownCategory);
        }
    }
    Ok(())
}

/// Rewrites the tag rows of `expense`.
async fn write_tags(
    tx: &mut mysql_async::Transaction<'_>,
    user: &UserId,
    expense: &Expense,
) -> Result<(), StoreError> {
    tx.exec_drop(sql::DELETE_TAGS, (expense.id.as_str(),))
        .await
        .map_err(classify)?;
    if !expense.fields.tags.is_empty() {
        let rows = expense
            .fields
            .tags
            .iter()
            .map(|tag| (expense.id.as_str(), user.as_str(), tag.as_str()));
        tx.exec_batch(sql::INSERT_TAG, rows)
            .await
            .map_err(classify)?;
    }
    Ok(())
}

/// After a conditional write changed nothing: missing row or other version?
async fn version_outcome(
    tx: &mut mysql_async::Transaction<'_>,
    user: &UserId,
    id: &str,
) -> Result<WriteOutcome, StoreError> {
    let version: Option<i64> = tx
        .exec_first(sql::EXPENSE_VERSION, (user.as_str(), id))
        .await
        .map_err(classify)?;
    Ok(match version {
        None => WriteOutcome::NotFound,
        Some(_) => WriteOutcome::VersionMismatch,
    })
}

#[async_trait]
impl Store for MysqlStore {
    async fn ping(&self) -> Result<(), StoreError> {
        self.bounded(async { self.conn().await?.ping().await.map_err(classify) })
            .await
    }

    async fn migrate(&self) -> Result<usize, StoreError> {
        // Migrations may take longer than a request: only the connect is
        // bounded here.
        let mut conn = self.conn().await?;
        let locked: Option<i64> = conn
            .exec_first("SELECT GET_LOCK(?, 60)", (MIGRATION_LOCK,))
            .await
            .map_err(classify)?;
        if locked != Some(1) {
            return Err(StoreError::Unavailable(
                "another process holds the migration lock".into(),
            ));
        }
        let result = apply_migrations(&mut conn).await;
        let released = conn
            .exec_drop("SELECT RELEASE_LOCK(?)", (MIGRATION_LOCK,))
            .await
            .map_err(classify);
        let applied = result?;
        released?;
        Ok(applied)
    }

    async fn insert_expense(&self, user: &UserId, expense: &Expense) -> Result<(), StoreError> {
        self.bounded(async {
            let mut conn = self.conn().await?;
            let mut tx = conn
                .start_transaction(TxOpts::default())
                .await
                .map_err(classify)?;
            check_category(&mut tx, user, expense).await?;
            tx.exec_drop(
                sql::INSERT_EXPENSE,
                params(sql::insert_params(user, expense)),
            )
            .await
            .map_err(classify)?;
            write_tags(&mut tx, user, expense).await?;
            tx.commit().await.map_err(classify)
        })
        .await
    }

    async fn get_expense(&self, user: &UserId, id: &str) -> Result<Option<Expense>, StoreError> {
        let row: Option<Row> = self
            .bounded(async {
                let mut conn = self.conn().await?;
                conn.exec_first(sql::select_expense(Dialect::Mysql), (user.as_str(), id))
                    .await
                    .map_err(classify)
            })
            .await?;
        row.map(|r| read_row(&r)?.into_expense()).transpose()
    }

    async fn update_expense(
        &self,
        user: &UserId,
        expense: &Expense,
        expected_version: i64,
    ) -> Result<WriteOutcome, StoreError> {
        self.bounded(async {
            let mut conn = self.conn().await?;
            let mut tx = conn
                .start_transaction(TxOpts::default())
                .await
                .map_err(classify)?;
            check_category(&mut tx, user, expense).await?;
            tx.exec_drop(
                sql::UPDATE_EXPENSE,
                params(sql::update_params(user, expense, expected_version)),
            )
            .await
            .map_err(classify)?;
            if tx.affected_rows() == 0 {
                return version_outcome(&mut tx, user, &expense.id).await;
            }
            write_tags(&mut tx, user, expense).await?;
            tx.commit().await.map_err(classify)?;
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
        self.bounded(async {
            let mut conn = self.conn().await?;
            let mut tx = conn
                .start_transaction(TxOpts::default())
                .await
                .map_err(classify)?;
            match expected_version {
                Some(v) => {
                    tx.exec_drop(sql::DELETE_EXPENSE_AT_VERSION, (user.as_str(), id, v))
                        .await
                }
                None => tx.exec_drop(sql::DELETE_EXPENSE, (user.as_str(), id)).await,
            }
            .map_err(classify)?;
            if tx.affected_rows() == 0 {
                return version_outcome(&mut tx, user, id).await;
            }
            tx.commit().await.map_err(classify)?;
            Ok(WriteOutcome::Done)
        })
        .await
    }

    async fn list_expenses(
        &self,
        user: &UserId,
        query: &ListQuery,
    ) -> Result<Vec<Expense>, StoreError> {
        let (sql, list_params) = sql::list_query(Dialect::Mysql, user, query);
        let rows: Vec<Row> = self
            .bounded(async {
                let mut conn = self.conn().await?;
                conn.exec(sql, params(list_params)).await.map_err(classify)
            })
            .await?;
        rows.iter().map(|r| read_row(r)?.into_expense()).collect()
    }
}

async fn apply_migrations(conn: &mut Conn) -> Result<usize, StoreError> {
    conn.query_drop(
        "CREATE TABLE IF NOT EXISTS schema_migrations (\
         version BIGINT NOT NULL PRIMARY KEY, name VARCHAR(200) NOT NULL, applied_at BIGINT NOT NULL\
         ) ENGINE=InnoDB",
    )
    .await
    .map_err(classify)?;
    let done: Vec<i64> = conn
        .query("SELECT version FROM schema_migrations")
        .await
        .map_err(classify)?;
    let mut applied = 0;
    for migration in MIGRATIONS.iter().filter(|m| !done.contains(&m.version)) {
        // MySQL commits DDL implicitly; the lock, not a transaction, keeps
        // two processes from applying the same migration.
        for statement in migration.statements() {
            conn.query_drop(statement).await.map_err(classify)?;
        }
        conn.exec_drop(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
            (
                migration.version,
                migration.name,
                crate::domain::now_micros(),
            ),
        )
        .await
        .map_err(classify)?;
        applied += 1;
    }
    Ok(applied)
}
