//! Storage: one `Store` trait, implemented once (`SqlStore`) over two
//! backends, MySQL (production, RDS) and SQLite (the embedded default).
//! The same contract tests run on both.

pub mod backend;
pub mod iam;
pub mod ledgers;
pub mod migrate;
pub mod mysql;
pub mod rollup;
pub mod sql;
mod sql_store;
#[cfg(feature = "sqlite")]
pub mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use time::Date;

use crate::domain::budget::{Budget, BudgetStatus};
use crate::domain::category::Category;
use crate::domain::cursor::Cursor;
use crate::domain::expense::Expense;
use crate::domain::filter::ListQuery;
use crate::domain::report::{SummaryGroup, SummaryQuery};
use crate::domain::UserId;

pub use ledgers::LedgerStore;
pub use sql_store::SqlStore;

/// Who acts, and in which ledger: what every call on a ledger's
/// expenses, categories, budgets and reports takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    /// The caller.
    pub user: UserId,
    /// The key the ledger's rows are filed under (`ledgers.ledger_key`).
    pub key: String,
    /// A shared ledger's id. Each write then checks, in its own
    /// transaction and under a shared lock that member changes wait for,
    /// that the ledger is live and the caller still one of its editors or
    /// owners. `None` for a personal ledger: its one member, its owner,
    /// never changes.
    pub shared_ledger: Option<String>,
}

impl Actor {
    /// The user in their personal ledger, whose key is their `sub`.
    pub fn personal(user: &UserId) -> Actor {
        Actor {
            user: user.clone(),
            key: user.as_str().to_owned(),
            shared_ledger: None,
        }
    }

    /// What idempotency records are filed under: the user in this ledger.
    /// In the personal ledger that is its key (the `sub`, as the previous
    /// release files them); in a shared one the ledger's id and a digest
    /// of the `sub` (a `sub` may take the column's whole width).
    pub fn idempotency_owner(&self) -> String {
        match &self.shared_ledger {
            None => self.key.clone(),
            Some(ledger) => format!(
                "{ledger}:{}",
                crate::domain::sha256_hex(&[self.user.as_str().as_bytes()])
            ),
        }
    }
}

/// What can go wrong below the HTTP layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached or did not answer in time: 503.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// `category_id` does not name one of the caller's categories.
    #[error("unknown category")]
    UnknownCategory,
    /// A deadlock or lock wait timeout: the transaction was rolled back and
    /// may simply be run again.
    #[error("transaction conflict: {0}")]
    Transient(String),
    /// A unique rule would be broken (a category name, an idempotency key).
    #[error("conflict with stored state")]
    Conflict,
    /// The caller is no longer a member of the live shared ledger they
    /// write to (removed, or the ledger deleted, since the request began):
    /// 404, as for any ledger they are no member of.
    #[error("not a member of the ledger")]
    NotMember,
    /// The caller's role in the shared ledger no longer allows writing: 403.
    #[error("the caller's role does not allow this")]
    Forbidden,
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

/// A response kept for replay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// The response an idempotent request answered with, stored with its key
/// (in the same transaction as the write it describes, when there is one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completion {
    /// Whose key it is (`Actor::idempotency_owner`).
    pub owner: String,
    pub key: String,
    pub response: StoredResponse,
}

/// What the post-deployment backfill recomputed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Backfill {
    pub users: u64,
    pub months: u64,
}

/// A stored idempotency record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyRecord {
    pub fingerprint: String,
    /// The response, once the first request finished.
    pub response: Option<StoredResponse>,
    /// While pending: until when the first request holds the key.
    pub lease_until: i64,
}

#[async_trait]
pub trait Store: LedgerStore + Send + Sync {
    /// Cheap round trip: the health check.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Starts connecting in the background (at start, so a cold start's
    /// first request does not begin from nothing).
    fn warm_up(&self);

    /// Applies pending migrations under a lock; returns how many ran.
    async fn migrate(&self) -> Result<usize, StoreError>;

    // Expenses.

    async fn insert_expense(
        &self,
        actor: &Actor,
        expense: &Expense,
        completion: Option<&Completion>,
    ) -> Result<(), StoreError>;

    async fn get_expense(&self, actor: &Actor, id: &str) -> Result<Option<Expense>, StoreError>;

