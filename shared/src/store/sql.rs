//! SQL text shared by both backends. Every value is a bound parameter;
//! only fixed fragments chosen here are ever concatenated.

use crate::domain::expense::Expense;
use crate::domain::filter::{CategoryFilter, ListQuery};
use crate::domain::report::{GroupBy, SummaryQuery};
use crate::domain::text::{fold, format_date};

/// A bound parameter, converted by each backend to its own value type.
#[derive(Clone, Debug, PartialEq)]
pub enum Param {
    Text(String),
    Bytes(Vec<u8>),
    Int(i64),
    Null,
}

impl From<&str> for Param {
    fn from(s: &str) -> Param {
        Param::Text(s.to_owned())
    }
}

impl From<String> for Param {
    fn from(s: String) -> Param {
        Param::Text(s)
    }
}

impl From<i64> for Param {
    fn from(n: i64) -> Param {
        Param::Int(n)
    }
}

impl From<Vec<u8>> for Param {
    fn from(b: Vec<u8>) -> Param {
        Param::Bytes(b)
    }
}

impl From<Option<i64>> for Param {
    fn from(n: Option<i64>) -> Param {
        n.map_or(Param::Null, Param::Int)
    }
}

impl From<Option<String>> for Param {
    fn from(s: Option<String>) -> Param {
        s.map_or(Param::Null, Param::Text)
    }
}

/// The SQL dialects spoken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Mysql,
    Sqlite,
}

impl Dialect {
    /// The date column as `YYYY-MM-DD` text.
    fn date_column(self) -> &'static str {
        match self {
            Dialect::Mysql => "DATE_FORMAT(e.expense_date, '%Y-%m-%d')",
            Dialect::Sqlite => "e.expense_date",
        }
    }
}

/// The columns `expense_from` reads, in order. Rows of the release before
/// ledgers name no writer: in a personal ledger, its owner (the key) wrote
/// them.
pub fn expense_columns(dialect: Dialect) -> String {
    format!(
        "e.id, e.amount_minor, e.currency, {}, e.category_id, e.merchant, e.description, \
         e.tags, e.version, e.created_at, e.updated_at, \
         COALESCE(e.created_by, e.user_id), COALESCE(e.updated_by, e.user_id)",
        dialect.date_column()
    )
}

pub fn select_expense(dialect: Dialect) -> String {
    format!(
        "SELECT {} FROM expenses e WHERE e.user_id = ? AND e.id = ?",
        expense_columns(dialect)
    )
}

/// The expense, its row locked until the transaction ends (MySQL; a SQLite
/// write transaction holds the whole database already).
pub fn lock_expense(dialect: Dialect) -> String {
    match dialect {
        Dialect::Mysql => format!("{} FOR UPDATE", select_expense(dialect)),
        Dialect::Sqlite => select_expense(dialect),
    }
}

pub const CATEGORY_EXISTS: &str = "SELECT 1 FROM categories WHERE user_id = ? AND id = ?";

/// One statement for `n` new expenses. Parameters: `insert_params` of
/// each, in turn.
pub fn insert_expenses(n: usize) -> String {
    format!(
        "INSERT INTO expenses (id, user_id, amount_minor, amount_scaled, currency, \
         expense_date, category_id, merchant, merchant_folded, description, \
         description_folded, tags, version, created_at, updated_at, created_by, updated_by) \
         VALUES {}",
        repeated("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", n)
    )
}

/// Parameters per row of `insert_expenses`.
pub const EXPENSE_INSERT_PARAMS: usize = 17;

/// The most parameters one multi-row statement carries: far below MySQL's
/// limit for a prepared statement (65,535) and SQLite's (32,766).
pub const MAX_PARAMS: usize = 10_000;

pub const UPDATE_EXPENSE: &str = "UPDATE expenses SET amount_minor = ?, amount_scaled = ?, \
     currency = ?, expense_date = ?, category_id = ?, merchant = ?, merchant_folded = ?, \
     description = ?, description_folded = ?, tags = ?, version = ?, updated_at = ?, \
     updated_by = ? WHERE user_id = ? AND id = ? AND version = ?";

pub const EXPENSE_VERSION: &str = "SELECT version FROM expenses WHERE user_id = ? AND id = ?";

