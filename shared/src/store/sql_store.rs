//! The storage logic, written once over a `Backend`: every method is one
//! statement or one transaction, bounded by the statement budget.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use time::Date;

use super::backend::{Backend, Row, Tx};
use super::iam::{RdsIamTokens, SystemClock};
use super::mysql::{MysqlBackend, MysqlSettings};
use super::rollup::{self, Deltas};
use super::sql::{self, Param, SUM_SPLIT};
#[cfg(feature = "sqlite")]
use super::sqlite::SqliteBackend;
use super::{
    Actor, Backfill, Completion, IdempotencyRecord, Store, StoreError, StoredResponse, WriteOutcome,
};
use crate::domain::budget::{Budget, BudgetStatus};
use crate::domain::category::Category;
use crate::domain::expense::{Expense, ExpenseFields};
use crate::domain::filter::ListQuery;
use crate::domain::money::{Currency, Money};
use crate::domain::report::{SummaryGroup, SummaryQuery};
use crate::domain::text::{fold, format_date, parse_date};

pub struct SqlStore {
    backend: Arc<dyn Backend>,
    statement_timeout: Duration,
    /// The post-deployment backfill (`rollup::READY`) seen finished: it
    /// never goes back.
    backfilled: AtomicBool,
}

impl SqlStore {
    pub fn new(backend: Arc<dyn Backend>, statement_timeout: Duration) -> SqlStore {
        SqlStore {
            backend,
            statement_timeout,
            backfilled: AtomicBool::new(false),
        }
    }

    #[cfg(feature = "sqlite")]
    pub fn sqlite(location: &str, statement_timeout: Duration) -> Result<SqlStore, StoreError> {
        Ok(SqlStore::new(
            Arc::new(SqliteBackend::open(location)?),
            statement_timeout,
        ))
    }

    /// A MySQL store; with `iam_auth`, credentials and region come from
    /// the environment (the Lambda or pod role) to sign tokens.
    pub async fn mysql(settings: &MysqlSettings) -> Result<SqlStore, StoreError> {
        let backend = if settings.iam_auth {
            let (host, port, key) = settings.endpoint()?;
            let tokens = RdsIamTokens::from_environment(&host, port, &key);
            MysqlBackend::with_passwords(settings, Arc::new(tokens), Arc::new(SystemClock))?
        } else {
            MysqlBackend::new(settings)?
        };
        Ok(SqlStore::new(Arc::new(backend), settings.statement_timeout))
    }

    /// Bounds a whole call by the statement budget: then `Unavailable`.
    pub(super) fn backend(&self) -> &Arc<dyn Backend> {
        &self.backend
    }

    pub(super) async fn bounded<T>(
        &self,
        work: impl std::future::Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(self.statement_timeout, work).await {
            Ok(result) => result,
            Err(_) => Err(StoreError::Unavailable(
                "the database did not answer in time".into(),
            )),
        }
    }
}

/// Most runs of one transaction that the database keeps rolling back.
const MAX_TRIES: u32 = 8;

