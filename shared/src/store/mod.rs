//! Storage: one `Store` trait, implemented for MySQL (production, RDS) and
//! SQLite (the embedded default). The same contract tests run on both.

pub mod migrate;
pub mod mysql;
pub mod sql;
pub mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;

use crate::domain::cursor::Cursor;
use crate::domain::expense::{Expense, ExpenseFields};
use crate::domain::filter::ListQuery;
use crate::domain::money::{Currency, Money};
use crate::domain::text::parse_date;
use crate::domain::UserId;

/// What can go wrong below the HTTP layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached or did not answer in time: 503.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// `category_id` does not name one of the caller's categories.
    #[error("unknown category")]
    UnknownCategory,
    /// Anything else: a bug or corrupt data, logged and answered with 500.
    #[error("database error: {0}")]
    Internal(String),
}

/// Result of a conditional update or delete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteOutcome {
    Done,
    NotFound,
    /// The stored version is not the expected one.
    VersionMismatch,
}

#[async_trait]
pub trait Store: Send + Sync {
    /// Cheap round trip: the health check.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Applies pending migrations under a lock; returns how many ran.
    async fn migrate(&self) -> Result<usize, StoreError>;

    async fn insert_expense(&self, user: &UserId, expense: &Expense) -> Result<(), StoreError>;

    async fn get_expense(&self, user: &UserId, id: &str) -> Result<Option<Expense>, StoreError>;

    /// Stores `expense` (its new version) if the stored one has `expected_version`.
    async fn update_expense(
        &self,
        user: &UserId,
        expense: &Expense,
        expected_version: i64,
    ) -> Result<WriteOutcome, StoreError>;

    /// Deletes, if `expected_version` is `None` or matches.
    async fn delete_expense(
        &self,
        user: &UserId,
        id: &str,
        expected_version: Option<i64>,
    ) -> Result<WriteOutcome, StoreError>;

    /// One page in `date DESC, id DESC` order: at most `query.limit + 1`
    /// rows, so the caller knows whether another page exists.
    async fn list_expenses(
        &self,
        user: &UserId,
        query: &ListQuery,
    ) -> Result<Vec<Expense>, StoreError>;
}

pub type DynStore = Arc<dyn Store>;

/// An expense row as both backends read it, before validation.
pub(crate) struct ExpenseRow {
    pub id: String,
    pub amount_minor: i64,
    pub currency: String,
    pub date: String,
    pub category_id: Option<String>,
    pub merchant: Option<String>,
    pub description: Option<String>,
    pub tags: String,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl ExpenseRow {
    /// Rebuilds the domain value; a row that breaks its invariants is
    /// corrupt data, reported as internal.
    pub fn into_expense(self) -> Result<Expense, StoreError> {
        let corrupt =
            |what: &str| StoreError::Internal(format!("corrupt {what} in expense {}", self.id));
        let currency = Currency::parse(&self.currency).ok_or_else(|| corrupt("currency"))?;
        let money =
            Money::from_minor(self.amount_minor, currency).ok_or_else(|| corrupt("amount"))?;
        let date = parse_date(&self.date).ok_or_else(|| corrupt("date"))?;
        let tags: Vec<String> = serde_json::from_str(&self.tags).map_err(|_| corrupt("tags"))?;
        Ok(Expense {
            fields: ExpenseFields {
                money,
                date,
                category_id: self.category_id,
                merchant: self.merchant,
                description: self.description,
                tags,
            },
            id: self.id,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// The cursor that continues after `expense`.
pub fn cursor_after(expense: &Expense) -> Cursor {
    Cursor {
        date: expense.fields.date,
        id: expense.id.clone(),
    }
}