pub const DELETE_EXPENSE: &str = "DELETE FROM expenses WHERE user_id = ? AND id = ?";

/// `n` comma-separated groups of `group` (e.g. `?` or `(?, ?, ?)`).
fn repeated(group: &str, n: usize) -> String {
    vec![group; n].join(", ")
}

/// One statement for `n` tag rows. Parameters: expense_id, user_id, tag,
/// expense_date, for each row.
pub fn insert_tags(n: usize) -> String {
    format!(
        "INSERT INTO expense_tags (expense_id, user_id, tag, expense_date) VALUES {}",
        repeated("(?, ?, ?, ?)", n)
    )
}

/// Parameters of one row of `insert_tags`.
pub const TAG_INSERT_PARAMS: usize = 4;

/// Moves `n` tags of one expense to its new date, by their whole key (see
/// `delete_tags`). Parameters: the date, expense_id, then the tags.
pub fn redate_tags(n: usize) -> String {
    format!(
        "UPDATE expense_tags SET expense_date = ? WHERE expense_id = ? AND tag IN ({})",
        repeated("?", n)
    )
}

/// Deletes `n` tags of one expense by their whole key: a lookup of rows
/// that exist, never a range, so it takes no gap locks that concurrent
/// inserts would queue behind. Parameters: expense_id, then the tags.
pub fn delete_tags(n: usize) -> String {
    format!(
        "DELETE FROM expense_tags WHERE expense_id = ? AND tag IN ({})",
        repeated("?", n)
    )
}

/// The values of the columns a client decides, in the order both
/// `insert_expenses` and `UPDATE_EXPENSE` list them.
fn field_params(e: &Expense) -> Vec<Param> {
    let f = &e.fields;
    vec![
        f.money.minor_units().into(),
        f.money.scaled().into(),
        f.money.currency().code().into(),
        format_date(f.date).into(),
        f.category_id.clone().into(),
        f.merchant.clone().into(),
        f.merchant.as_deref().map(fold).into(),
        f.description.clone().into(),
        f.description.as_deref().map(fold).into(),
        tags_json(e).into(),
    ]
}

/// Parameters of one row of `insert_expenses`.
pub fn insert_params(key: &str, e: &Expense) -> Vec<Param> {
    let mut params: Vec<Param> = vec![e.id.as_str().into(), key.into()];
    params.extend(field_params(e));
    params.extend([
        e.version.into(),
        e.created_at.into(),
        e.updated_at.into(),
        e.created_by.as_str().into(),
        e.updated_by.as_str().into(),
    ]);
    params
}

/// Parameters of `UPDATE_EXPENSE`.
pub fn update_params(key: &str, e: &Expense, expected_version: i64) -> Vec<Param> {
    let mut params = field_params(e);
    params.extend([
        e.version.into(),
        e.updated_at.into(),
        e.updated_by.as_str().into(),
        key.into(),
        e.id.as_str().into(),
        expected_version.into(),
    ]);
    params
}

fn tags_json(e: &Expense) -> String {
    serde_json::Value::from(e.fields.tags.clone()).to_string()
}

/// The index a page walks: one whose columns after `user_id` are the
/// filter's equality and then the page order `(expense_date, id)`, so the
/// page is one range read in order. A tag comes first (once tag rows carry
/// their dates, `tag_dates`), then category, then currency; the other
/// filters (text, amounts, and any second equality) are checked on the rows
/// the range yields: a scan bounded by their selectivity.
pub fn page_index(query: &ListQuery, tag_dates: bool) -> &'static str {
    let f = &query.filter;
    if tag_dates && f.tag.is_some() {
        TAG_PAGE_INDEX
    } else if f.category.is_some() {
        "idx_expenses_user_category_date"
    } else if f.currency.is_some() {
        "idx_expenses_user_currency_date"
    } else {
        "idx_expenses_user_date"
    }
}

/// The index of `expense_tags` that tag-filtered pages walk.
pub const TAG_PAGE_INDEX: &str = "idx_expense_tags_user_tag_date";