/// Runs a transaction again when the database rolled it back for a deadlock
/// or lock timeout: the last line of defence (the write paths are built not
/// to deadlock each other), always inside the caller's time budget, which
/// bounds the whole. What still meets them is the deployment's backfill,
/// which locks one month of a key's expenses at a time: InnoDB picks the
/// smaller transaction, the writer, as the victim, and a writer whose rows
/// span several months can meet it month after month, so the pauses grow
/// (jittered, 1 ms up to 250 ms) until the backfill has moved on.
pub(super) async fn retrying<T, F, Fut>(mut attempt: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, StoreError>>,
{
    let mut tries = 1;
    loop {
        match attempt().await {
            Err(StoreError::Transient(cause)) if tries < MAX_TRIES => {
                tracing::warn!(cause = %cause, tries, "retrying a transaction");
                // Jittered, so the transactions that collided do not meet
                // again at once.
                let ceiling = (5u64 << tries).min(250);
                let pause = rand::random_range(1..=ceiling);
                tokio::time::sleep(Duration::from_millis(pause)).await;
                tries += 1;
            }
            other => return other,
        }
    }
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Internal(format!("corrupt {what} in the database"))
}

fn currency(text: &str) -> Result<Currency, StoreError> {
    Currency::parse(text).ok_or_else(|| corrupt("currency"))
}

fn money(minor: i64, code: &str) -> Result<Money, StoreError> {
    Money::from_minor(minor, currency(code)?).ok_or_else(|| corrupt("amount"))
}

/// A row of `sql::expense_columns`.
fn expense_from(row: &Row) -> Result<Expense, StoreError> {
    let tags: Vec<String> = serde_json::from_str(&row[7].text()?).map_err(|_| corrupt("tags"))?;
    Ok(Expense {
        id: row[0].text()?,
        fields: ExpenseFields {
            money: money(row[1].int()?, &row[2].text()?)?,
            date: parse_date(&row[3].text()?).ok_or_else(|| corrupt("date"))?,
            category_id: row[4].opt_text()?,
            merchant: row[5].opt_text()?,
            description: row[6].opt_text()?,
            tags,
        },
        version: row[8].int()?,
        created_at: row[9].int()?,
        updated_at: row[10].int()?,
        created_by: row[11].text()?,
        updated_by: row[12].text()?,
    })
}

fn category_from(row: &Row) -> Result<Category, StoreError> {
    Ok(Category {
        id: row[0].text()?,
        name: row[1].text()?,
        color: row[2].opt_text()?,
        created_at: row[3].int()?,
        updated_at: row[4].int()?,
    })
}

/// Budget columns: category_id, amount_minor, currency, created_at, updated_at.
fn budget_from(row: &Row) -> Result<Budget, StoreError> {
    Ok(Budget {
        category_id: row[0].text()?,
        money: money(row[1].int()?, &row[2].text()?)?,
        created_at: row[3].int()?,
        updated_at: row[4].int()?,
    })
}

/// Joins the two halves of `sql::split_sums`.
fn split_sum(high: &super::backend::Cell, low: &super::backend::Cell) -> Result<i128, StoreError> {
    Ok(i128::from(high.int()?) * i128::from(SUM_SPLIT) + i128::from(low.int()?))
}

async fn check_category(tx: &mut dyn Tx, key: &str, expense: &Expense) -> Result<(), StoreError> {
    if let Some(category) = &expense.fields.category_id {
        let found = tx
            .query(
                sql::CATEGORY_EXISTS,
                vec![key.into(), category.as_str().into()],
            )
            .await?;
        if found.is_empty() {
            return Err(StoreError::UnknownCategory);
        }
    }
    Ok(())
}

/// Finds or creates the categories an import names, in one order (by
/// folded name, the unique index's byte order) so that concurrent imports
/// lock them alike. A plain insert either creates the category or, finding
/// one of that name, fails with `Conflict` and leaves a shared lock on the
/// stored row: concurrent imports of the same categories share those locks
/// and run side by side, and none of them upgrades a lock it shares (an
/// upsert's exclusive lock would make every import of a category wait for
/// the one before it). The transaction holds every category it files rows
/// under before it inserts any row. Answers, for each of `categories`
/// stored under another id, its id → the stored id.
async fn create_categories(
    tx: &mut dyn Tx,
    key: &str,
    categories: &[Category],
) -> Result<HashMap<String, String>, StoreError> {
    if categories.is_empty() {
        return Ok(HashMap::new());
    }
    let mut sorted: Vec<&Category> = categories.iter().collect();
    sorted.sort_by_cached_key(|c| fold(&c.name));
    for category in &sorted {
        match tx
            .exec(sql::INSERT_CATEGORY, category_params(key, category))
            .await
        {
            Ok(_) | Err(StoreError::Conflict) => {}
            Err(e) => return Err(e),
        }
    }
    let mut params: Vec<Param> = vec![key.into()];
    params.extend(sorted.iter().map(|c| fold(&c.name).into()));
    let stored: HashMap<String, String> = tx
        .query(&sql::categories_named(sorted.len()), params)
        .await?
        .iter()
        .map(|row| Ok((row[1].text()?, row[0].text()?)))
        .collect::<Result<_, StoreError>>()?;
    let mut renamed = HashMap::new();
    for category in sorted {
        let id = stored
            .get(&fold(&category.name))
            .ok_or_else(|| StoreError::Internal("an imported category vanished".into()))?;
        if *id != category.id {
            renamed.insert(category.id.clone(), id.clone());
        }
    }
    Ok(renamed)
}

/// Adds tag rows, each an (expense, tag) pair, dated as the expense is, in
/// as few statements as `sql::MAX_PARAMS` allows.
async fn insert_tags(
    tx: &mut dyn Tx,
    key: &str,
    tags: &[(&Expense, &String)],
) -> Result<(), StoreError> {
    for chunk in tags.chunks(sql::MAX_PARAMS / sql::TAG_INSERT_PARAMS) {
        let mut params: Vec<Param> = Vec::with_capacity(chunk.len() * sql::TAG_INSERT_PARAMS);
        for (expense, tag) in chunk {
            params.extend([
                expense.id.as_str().into(),
                key.into(),
                tag.as_str().into(),
                format_date(expense.fields.date).into(),
            ]);
        }
        tx.exec(&sql::insert_tags(chunk.len()), params).await?;
    }
    Ok(())
}

/// Moves an expense's tag rows from `before`'s tags to `after`'s: deletes
/// only those removed, by key, inserts only those added, and re-dates those
/// kept when the date changed. (Deleting all of an expense's tags and
/// inserting them again would lock a range: under concurrency that is where
/// creates and updates deadlocked.)
async fn change_tags(
    tx: &mut dyn Tx,
    key: &str,
    before: &Expense,
    after: &Expense,
) -> Result<(), StoreError> {
    let (old, new) = (&before.fields.tags, &after.fields.tags);
    let removed: Vec<&String> = old.iter().filter(|t| !new.contains(t)).collect();
    let added: Vec<&String> = new.iter().filter(|t| !old.contains(t)).collect();
    if !removed.is_empty() {
        let mut params: Vec<Param> = vec![after.id.as_str().into()];
        params.extend(removed.iter().map(|t| t.as_str().into()));
        tx.exec(&sql::delete_tags(removed.len()), params).await?;
    }
    let kept: Vec<&String> = new.iter().filter(|t| old.contains(t)).collect();
    if before.fields.date != after.fields.date && !kept.is_empty() {
        let mut params: Vec<Param> = vec![
            format_date(after.fields.date).into(),
            after.id.as_str().into(),
        ];
        params.extend(kept.iter().map(|t| t.as_str().into()));
        tx.exec(&sql::redate_tags(kept.len()), params).await?;
    }
    let added: Vec<(&Expense, &String)> = added.into_iter().map(|t| (after, t)).collect();
    insert_tags(tx, key, &added).await
}

/// Inserts new expenses and their tags, in as few statements as
/// `sql::MAX_PARAMS` allows (an import of thousands of rows is a handful of
/// round trips, not thousands, so its locks are held briefly).
async fn insert_expenses(
    tx: &mut dyn Tx,
    key: &str,
    expenses: &[&Expense],
) -> Result<(), StoreError> {
    for chunk in expenses.chunks(sql::MAX_PARAMS / sql::EXPENSE_INSERT_PARAMS) {
        let params: Vec<Param> = chunk
            .iter()
            .flat_map(|e| sql::insert_params(key, e))
            .collect();
        tx.exec(&sql::insert_expenses(chunk.len()), params).await?;
    }
    let tags: Vec<(&Expense, &String)> = expenses
        .iter()
        .flat_map(|e| e.fields.tags.iter().map(move |t| (*e, t)))
        .collect();
    insert_tags(tx, key, &tags).await
}

pub(super) async fn complete(tx: &mut dyn Tx, completion: &Completion) -> Result<(), StoreError> {
    let headers = serde_json::to_string(&completion.response.headers)
        .map_err(|e| StoreError::Internal(e.to_string()))?;
    tx.exec(
        sql::COMPLETE_IDEMPOTENCY,
        vec![
            i64::from(completion.response.status).into(),
            headers.into(),
            completion.response.body.clone().into(),
            completion.owner.as_str().into(),
            completion.key.as_str().into(),
        ],
    )
    .await?;
    Ok(())
}

/// After a conditional write changed nothing: missing row or other version?
async fn version_outcome(tx: &mut dyn Tx, key: &str, id: &str) -> Result<WriteOutcome, StoreError> {
    let rows = tx
        .query(sql::EXPENSE_VERSION, vec![key.into(), id.into()])
        .await?;
    Ok(if rows.is_empty() {
        WriteOutcome::NotFound
    } else {
        WriteOutcome::VersionMismatch
    })
}

impl SqlStore {
    /// Begins a write in `actor`'s ledger: in a shared one, checking the
    /// caller may write there (`ledgers::check_writer`).
    async fn begin_write(&self, actor: &Actor) -> Result<Box<dyn Tx>, StoreError> {
        let mut tx = self.backend.begin().await?;
        if let Some(ledger) = &actor.shared_ledger {
            super::ledgers::check_writer(&mut tx, self.backend.dialect(), ledger, &actor.user)
                .await?;
        }
        Ok(tx)
    }

    /// One statement as a write in `actor`'s ledger; the rows it changed.
    /// In a personal ledger that is the statement alone.
    /// With `completion`, it is stored in the same transaction.
    async fn exec_write(
        &self,
        actor: &Actor,
        statement: &str,
        params: Vec<Param>,
        completion: Option<&Completion>,
    ) -> Result<u64, StoreError> {
        if actor.shared_ledger.is_none() && completion.is_none() {
            return self.bounded(self.backend.exec(statement, params)).await;
        }
        self.bounded(retrying(|| async {
            let mut tx = self.begin_write(actor).await?;
            let changed = tx.exec(statement, params.clone()).await?;
            if let Some(completion) = completion {
                complete(&mut *tx, completion).await?;
            }
            tx.commit().await?;
            Ok(changed)
        }))
        .await
    }

    /// Whether reads may use the rollups and the tag rows' dates: the
    /// post-deployment backfill has finished.
    async fn backfilled(&self) -> Result<bool, StoreError> {
        if self.backfilled.load(Ordering::Relaxed) {
            return Ok(true);
        }
        let rows = self
            .bounded(
                self.backend
                    .query(rollup::IS_READY, vec![rollup::READY.into()]),
            )
            .await?;
        let ready = !rows.is_empty();
        self.backfilled.fetch_or(ready, Ordering::Relaxed);
        Ok(ready)
    }

    /// The summary summed from the expenses themselves: what reads answer
    /// until the backfill has finished, and what the rollups must always
    /// equal.
    pub async fn summary_from_expenses(
        &self,
        key: &str,
        query: &SummaryQuery,
    ) -> Result<Vec<SummaryGroup>, StoreError> {
        let (sql, params) = sql::summary(self.backend.dialect(), key, query);
        self.summary_rows(&sql, params).await
    }

    /// Budgets with their spending summed from the expenses (see
    /// `summary_from_expenses`).
    pub async fn budget_statuses_from_expenses(
        &self,
        key: &str,
        from: Date,
        to: Date,
    ) -> Result<Vec<BudgetStatus>, StoreError> {
        let params = vec![format_date(from).into(), format_date(to).into(), key.into()];
        self.budget_rows(&sql::budget_statuses(self.backend.dialect()), params)
            .await
    }

    /// Columns: key, currency, high sum, low sum, count.
    async fn summary_rows(
        &self,
        sql: &str,
        params: Vec<Param>,
    ) -> Result<Vec<SummaryGroup>, StoreError> {
        let rows = self.bounded(self.backend.query(sql, params)).await?;
        rows.iter()
            .map(|row| {
                Ok(SummaryGroup {
                    key: row[0].opt_text()?,
                    currency: currency(&row[1].text()?)?,
                    total: split_sum(&row[2], &row[3])?,
                    count: row[4].int()?,
                })
            })
            .collect()
    }

    /// Columns: the budget's (`budget_from`), then high and low sums.
    async fn budget_rows(
        &self,
        sql: &str,
        params: Vec<Param>,
    ) -> Result<Vec<BudgetStatus>, StoreError> {
        let rows = self.bounded(self.backend.query(sql, params)).await?;
        rows.iter()
            .map(|row| {
                Ok(BudgetStatus {
                    budget: budget_from(row)?,
                    spent: split_sum(&row[5], &row[6])?,
                })
            })
            .collect()
    }

    /// Recomputes one key's rollups of one month from the expenses, and
    /// corrects their tag rows' dates, with that month's expenses locked
    /// (see `rollup::lock_month`): a write under way is waited for and
    /// counted, a later one waits and then adds its change to the
    /// recomputed rows.
    async fn backfill_month(&self, user: &str, first: Date) -> Result<(), StoreError> {
        let dialect = self.backend.dialect();
        let (from, to) = (format_date(first), format_date(rollup::month_end(first)));
        let range =
            || -> Vec<Param> { vec![user.into(), from.as_str().into(), to.as_str().into()] };
        let mut tx = self.backend.begin_range_locking().await?;
        tx.query(rollup::lock_month(dialect), range()).await?;
        tx.exec(rollup::redate_month_tags(dialect), range()).await?;
        tx.exec(rollup::DELETE_MONTH, range()).await?;
        for statement in rollup::backfill_days(dialect) {
            let mut params: Vec<Param> = vec![user.into()];
            params.extend(range());
            tx.exec(&statement, params).await?;
        }
        let mut params: Vec<Param> = vec![user.into(), from.as_str().into()];
        params.extend(range());
        tx.exec(rollup::BACKFILL_MONTH, params).await?;
        tx.commit().await
    }
}

fn category_params(key: &str, c: &Category) -> Vec<Param> {
    vec![
        c.id.as_str().into(),
        key.into(),
        c.name.as_str().into(),
        fold(&c.name).into(),
        c.color.clone().into(),
        c.created_at.into(),
        c.updated_at.into(),
    ]
}

#[async_trait]
impl Store for SqlStore {
    async fn ping(&self) -> Result<(), StoreError> {
        self.bounded(self.backend.ping()).await
    }

    fn warm_up(&self) {
        Arc::clone(&self.backend).warm_up();
    }

    async fn migrate(&self) -> Result<usize, StoreError> {
        // Migrations may take longer than a request; the backend bounds
        // its connect and its lock wait.
        self.backend.migrate().await
    }

    async fn insert_expense(
        &self,
        actor: &Actor,
        expense: &Expense,
        completion: Option<&Completion>,
    ) -> Result<(), StoreError> {
        let key = actor.key.as_str();
        self.bounded(retrying(|| async {
            let mut tx = self.begin_write(actor).await?;
            check_category(&mut *tx, key, expense).await?;
            insert_expenses(&mut *tx, key, &[expense]).await?;
            if let Some(completion) = completion {
                complete(&mut *tx, completion).await?;
            }
            let mut deltas = Deltas::default();
            deltas.add(expense, 1);
            rollup::apply(&mut *tx, self.backend.dialect(), key, &deltas).await?;
            tx.commit().await
        }))
        .await
    }

    async fn get_expense(&self, actor: &Actor, id: &str) -> Result<Option<Expense>, StoreError> {
        let key = actor.key.as_str();
        let sql = sql::select_expense(self.backend.dialect());
        let rows = self
            .bounded(self.backend.query(&sql, vec![key.into(), id.into()]))
            .await?;
        rows.first().map(expense_from).transpose()
    }

    async fn update_expense(
        &self,
        actor: &Actor,
        current: &Expense,
        expense: &Expense,
    ) -> Result<WriteOutcome, StoreError> {
        let key = actor.key.as_str();
        self.bounded(retrying(|| async {
            let mut tx = self.begin_write(actor).await?;
            check_category(&mut *tx, key, expense).await?;
            let changed = tx
                .exec(
                    sql::UPDATE_EXPENSE,
                    sql::update_params(key, expense, current.version),
                )
                .await?;
            if changed == 0 {
                return version_outcome(&mut *tx, key, &expense.id).await;
            }
            // The stored row was at `current.version`, so its tags are
            // `current`'s.
            change_tags(&mut *tx, key, current, expense).await?;
            let mut deltas = Deltas::default();
            deltas.add(current, -1);
            deltas.add(expense, 1);
            rollup::apply(&mut *tx, self.backend.dialect(), key, &deltas).await?;
            tx.commit().await?;
            Ok(WriteOutcome::Done)
        }))
        .await
    }

    async fn delete_expense(
        &self,
        actor: &Actor,
        id: &str,
        expected_version: Option<i64>,
    ) -> Result<WriteOutcome, StoreError> {
        let key = actor.key.as_str();
        self.bounded(retrying(|| async {
            let mut tx = self.begin_write(actor).await?;
            // Read under the row's lock: what is deleted is what the
            // rollups then count out.
            let dialect = self.backend.dialect();
            let rows = tx
                .query(&sql::lock_expense(dialect), vec![key.into(), id.into()])
                .await?;
            let Some(stored) = rows.first().map(expense_from).transpose()? else {
                return Ok(WriteOutcome::NotFound);
            };
            if expected_version.is_some_and(|v| v != stored.version) {
                return Ok(WriteOutcome::VersionMismatch);
            }
            tx.exec(sql::DELETE_EXPENSE, vec![key.into(), id.into()])
                .await?;
            let mut deltas = Deltas::default();
            deltas.add(&stored, -1);
            rollup::apply(&mut *tx, dialect, key, &deltas).await?;
            tx.commit().await?;
            Ok(WriteOutcome::Done)
        }))
        .await
    }

    async fn list_expenses(
        &self,
        actor: &Actor,
        query: &ListQuery,
    ) -> Result<Vec<Expense>, StoreError> {
        let key = actor.key.as_str();
        let tag_dates = query.filter.tag.is_some() && self.backfilled().await?;
        let (sql, params) = sql::list_query(self.backend.dialect(), key, query, tag_dates);
        let rows = self.bounded(self.backend.query(&sql, params)).await?;
        rows.iter().map(expense_from).collect()
    }

    async fn import_expenses(
        &self,
        actor: &Actor,
        categories: &[Category],
        expenses: &[Expense],
        completion: Option<&Completion>,
    ) -> Result<(), StoreError> {
        let key = actor.key.as_str();
        // A large import may take a while: twice the usual budget.
        let budget = self.statement_timeout * 2;
        let work = retrying(|| async {
            let mut tx = self.begin_write(actor).await?;
            let ids = create_categories(&mut *tx, key, categories).await?;
            let filed: Vec<Cow<Expense>> = expenses
                .iter()
                .map(|expense| {
                    let mut expense = Cow::Borrowed(expense);
                    if let Some(id) = expense.fields.category_id.as_ref().and_then(|c| ids.get(c)) {
                        expense.to_mut().fields.category_id = Some(id.clone());
                    }
                    expense
                })
                .collect();
            let filed: Vec<&Expense> = filed.iter().map(|e| e.as_ref()).collect();
            insert_expenses(&mut *tx, key, &filed).await?;
            if let Some(completion) = completion {
                complete(&mut *tx, completion).await?;
            }
            let mut deltas = Deltas::default();
            for expense in &filed {
                deltas.add(expense, 1);
            }
            rollup::apply(&mut *tx, self.backend.dialect(), key, &deltas).await?;
            tx.commit().await
        });
        tokio::time::timeout(budget, work)
            .await
            .unwrap_or_else(|_| {
                Err(StoreError::Unavailable(
                    "the import did not finish in time".into(),
                ))
            })
    }

    async fn insert_category(
        &self,
        actor: &Actor,
        category: &Category,
        completion: Option<&Completion>,
    ) -> Result<(), StoreError> {
        let params = category_params(actor.key.as_str(), category);
        self.exec_write(actor, sql::INSERT_CATEGORY, params, completion)
            .await
            .map(|_| ())
    }

    async fn get_category(&self, actor: &Actor, id: &str) -> Result<Option<Category>, StoreError> {
        let key = actor.key.as_str();
        let rows = self
            .bounded(
                self.backend
                    .query(&sql::select_category(), vec![key.into(), id.into()]),
            )
            .await?;
        rows.first().map(category_from).transpose()
    }

    async fn list_categories(&self, actor: &Actor) -> Result<Vec<Category>, StoreError> {
        let key = actor.key.as_str();
        let rows = self
            .bounded(
                self.backend
                    .query(&sql::list_categories(), vec![key.into()]),
            )
            .await?;
        rows.iter().map(category_from).collect()
    }

    async fn update_category(
        &self,
        actor: &Actor,
        category: &Category,
    ) -> Result<bool, StoreError> {
        let key = actor.key.as_str();
        let params = vec![
            category.name.as_str().into(),
            fold(&category.name).into(),
            category.color.clone().into(),
            category.updated_at.into(),
            key.into(),
            category.id.as_str().into(),
        ];
        Ok(self
            .exec_write(actor, sql::UPDATE_CATEGORY, params, None)
            .await?
            > 0)
    }

    async fn delete_category(&self, actor: &Actor, id: &str, now: i64) -> Result<bool, StoreError> {
        let key = actor.key.as_str();
        let lock = sql::lock_category(self.backend.dialect());
        self.bounded(retrying(|| async {
            let mut tx = self.begin_write(actor).await?;
            let found = tx.query(lock, vec![key.into(), id.into()]).await?;
            if found.is_empty() {
                return Ok(false);
            }
            tx.exec(
                sql::UNCATEGORISE_EXPENSES,
                vec![now.into(), key.into(), id.into()],
            )
            .await?;
            for statement in rollup::move_category_to_none(self.backend.dialect()) {
                tx.exec(&statement, vec![key.into(), id.into()]).await?;
            }
            tx.exec(sql::DELETE_BUDGET, vec![key.into(), id.into()])
                .await?;
            let deleted = tx
                .exec(sql::DELETE_CATEGORY, vec![key.into(), id.into()])
                .await?;
            if deleted == 0 {
                return Ok(false);
            }
            tx.commit().await?;
            Ok(true)
        }))
        .await
    }

    async fn put_budget(
        &self,
        actor: &Actor,
        budget: &Budget,
    ) -> Result<Option<Budget>, StoreError> {
        let key = actor.key.as_str();
        let dialect = self.backend.dialect();
        self.bounded(retrying(|| async {
            let mut tx = self.begin_write(actor).await?;
            let owned = tx
                .query(
                    sql::CATEGORY_EXISTS,
                    vec![key.into(), budget.category_id.as_str().into()],
                )
                .await?;
            if owned.is_empty() {
                return Ok(None);
            }
            let amount = budget.money.minor_units();
            let code = budget.money.currency().code();
            let upserted = tx
                .exec(
                    sql::upsert_budget(dialect),
                    vec![
                        key.into(),
                        budget.category_id.as_str().into(),
                        amount.into(),
                        code.into(),
                        budget.created_at.into(),
                        budget.updated_at.into(),
                        amount.into(),
                        code.into(),
                        budget.updated_at.into(),
                    ],
                )
                .await;
            match upserted {
                // Deleted since the check above: as if it never was.
                Err(StoreError::UnknownCategory) => return Ok(None),
                other => other?,
            };
            let rows = tx
                .query(
                    sql::SELECT_BUDGET,
                    vec![key.into(), budget.category_id.as_str().into()],
                )
                .await?;
            let stored = rows.first().map(budget_from).transpose()?;
            tx.commit().await?;
            Ok(stored)
        }))
        .await
    }

    async fn delete_budget(&self, actor: &Actor, category_id: &str) -> Result<bool, StoreError> {
        let params = vec![actor.key.as_str().into(), category_id.into()];
        Ok(self
            .exec_write(actor, sql::DELETE_BUDGET, params, None)
            .await?
            > 0)
    }

    async fn budget_statuses(
        &self,
        actor: &Actor,
        from: Date,
        to: Date,
    ) -> Result<Vec<BudgetStatus>, StoreError> {
        let key = actor.key.as_str();
        let whole_month = from.day() == 1 && to == rollup::month_end(from);
        if !whole_month || !self.backfilled().await? {
            return self.budget_statuses_from_expenses(key, from, to).await;
        }
        let params = vec![format_date(from).into(), key.into()];
        self.budget_rows(&rollup::budget_statuses(), params).await
    }

    async fn summary(
        &self,
        actor: &Actor,
        query: &SummaryQuery,
    ) -> Result<Vec<SummaryGroup>, StoreError> {
        let key = actor.key.as_str();
        if !self.backfilled().await? {
            return self.summary_from_expenses(key, query).await;
        }
        let (sql, params) = rollup::summary(self.backend.dialect(), key, query);
        self.summary_rows(&sql, params).await
    }

    async fn backfill(&self) -> Result<Backfill, StoreError> {
        let dialect = self.backend.dialect();
        let mut done = Backfill::default();
        // Every user id is longer than this.
        let mut after = String::new();
        loop {
            let rows = self
                .bounded(self.backend.query(
                    rollup::NEXT_USER,
                    vec![after.as_str().into(), after.as_str().into()],
                ))
                .await?;
            let Some(user) = rows.first().map(|r| r[0].opt_text()).transpose()?.flatten() else {
                break;
            };
            let mut from = rollup::EARLIEST;
            loop {
                let rows = self
                    .bounded(self.backend.query(
                        &rollup::next_month(dialect),
                        vec![
                            user.as_str().into(),
                            format_date(from).into(),
                            user.as_str().into(),
                            format_date(from).into(),
                        ],
                    ))
                    .await?;
                let Some(day) = rows.first().map(|r| r[0].opt_text()).transpose()?.flatten() else {
                    break;
                };
                let day = parse_date(&day).ok_or_else(|| corrupt("date"))?;
                let first = day.replace_day(1).map_err(|_| corrupt("date"))?;
                self.bounded(retrying(|| self.backfill_month(&user, first)))
                    .await?;
                done.months += 1;
                match rollup::month_end(first).next_day() {
                    Some(next) => from = next,
                    None => break,
                }
            }
            done.users += 1;
            after = user;
        }
        self.bounded(self.backend.exec(
            rollup::mark_ready(dialect),
            vec![rollup::READY.into(), crate::domain::now_micros().into()],
        ))
        .await?;
        self.backfilled.store(true, Ordering::Relaxed);
        Ok(done)
    }

    async fn idempotency_begin(
        &self,
        owner: &str,
        key: &str,
        fingerprint: &str,
        now: i64,
        lease_until: i64,
        expires_at: i64,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        self.bounded(retrying(|| async {
            // A record vanishing between the failed insert and the read
            // (expired and purged) is rare; one more round settles it.
            for _ in 0..3 {
                self.backend
                    .exec(
                        sql::DELETE_EXPIRED_IDEMPOTENCY_KEY,
                        vec![owner.into(), key.into(), now.into()],
                    )
                    .await?;
                let inserted = self
                    .backend
                    .exec(
                        sql::INSERT_IDEMPOTENCY,
                        vec![
                            owner.into(),
                            key.into(),
                            fingerprint.into(),
                            lease_until.into(),
                            expires_at.into(),
                        ],
                    )
                    .await;
                match inserted {
                    Ok(_) => return Ok(None),
                    Err(StoreError::Conflict) => {}
                    Err(e) => return Err(e),
                }
                let rows = self
                    .backend
                    .query(sql::SELECT_IDEMPOTENCY, vec![owner.into(), key.into()])
                    .await?;
                if let Some(row) = rows.first() {
                    let response = match row[1].opt_int()? {
                        None => None,
                        Some(status) => {
                            let headers: Vec<(String, String)> =
                                serde_json::from_str(&row[2].text()?)
                                    .map_err(|_| corrupt("headers"))?;
                            let status = u16::try_from(status).map_err(|_| corrupt("status"))?;
                            Some(StoredResponse {
                                status,
                                headers,
                                body: row[3].bytes()?,
                            })
                        }
                    };
                    return Ok(Some(IdempotencyRecord {
                        fingerprint: row[0].text()?,
                        response,
                        lease_until: row[4].int()?,
                    }));
                }
            }
            Err(StoreError::Unavailable(
                "idempotency key kept changing".into(),
            ))
        }))
        .await
    }

    async fn idempotency_take_over(
        &self,
        owner: &str,
        key: &str,
        now: i64,
        lease_until: i64,
    ) -> Result<bool, StoreError> {
        let params = vec![lease_until.into(), owner.into(), key.into(), now.into()];
        let taken = self
            .bounded(self.backend.exec(sql::RENEW_IDEMPOTENCY_LEASE, params))
            .await?;
        Ok(taken == 1)
    }

    async fn idempotency_complete(&self, completion: &Completion) -> Result<(), StoreError> {
        self.bounded(async {
            let mut tx = self.backend.begin().await?;
            complete(&mut *tx, completion).await?;
            tx.commit().await
        })
        .await
    }

    async fn idempotency_abandon(&self, owner: &str, key: &str) -> Result<(), StoreError> {
        self.bounded(
            self.backend
                .exec(sql::ABANDON_IDEMPOTENCY, vec![owner.into(), key.into()]),
        )
        .await
        .map(|_| ())
    }

    async fn purge_idempotency(&self, now: i64) -> Result<u64, StoreError> {
        let sql = sql::purge_idempotency(self.backend.dialect());
        let mut purged = 0;
        loop {
            let deleted = self
                .bounded(self.backend.exec(&sql, vec![now.into()]))
                .await?;
            purged += deleted;
            if deleted < sql::PURGE_BATCH {
                return Ok(purged);
            }
        }
    }
}