    /// Stores `expense`, the new version of `current`, if the stored one
    /// is still at `current`'s version.
    async fn update_expense(
        &self,
        actor: &Actor,
        current: &Expense,
        expense: &Expense,
    ) -> Result<WriteOutcome, StoreError>;

    /// Deletes, if `expected_version` is `None` or matches.
    async fn delete_expense(
        &self,
        actor: &Actor,
        id: &str,
        expected_version: Option<i64>,
    ) -> Result<WriteOutcome, StoreError>;

    /// One page in `date DESC, id DESC` order: at most `query.limit + 1`
    /// rows, so the caller knows whether another page exists.
    async fn list_expenses(
        &self,
        actor: &Actor,
        query: &ListQuery,
    ) -> Result<Vec<Expense>, StoreError>;

    /// Stores expenses in one transaction, all or nothing. `categories`
    /// are those the expenses name, each with a new id: the ones the user
    /// has no category of that name (ignoring case) for are created, and
    /// every expense is filed under the stored one.
    async fn import_expenses(
        &self,
        actor: &Actor,
        categories: &[Category],
        expenses: &[Expense],
        completion: Option<&Completion>,
    ) -> Result<(), StoreError>;

    // Categories.

    /// `Conflict` when the name is taken (ignoring case). `completion`,
    /// if any, is stored in the same transaction.
    async fn insert_category(
        &self,
        actor: &Actor,
        category: &Category,
        completion: Option<&Completion>,
    ) -> Result<(), StoreError>;

    async fn get_category(&self, actor: &Actor, id: &str) -> Result<Option<Category>, StoreError>;

    async fn list_categories(&self, actor: &Actor) -> Result<Vec<Category>, StoreError>;

    /// `false` when there is no such category; `Conflict` on a taken name.
    async fn update_category(&self, actor: &Actor, category: &Category)
        -> Result<bool, StoreError>;

    /// Uncategorises its expenses and removes its budget; `false` when missing.
    async fn delete_category(&self, actor: &Actor, id: &str, now: i64) -> Result<bool, StoreError>;

    // Budgets.

    /// Creates or replaces; `None` when the category is not the user's.
    async fn put_budget(
        &self,
        actor: &Actor,
        budget: &Budget,
    ) -> Result<Option<Budget>, StoreError>;

    async fn delete_budget(&self, actor: &Actor, category_id: &str) -> Result<bool, StoreError>;

    /// Every budget with its category's spending between two dates.
    async fn budget_statuses(
        &self,
        actor: &Actor,
        from: Date,
        to: Date,
    ) -> Result<Vec<BudgetStatus>, StoreError>;

    // Reports.

    async fn summary(
        &self,
        actor: &Actor,
        query: &SummaryQuery,
    ) -> Result<Vec<SummaryGroup>, StoreError>;

    /// Recomputes every user's rollups and tag rows' dates from the
    /// expenses, month by month, then switches reports and tag pages to
    /// them. Run it once no older release (one that writes without keeping
    /// them) serves; safe to run again, and alongside this release's writes.
    async fn backfill(&self) -> Result<Backfill, StoreError>;

    // Idempotency keys.

    /// Claims `key` for a new request (`None`), or returns the live record
    /// that already holds it. Expired records do not count.
    async fn idempotency_begin(
        &self,
        owner: &str,
        key: &str,
        fingerprint: &str,
        now: i64,
        lease_until: i64,
        expires_at: i64,
    ) -> Result<Option<IdempotencyRecord>, StoreError>;

    /// Takes a pending key whose lease ran out; `true` when taken.
    async fn idempotency_take_over(
        &self,
        owner: &str,
        key: &str,
        now: i64,
        lease_until: i64,
    ) -> Result<bool, StoreError>;

    async fn idempotency_complete(&self, completion: &Completion) -> Result<(), StoreError>;

    /// Forgets a pending key, so a retry runs afresh.
    async fn idempotency_abandon(&self, owner: &str, key: &str) -> Result<(), StoreError>;

    /// Deletes records that expired before `now`; returns how many.
    async fn purge_idempotency(&self, now: i64) -> Result<u64, StoreError>;
}

pub type DynStore = Arc<dyn Store>;

/// The cursor that continues after `expense`.
pub fn cursor_after(expense: &Expense) -> Cursor {
    Cursor {
        date: expense.fields.date,
        id: expense.id.clone(),
    }
}
