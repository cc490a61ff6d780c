//! SQL text shared by both backends. Every value is a bound parameter;
//! only fixed fragments chosen here are ever concatenated.

use crate::domain::expense::Expense;
use crate::domain::filter::{CategoryFilter, ListQuery};
use crate::domain::text::{fold, format_date};
use crate::domain::UserId;

/// A bound parameter, converted by each backend to its own value type.
#[derive(Clone, Debug, PartialEq)]
pub enum Param {
    Text(String),
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

/// The columns `ExpenseRow` reads, in order.
pub fn expense_columns(dialect: Dialect) -> String {
    format!(
        "e.id, e.amount_minor, e.currency, {}, e.category_id, e.merchant, e.description, \
         e.tags, e.version, e.created_at, e.updated_at",
        dialect.date_column()
    )
}

pub fn select_expense(dialect: Dialect) -> String {
    format!(
        "SELECT {} FROM expenses e WHERE e.user_id = ? AND e.id = ?",
        expense_columns(dialect)
    )
}

pub const CATEGORY_EXISTS: &str = "SELECT 1 FROM categories WHERE user_id = ? AND id = ?";

pub const INSERT_EXPENSE: &str = "INSERT INTO expenses (id, user_id, amount_minor, amount_scaled, \
     currency, expense_date, category_id, merchant, merchant_folded, description, \
     description_folded, tags, version, created_at, updated_at) \
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

pub const UPDATE_EXPENSE: &str = "UPDATE expenses SET amount_minor = ?, amount_scaled = ?, \
     currency = ?, expense_date = ?, category_id = ?, merchant = ?, merchant_folded = ?, \
     description = ?, description_folded = ?, tags = ?, version = ?, updated_at = ? \
     WHERE user_id = ? AND id = ? AND version = ?";

pub const EXPENSE_VERSION: &str = "SELECT version FROM expenses WHERE user_id = ? AND id = ?";

pub const DELETE_EXPENSE: &str = "DELETE FROM expenses WHERE user_id = ? AND id = ?";
pub const DELETE_EXPENSE_AT_VERSION: &str =
    "DELETE FROM expenses WHERE user_id = ? AND id = ? AND version = ?";

pub const DELETE_TAGS: &str = "DELETE FROM expense_tags WHERE expense_id = ?";
pub const INSERT_TAG: &str = "INSERT INTO expense_tags (expense_id, user_id, tag) VALUES (?, ?, ?)";

/// Parameters of `INSERT_EXPENSE`.
pub fn insert_params(user: &UserId, e: &Expense) -> Vec<Param> {
    let f = &e.fields;
    vec![
        e.id.as_str().into(),
        user.as_str().into(),
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
        e.version.into(),
        e.created_at.into(),
        e.updated_at.into(),
    ]
}

/// Parameters of `UPDATE_EXPENSE`.
pub fn update_params(user: &UserId, e: &Expense, expected_version: i64) -> Vec<Param> {
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
        e.version.into(),
        e.updated_at.into(),
        user.as_str().into(),
        e.id.as_str().into(),
        expected_version.into(),
    ]
}

fn tags_json(e: &Expense) -> String {
    serde_json::Value::from(e.fields.tags.clone()).to_string()
}

/// The page query of `GET /v1/expenses`: keyset pagination over the index
/// `(user_id, expense_date, id)`, fetching `limit + 1` rows.
pub fn list_query(dialect: Dialect, user: &UserId, query: &ListQuery) -> (String, Vec<Param>) {
    let mut sql = format!(
        "SELECT {} FROM expenses e WHERE e.user_id = ?",
        expense_columns(dialect)
    );
    let mut params: Vec<Param> = vec![user.as_str().into()];
    let f = &query.filter;
    if let Some(from) = f.from {
        sql.push_str(" AND e.expense_date >= ?");
        params.push(format_date(from).into());
    }
    if let Some(to) = f.to {
        sql.push_str(" AND e.expense_date <= ?");
        params.push(format_date(to).into());
    }
    match &f.category {
        Some(CategoryFilter::None) => sql.push_str(" AND e.category_id IS NULL"),
        Some(CategoryFilter::Id(id)) => {
            sql.push_str(" AND e.category_id = ?");
            params.push(id.as_str().into());
        }
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
    if let Some(tag) = &f.tag {
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
        sql.push_str(" AND (e.expense_date < ? OR (e.expense_date = ? AND e.id < ?))");
        let date = format_date(after.date);
        params.push(date.clone().into());
        params.push(date.into());
        params.push(after.id.as_str().into());
    }
    sql.push_str(" ORDER BY e.expense_date DESC, e.id DESC LIMIT ?");
    params.push((query.limit as i64 + 1).into());
    (sql, params)
}