/// The page query of `GET /v1/expenses`: keyset pagination fetching
/// `limit + 1` rows, read as a range of `page_index` on either dialect
/// (checked with ANALYZE and EXPLAIN QUERY PLAN on 200,000 rows, in
/// tests/api/list_plans.rs). A tag-filtered page walks the tag rows (when
/// they carry their expenses' dates, `tag_dates`) and joins each to its
/// expense by primary key.
pub fn list_query(
    dialect: Dialect,
    key: &str,
    query: &ListQuery,
    tag_dates: bool,
) -> (String, Vec<Param>) {
    // MariaDB otherwise prefers walking all the user's rows by `user_id`
    // alone (a `ref` access) when the columns are not all in the index.
    let hint = match dialect {
        Dialect::Mysql => format!(" FORCE INDEX ({})", page_index(query, tag_dates)),
        Dialect::Sqlite => String::new(),
    };
    let columns = expense_columns(dialect);
    let f = &query.filter;
    let by_tag = f.tag.as_ref().filter(|_| tag_dates);
    // The columns of the page order, on the table the page walks.
    let (date, id, mut sql, mut params) = match by_tag {
        Some(tag) => {
            // The tag rows drive the join, in their index's order.
            let join = match dialect {
                Dialect::Mysql => "STRAIGHT_JOIN",
                Dialect::Sqlite => "CROSS JOIN",
            };
            (
                "t.expense_date",
                "t.expense_id",
                format!(
                    "SELECT {columns} FROM expense_tags t{hint} {join} expenses e \
                     ON e.id = t.expense_id WHERE t.user_id = ? AND t.tag = ? AND e.user_id = ?"
                ),
                vec![key.into(), tag.as_str().into(), key.into()],
            )
        }
        None => (
            "e.expense_date",
            "e.id",
            format!("SELECT {columns} FROM expenses e{hint} WHERE e.user_id = ?"),
            vec![Param::from(key)],
        ),
    };
    if let Some(from) = f.from {
        sql.push_str(&format!(" AND {date} >= ?"));
        params.push(format_date(from).into());
    }
    if let Some(to) = f.to {
        sql.push_str(&format!(" AND {date} <= ?"));
        params.push(format_date(to).into());
    }
    match &f.category {
        Some(CategoryFilter::None) => sql.push_str(" AND e.category_id IS NULL"),
        Some(CategoryFilter::Id(id)) => {
            sql.push_str(" AND e.category_id = ?");
            params.push(id.as_str().into());
        }
        // Answered without the store; should it get here, it matches nothing.
        Some(CategoryFilter::NoSuchCategory) => sql.push_str(" AND 1 = 0"),
        None => {}
    }
    if let Some(currency) = f.currency {
        sql.push_str(" AND e.currency = ?");
        params.push(currency.code().into());
    }
    if let Some(min) = f.min_scaled {
        sql.push_str(" AND e.amount_scaled >= ?");
        params.push(min.into());
    }
    if let Some(max) = f.max_scaled {
        sql.push_str(" AND e.amount_scaled <= ?");
        params.push(max.into());
    }
    if let (Some(tag), None) = (&f.tag, by_tag) {
        sql.push_str(
            " AND EXISTS (SELECT 1 FROM expense_tags t WHERE t.expense_id = e.id AND t.tag = ?)",
        );
        params.push(tag.as_str().into());
    }
    if let Some(text) = &f.text {
        // INSTR, not LIKE: `%` and `_` in the search text stay literal.
        sql.push_str(
            " AND (INSTR(e.merchant_folded, ?) > 0 OR INSTR(e.description_folded, ?) > 0)",
        );
        params.push(text.as_str().into());
        params.push(text.as_str().into());
    }
    if let Some(after) = &query.after {
        // Rows after the cursor in `date DESC, id DESC` order. MariaDB
        // makes a range of the OR (not of the row comparison); SQLite makes
        // one of the row comparison (and of the OR only `date < ?`).
        let cursor_date = format_date(after.date);
        match dialect {
            Dialect::Mysql => {
                sql.push_str(&format!(" AND ({date} < ? OR ({date} = ? AND {id} < ?))"));
                params.push(cursor_date.clone().into());
                params.push(cursor_date.into());
            }
            Dialect::Sqlite => {
                sql.push_str(&format!(" AND ({date}, {id}) < (?, ?)"));
                params.push(cursor_date.into());
            }
        }
        params.push(after.id.as_str().into());
    }
    sql.push_str(&format!(" ORDER BY {date} DESC, {id} DESC LIMIT ?"));
    params.push((query.limit as i64 + 1).into());
    (sql, params)
}

