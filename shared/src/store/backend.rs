//! What the two databases must provide: single statements, transactions,
//! and their own way of locking migrations. All the storage logic is
//! written once, in `sql_store.rs`, on top of this.

use async_trait::async_trait;

use super::sql::{Dialect, Param};
use super::StoreError;

/// One column value as read back.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
}

pub type Row = Vec<Cell>;

fn unreadable(what: &str) -> StoreError {
    StoreError::Internal(format!("unreadable {what} column"))
}

impl Cell {
    pub fn int(&self) -> Result<i64, StoreError> {
        match self {
            Cell::Int(n) => Ok(*n),
            // MySQL's SUM of integers is a DECIMAL, sent as text.
            Cell::Text(s) => s.parse().map_err(|_| unreadable("integer")),
            Cell::Bytes(b) => std::str::from_utf8(b)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| unreadable("integer")),
            Cell::Null => Err(unreadable("integer")),
        }
    }

    pub fn text(&self) -> Result<String, StoreError> {
        self.opt_text()?.ok_or_else(|| unreadable("text"))
    }

    pub fn opt_text(&self) -> Result<Option<String>, StoreError> {
        match self {
            Cell::Null => Ok(None),
            Cell::Text(s) => Ok(Some(s.clone())),
            Cell::Bytes(b) => String::from_utf8(b.clone())
                .map(Some)
                .map_err(|_| unreadable("text")),
            Cell::Int(n) => Ok(Some(n.to_string())),
        }
    }

    pub fn opt_int(&self) -> Result<Option<i64>, StoreError> {
        match self {
            Cell::Null => Ok(None),
            other => other.int().map(Some),
        }
    }

    pub fn bytes(&self) -> Result<Vec<u8>, StoreError> {
        match self {
            Cell::Bytes(b) => Ok(b.clone()),
            Cell::Text(s) => Ok(s.clone().into_bytes()),
            Cell::Null => Ok(Vec::new()),
            Cell::Int(_) => Err(unreadable("bytes")),
        }
    }
}

/// An open transaction; dropped without `commit`, it rolls back.
#[async_trait]
pub trait Tx: Send {
    /// Runs a statement; returns the rows it matched.
    async fn exec(&mut self, sql: &str, params: Vec<Param>) -> Result<u64, StoreError>;
    async fn query(&mut self, sql: &str, params: Vec<Param>) -> Result<Vec<Row>, StoreError>;
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
}

#[async_trait]
pub trait Backend: Send + Sync {
    fn dialect(&self) -> Dialect;
    /// Starts opening a connection in the background, so that the first
    /// request (a cold start's) finds it ready or under way, not unstarted.
    fn warm_up(self: std::sync::Arc<Self>) {}
    async fn ping(&self) -> Result<(), StoreError>;
    /// Applies pending migrations under the backend's lock.
    async fn migrate(&self) -> Result<usize, StoreError>;
    async fn begin(&self) -> Result<Box<dyn Tx>, StoreError>;
    /// A transaction whose locking reads also lock the gaps between the
    /// rows they read (MySQL's REPEATABLE READ), so that no row can be
    /// added to a range it locked; a SQLite write transaction holds the
    /// whole database already.
    async fn begin_range_locking(&self) -> Result<Box<dyn Tx>, StoreError> {
        self.begin().await
    }
    /// One statement outside any explicit transaction.
    async fn query(&self, sql: &str, params: Vec<Param>) -> Result<Vec<Row>, StoreError>;
    async fn exec(&self, sql: &str, params: Vec<Param>) -> Result<u64, StoreError>;
}