// --- categories -------------------------------------------------------------

const CATEGORY_COLUMNS: &str = "id, name, color, created_at, updated_at";

pub fn select_category() -> String {
    format!("SELECT {CATEGORY_COLUMNS} FROM categories WHERE user_id = ? AND id = ?")
}

/// Sorted by the lower-cased name, then by code point (both collations
/// compare bytes, and UTF-8 byte order is code point order).
pub fn list_categories() -> String {
    format!(
        "SELECT {CATEGORY_COLUMNS} FROM categories WHERE user_id = ? ORDER BY name_folded, name"
    )
}

pub const INSERT_CATEGORY: &str = "INSERT INTO categories \
     (id, user_id, name, name_folded, color, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)";

/// The ids of `n` of the user's categories by folded name. Parameters:
/// user_id, then the folded names.
pub fn categories_named(n: usize) -> String {
    format!(
        "SELECT id, name_folded FROM categories WHERE user_id = ? AND name_folded IN ({})",
        repeated("?", n)
    )
}

pub const UPDATE_CATEGORY: &str = "UPDATE categories SET name = ?, name_folded = ?, color = ?, \
     updated_at = ? WHERE user_id = ? AND id = ?";

/// Expenses of a deleted category become uncategorised: a new version.
pub const UNCATEGORISE_EXPENSES: &str = "UPDATE expenses SET category_id = NULL, \
     version = version + 1, updated_at = ? WHERE user_id = ? AND category_id = ?";

pub const DELETE_CATEGORY: &str = "DELETE FROM categories WHERE user_id = ? AND id = ?";

/// Takes the category's row lock first (MySQL; a SQLite write transaction
/// holds the whole database already), so a category's deletion and the
/// writes that check it (a budget, an expense filed under it) queue on
/// one lock instead of each holding what the other needs next.
pub fn lock_category(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Mysql => "SELECT 1 FROM categories WHERE user_id = ? AND id = ? FOR UPDATE",
        Dialect::Sqlite => CATEGORY_EXISTS,
    }
}

// --- budgets ----------------------------------------------------------------

pub const SELECT_BUDGET: &str =
    "SELECT category_id, amount_minor, currency, created_at, updated_at \
     FROM budgets WHERE user_id = ? AND category_id = ?";

pub const DELETE_BUDGET: &str = "DELETE FROM budgets WHERE user_id = ? AND category_id = ?";

/// Creates or replaces a budget, keeping its `created_at`. Parameters:
/// user_id, category_id, amount_minor, currency, created_at, updated_at.
pub fn upsert_budget(dialect: Dialect) -> &'static str {
    match dialect {
        // Parameters, not `VALUES(col)` nor `AS new`: the first is
        // deprecated on MySQL 8.4, the second unknown to MariaDB.
        Dialect::Mysql => {
            "INSERT INTO budgets (user_id, category_id, amount_minor, currency, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?) \
             ON DUPLICATE KEY UPDATE amount_minor = ?, currency = ?, updated_at = ?"
        }
        Dialect::Sqlite => {
            "INSERT INTO budgets (user_id, category_id, amount_minor, currency, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?) \
             ON CONFLICT (category_id) DO UPDATE SET amount_minor = ?, currency = ?, updated_at = ?"
        }
    }
}

impl Dialect {
    /// Integer division of an expression by a constant.
    fn int_div(self, expr: &str, by: i64) -> String {
        match self {
            Dialect::Mysql => format!("{expr} DIV {by}"),
            Dialect::Sqlite => format!("{expr} / {by}"),
        }
    }

    /// `YYYY-MM` of the expense's date.
    fn month_of_date(self) -> &'static str {
        match self {
            Dialect::Mysql => "DATE_FORMAT(e.expense_date, '%Y-%m')",
            Dialect::Sqlite => "substr(e.expense_date, 1, 7)",
        }
    }
}

/// Sums of `amount_minor` that cannot overflow on either backend (SQLite's
/// sum() raises on i64 overflow): a high and a low part, joined in i128 as
/// `high * SUM_SPLIT + low`.
pub const SUM_SPLIT: i64 = 1_000_000;

fn split_sums(dialect: Dialect, column: &str) -> String {
    format!(
        "COALESCE(SUM({}), 0), COALESCE(SUM({column} % {SUM_SPLIT}), 0)",
        dialect.int_div(column, SUM_SPLIT)
    )
}

/// Each budget of the user with what its category spent between two dates
/// in the budget's currency. Parameters: from, to, user_id.
pub fn budget_statuses(dialect: Dialect) -> String {
    format!(
        "SELECT b.category_id, b.amount_minor, b.currency, b.created_at, b.updated_at, {} \
         FROM budgets b JOIN categories c ON c.id = b.category_id \
         LEFT JOIN expenses e ON e.user_id = b.user_id AND e.category_id = b.category_id \
           AND e.currency = b.currency AND e.expense_date >= ? AND e.expense_date <= ? \
         WHERE b.user_id = ? \
         GROUP BY b.category_id, b.amount_minor, b.currency, b.created_at, b.updated_at, \
           c.name_folded, c.name \
         ORDER BY c.name_folded, c.name, b.category_id",
        split_sums(dialect, "e.amount_minor")
    )
}

// --- reports ----------------------------------------------------------------

/// Totals per key and currency, grouped by the database. Columns: key,
/// currency, high sum, low sum, count.
pub fn summary(dialect: Dialect, ledger_key: &str, query: &SummaryQuery) -> (String, Vec<Param>) {
    let (key, join) = match query.group_by {
        GroupBy::Category => ("e.category_id", ""),
        GroupBy::Month => (dialect.month_of_date(), ""),
        GroupBy::Merchant => ("e.merchant", ""),
        GroupBy::Tag => ("t.tag", " LEFT JOIN expense_tags t ON t.expense_id = e.id"),
    };
    let mut sql = format!(
        "SELECT {key}, e.currency, {}, COUNT(*) FROM expenses e{join} WHERE e.user_id = ?",
        split_sums(dialect, "e.amount_minor")
    );
    let mut params: Vec<Param> = vec![ledger_key.into()];
    if let Some(from) = query.from {
        sql.push_str(" AND e.expense_date >= ?");
        params.push(format_date(from).into());
    }
    if let Some(to) = query.to {
        sql.push_str(" AND e.expense_date <= ?");
        params.push(format_date(to).into());
    }
    sql.push_str(&format!(" GROUP BY {key}, e.currency"));
    (sql, params)
}

// --- idempotency ------------------------------------------------------------

pub const INSERT_IDEMPOTENCY: &str = "INSERT INTO idempotency_keys \
     (user_id, idem_key, fingerprint, status, headers, body, lease_until, expires_at) \
     VALUES (?, ?, ?, NULL, NULL, NULL, ?, ?)";

pub const SELECT_IDEMPOTENCY: &str = "SELECT fingerprint, status, headers, body, lease_until \
     FROM idempotency_keys WHERE user_id = ? AND idem_key = ?";

pub const DELETE_EXPIRED_IDEMPOTENCY_KEY: &str =
    "DELETE FROM idempotency_keys WHERE user_id = ? AND idem_key = ? AND expires_at < ?";

/// Takes over a pending record whose lease ran out.
pub const RENEW_IDEMPOTENCY_LEASE: &str = "UPDATE idempotency_keys SET lease_until = ? \
     WHERE user_id = ? AND idem_key = ? AND status IS NULL AND lease_until < ?";

pub const COMPLETE_IDEMPOTENCY: &str = "UPDATE idempotency_keys SET status = ?, headers = ?, \
     body = ? WHERE user_id = ? AND idem_key = ?";

pub const ABANDON_IDEMPOTENCY: &str =
    "DELETE FROM idempotency_keys WHERE user_id = ? AND idem_key = ? AND status IS NULL";

/// Deletes up to `PURGE_BATCH` expired records. Parameter: now.
pub fn purge_idempotency(dialect: Dialect) -> String {
    match dialect {
        Dialect::Mysql => {
            format!("DELETE FROM idempotency_keys WHERE expires_at < ? LIMIT {PURGE_BATCH}")
        }
        Dialect::Sqlite => format!(
            "DELETE FROM idempotency_keys WHERE rowid IN \
             (SELECT rowid FROM idempotency_keys WHERE expires_at < ? LIMIT {PURGE_BATCH})"
        ),
    }
}

pub const PURGE_BATCH: u64 = 1000;
