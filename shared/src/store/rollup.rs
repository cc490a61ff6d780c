//! Rollups: totals per user, dimension (category, tag, merchant), day or
//! month, key and currency (`expense_rollups`, migration 0004), kept in
//! the same transaction as every write, so that summaries and budgets read
//! a number of rows that depends on the answer, not on the expenses.
//!
//! Rollout (the previous release writes expenses without touching
//! rollups): this release maintains them on every write; the backfill
//! (`SqlStore::backfill`) runs once no older release serves and
//! recomputes each user's months from the expenses (and their tag rows'
//! dates, migration 0005); reads switch to the rollups (and tag pages to
//! the tag rows' dates) when the backfill has marked them ready in
//! `rollup_state`.

use std::collections::BTreeMap;

use time::Date;

use super::backend::Tx;
use super::sql::{Dialect, Param, MAX_PARAMS, SUM_SPLIT};
use super::StoreError;
use crate::domain::expense::Expense;
use crate::domain::report::{GroupBy, SummaryQuery};
use crate::domain::text::format_date;

/// What a rollup row totals by (the `dimension` column). Month totals
/// are the category rows' (every expense has exactly one category key).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Dimension {
    Category = 1,
    Tag = 2,
    Merchant = 3,
}

/// The `period` column: a day's row, or a month's (dated its first day).
const DAY: i64 = 0;
const MONTH: i64 = 1;

/// The key of "no category", "no tag", "no merchant": none of them can
/// be empty (ids are not, names and merchants are trimmed to at least one
/// code point).
const NONE: &str = "";

/// The name in `rollup_state` of the finished post-deployment backfill of
/// everything through migration 5: rollups (4) and tag rows' dates (5).
/// Reads use them once it is there. A later migration that needs a backfill
/// names a new one, so that reads wait for that backfill too.
pub const READY: &str = "backfill:5";

/// One row's primary key below the user, ordered as the table's primary
/// key (`String` and `Date` order as the stored bytes do).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct RowKey {
    dimension: Dimension,
    period: i64,
    day: Date,
    key: String,
    currency: &'static str,
}

/// A change to one row: `SUM_SPLIT` halves of the amount, and the count.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Change {
    high: i64,
    low: i64,
    count: i64,
}

/// What a write changes in the rollups, gathered per row.
#[derive(Debug, Default)]
pub struct Deltas(BTreeMap<RowKey, Change>);

impl Deltas {
    /// Counts `expense` in (`sign` 1) or out (`sign` -1).
    pub fn add(&mut self, expense: &Expense, sign: i64) {
        let f = &expense.fields;
        let amount = f.money.minor_units();
        let currency = f.money.currency().code();
        let change = Change {
            high: sign * (amount / SUM_SPLIT),
            low: sign * (amount % SUM_SPLIT),
            count: sign,
        };
        let month = f.date.replace_day(1).unwrap_or(f.date);
        let none = || NONE.to_owned();
        let mut keys = vec![
            (
                Dimension::Category,
                f.category_id.clone().unwrap_or_else(none),
            ),
            (Dimension::Merchant, f.merchant.clone().unwrap_or_else(none)),
        ];
        if f.tags.is_empty() {
            keys.push((Dimension::Tag, none()));
        }
        keys.extend(f.tags.iter().map(|t| (Dimension::Tag, t.clone())));
        for (dimension, key) in keys {
            for (period, day) in [(DAY, f.date), (MONTH, month)] {
                let row = RowKey {
                    dimension,
                    period,
                    day,
                    key: key.clone(),
                    currency,
                };
                let total = self.0.entry(row).or_default();
                total.high += change.high;
                total.low += change.low;
                total.count += change.count;
            }
        }
    }

    /// The rows that change, in primary key order: every transaction
    /// takes the rows it shares with others in one order, so rollups add
    /// waits but no deadlocks.
    fn rows(&self) -> impl Iterator<Item = (&RowKey, &Change)> {
        self.0.iter().filter(|(_, c)| **c != Change::default())
    }
}

/// Parameters per row of `upsert`.
const UPSERT_PARAMS: usize = 9;

/// Adds `n` changes to their rows, creating the missing ones. Parameters
/// per row: user_id, dimension, period, day, rkey, currency, total_high,
/// total_low, expense_count.
fn upsert(dialect: Dialect, n: usize) -> String {
    let rows = vec!["(?, ?, ?, ?, ?, ?, ?, ?, ?)"; n].join(", ");
    let insert = format!(
        "INSERT INTO expense_rollups (user_id, dimension, period, day, rkey, currency, \
         total_high, total_low, expense_count) VALUES {rows}"
    );
    match dialect {
        // VALUES(col): MariaDB knows no `AS new` alias, and one statement
        // for every row needs the inserted values, not parameters.
        Dialect::Mysql => format!(
            "{insert} ON DUPLICATE KEY UPDATE total_high = total_high + VALUES(total_high), \
             total_low = total_low + VALUES(total_low), \
             expense_count = expense_count + VALUES(expense_count)"
        ),
        Dialect::Sqlite => format!(
            "{insert} ON CONFLICT (user_id, dimension, period, day, rkey, currency) DO UPDATE \
             SET total_high = total_high + excluded.total_high, \
             total_low = total_low + excluded.total_low, \
             expense_count = expense_count + excluded.expense_count"
        ),
    }
}

/// Applies `deltas` in as few statements as `MAX_PARAMS` allows. Call it
/// last in a write transaction: the rows are shared by all of a user's
/// writes, so they are held for as short a time as possible.
pub async fn apply(
    tx: &mut dyn Tx,
    dialect: Dialect,
    key: &str,
    deltas: &Deltas,
) -> Result<(), StoreError> {
    let rows: Vec<(&RowKey, &Change)> = deltas.rows().collect();
    for chunk in rows.chunks(MAX_PARAMS / UPSERT_PARAMS) {
        let mut params: Vec<Param> = Vec::with_capacity(chunk.len() * UPSERT_PARAMS);
        for (row, change) in chunk {
            params.extend([
                key.into(),
                (row.dimension as i64).into(),
                row.period.into(),
                format_date(row.day).into(),
                row.key.as_str().into(),
                row.currency.into(),
                change.high.into(),
                change.low.into(),
                change.count.into(),
            ]);
        }
        tx.exec(&upsert(dialect, chunk.len()), params).await?;
    }
    Ok(())
}

/// After a category's expenses were uncategorised: its category rows
/// become "no category" rows (added to those that exist), then go.
/// Parameters of both: user_id, category_id.
pub fn move_category_to_none(dialect: Dialect) -> [String; 2] {
    let select = format!(
        "SELECT r.user_id, r.dimension, r.period, r.day, '{NONE}', r.currency, r.total_high, \
         r.total_low, r.expense_count FROM expense_rollups r \
         WHERE r.user_id = ? AND r.dimension = {} AND r.rkey = ?",
        Dimension::Category as i64
    );
    let insert = "INSERT INTO expense_rollups (user_id, dimension, period, day, rkey, currency, \
                  total_high, total_low, expense_count)";
    let moved = match dialect {
        Dialect::Mysql => format!(
            "{insert} {select} ON DUPLICATE KEY UPDATE \
             total_high = expense_rollups.total_high + VALUES(total_high), \
             total_low = expense_rollups.total_low + VALUES(total_low), \
             expense_count = expense_rollups.expense_count + VALUES(expense_count)"
        ),
        // `AND true`: SQLite's parser needs a WHERE before ON CONFLICT.
        Dialect::Sqlite => format!(
            "{insert} {select} AND true ON CONFLICT (user_id, dimension, period, day, rkey, currency) \
             DO UPDATE SET total_high = total_high + excluded.total_high, \
             total_low = total_low + excluded.total_low, \
             expense_count = expense_count + excluded.expense_count"
        ),
    };
    let removed = format!(
        "DELETE FROM expense_rollups WHERE user_id = ? AND dimension = {} AND rkey = ?",
        Dimension::Category as i64
    );
    [moved, removed]
}

// --- backfill ---------------------------------------------------------------

/// The next user, after `?`, with expenses or rollups (one index seek in
/// each table). Parameters: after, after.
pub const NEXT_USER: &str = "SELECT MIN(u) FROM (\
     SELECT MIN(user_id) AS u FROM expenses WHERE user_id > ? \
     UNION ALL SELECT MIN(user_id) AS u FROM expense_rollups WHERE user_id > ?) AS next_users";

/// The first day of the user's next month, on or after `?`, with expenses
/// or month rollups. Parameters: user_id, from, user_id, from.
pub fn next_month(dialect: Dialect) -> String {
    let date = match dialect {
        Dialect::Mysql => "DATE_FORMAT(MIN(d), '%Y-%m-%d')",
        Dialect::Sqlite => "MIN(d)",
    };
    format!(
        "SELECT {date} FROM (\
         SELECT MIN(expense_date) AS d FROM expenses WHERE user_id = ? AND expense_date >= ? \
         UNION ALL SELECT MIN(day) AS d FROM expense_rollups WHERE user_id = ? AND dimension = {} \
         AND period = {MONTH} AND day >= ?) AS next_days",
        Dimension::Category as i64
    )
}

/// Locks the user's expenses dated in a month, and the gaps between them
/// (MySQL REPEATABLE READ's next-key locks: a concurrent write that adds,
/// moves or changes an expense of that month waits for the backfill, and
/// one under way is waited for). Parameters: user_id, first, last.
pub fn lock_month(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Mysql => {
            "SELECT COUNT(amount_minor) FROM expenses FORCE INDEX (idx_expenses_user_date) \
             WHERE user_id = ? AND expense_date >= ? AND expense_date <= ? FOR UPDATE"
        }
        // A SQLite write transaction holds the whole database.
        Dialect::Sqlite => {
            "SELECT COUNT(amount_minor) FROM expenses \
             WHERE user_id = ? AND expense_date >= ? AND expense_date <= ?"
        }
    }
}

/// Gives the tag rows of a user's expenses dated in a month their
/// expense's date where it is missing or wrong (the previous release wrote
/// tag rows without one). Parameters: user_id, first, last.
pub fn redate_month_tags(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Mysql => {
            "UPDATE expense_tags t JOIN expenses e ON e.id = t.expense_id \
             SET t.expense_date = e.expense_date \
             WHERE e.user_id = ? AND e.expense_date >= ? AND e.expense_date <= ? \
             AND NOT (t.expense_date <=> e.expense_date)"
        }
        Dialect::Sqlite => {
            "UPDATE expense_tags SET expense_date = e.expense_date FROM expenses e \
             WHERE e.id = expense_tags.expense_id \
             AND e.user_id = ? AND e.expense_date >= ? AND e.expense_date <= ? \
             AND expense_tags.expense_date IS NOT e.expense_date"
        }
    }
}

/// Removes a user's rollup rows of one month, days and month alike.
/// Parameters: user_id, first, last.
pub const DELETE_MONTH: &str = "DELETE FROM expense_rollups WHERE user_id = ? \
     AND dimension IN (1, 2, 3) AND period IN (0, 1) AND day >= ? AND day <= ?";

/// Recomputes a user's day rows of one month for each dimension from the
/// expenses. Parameters of each: user_id, user_id, first, last.
pub fn backfill_days(dialect: Dialect) -> Vec<String> {
    // Keys are grouped as bytes (on MySQL a CAST in a derived table:
    // MariaDB's ONLY_FULL_GROUP_BY takes no expression in GROUP BY).
    let (hint, div, bytes): (&str, &str, fn(&str) -> String) = match dialect {
        Dialect::Mysql => (" FORCE INDEX (idx_expenses_user_date)", "DIV", |e| {
            format!("CAST({e} AS BINARY)")
        }),
        Dialect::Sqlite => ("", "/", |e| e.to_owned()),
    };
    [
        (Dimension::Category, "e.category_id", ""),
        (Dimension::Merchant, "e.merchant", ""),
        (
            Dimension::Tag,
            "t.tag",
            " LEFT JOIN expense_tags t ON t.expense_id = e.id",
        ),
    ]
    .into_iter()
    .map(|(dimension, column, join)| {
        let key = bytes(&format!("COALESCE({column}, '{NONE}')"));
        format!(
            "INSERT INTO expense_rollups (user_id, dimension, period, day, rkey, currency, \
             total_high, total_low, expense_count) \
             SELECT ?, {}, {DAY}, x.day, x.rkey, x.currency, SUM(x.amount {div} {SUM_SPLIT}), \
             SUM(x.amount % {SUM_SPLIT}), COUNT(*) FROM (\
             SELECT e.expense_date AS day, {key} AS rkey, e.currency AS currency, \
             e.amount_minor AS amount FROM expenses e{hint}{join} \
             WHERE e.user_id = ? AND e.expense_date >= ? AND e.expense_date <= ?) AS x \
             GROUP BY x.day, x.rkey, x.currency",
            dimension as i64
        )
    })
    .collect()
}

/// The month rows of one month, folded from its day rows. Parameters:
/// user_id, first, user_id, first, last.
pub const BACKFILL_MONTH: &str = "INSERT INTO expense_rollups (user_id, dimension, period, day, \
     rkey, currency, total_high, total_low, expense_count) \
     SELECT ?, dimension, 1, ?, rkey, currency, SUM(total_high), SUM(total_low), \
     SUM(expense_count) FROM expense_rollups \
     WHERE user_id = ? AND dimension IN (1, 2, 3) AND period = 0 AND day >= ? AND day <= ? \
     GROUP BY dimension, rkey, currency";

/// Marks the rollups ready for reads. Parameters: name, ready_at.
pub fn mark_ready(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Mysql => "INSERT IGNORE INTO rollup_state (name, ready_at) VALUES (?, ?)",
        Dialect::Sqlite => "INSERT OR IGNORE INTO rollup_state (name, ready_at) VALUES (?, ?)",
    }
}

pub const IS_READY: &str = "SELECT ready_at FROM rollup_state WHERE name = ?";

// --- reads ------------------------------------------------------------------

/// The last day of `date`'s month.
pub fn month_end(date: Date) -> Date {
    let first = date.replace_day(1).unwrap_or(date);
    let days = first.month().length(first.year());
    first.replace_day(days).unwrap_or(date)
}

/// The rows that cover `from..=to` exactly and fewest: month rows for the
/// months wholly inside, day rows for the partial months at either end.
/// Answers (period, first, last) ranges of `day`.
fn cover(from: Date, to: Date) -> Vec<(i64, Date, Date)> {
    let starts_month = from.day() == 1;
    let ends_month = to == month_end(to);
    let same_month = (from.year(), from.month()) == (to.year(), to.month());
    if same_month {
        return if starts_month && ends_month {
            vec![(MONTH, from, from)]
        } else {
            vec![(DAY, from, to)]
        };
    }
    let mut ranges = Vec::new();
    // The first whole month and the last one, as their first days.
    let mut first = from.replace_day(1).unwrap_or(from);
    if !starts_month {
        ranges.push((DAY, from, month_end(from)));
        first = month_end(from).next_day().unwrap_or(first);
    }
    let mut last = to.replace_day(1).unwrap_or(to);
    if !ends_month {
        ranges.push((DAY, last, to));
        last = last
            .previous_day()
            .map_or(last, |d| d.replace_day(1).unwrap_or(d));
    }
    if first <= last {
        ranges.push((MONTH, first, last));
    }
    ranges
}

/// The earliest and latest dates an expense may have (API.md).
pub const EARLIEST: Date = time::macros::date!(1000 - 01 - 01);
const LATEST: Date = time::macros::date!(9999 - 12 - 31);

fn bounds(query: &SummaryQuery) -> (Date, Date) {
    (query.from.unwrap_or(EARLIEST), query.to.unwrap_or(LATEST))
}

/// Totals per key and currency from the rollups: the columns of
/// `sql::summary`.
pub fn summary(dialect: Dialect, ledger_key: &str, query: &SummaryQuery) -> (String, Vec<Param>) {
    // (key, what to group by): MariaDB's ONLY_FULL_GROUP_BY wants the
    // column itself grouped, not an expression of it.
    let by_key = ("NULLIF(r.rkey, '')", "r.rkey");
    let (dimension, (key, group)) = match query.group_by {
        GroupBy::Category => (Dimension::Category, by_key),
        GroupBy::Tag => (Dimension::Tag, by_key),
        GroupBy::Merchant => (Dimension::Merchant, by_key),
        GroupBy::Month => {
            let month = match dialect {
                Dialect::Mysql => "DATE_FORMAT(r.day, '%Y-%m')",
                Dialect::Sqlite => "substr(r.day, 1, 7)",
            };
            (Dimension::Category, (month, month))
        }
    };
    let (from, to) = bounds(query);
    let mut params: Vec<Param> = vec![ledger_key.into()];
    let ranges: Vec<String> = cover(from, to)
        .into_iter()
        .map(|(period, first, last)| {
            params.extend([format_date(first).into(), format_date(last).into()]);
            format!("(r.period = {period} AND r.day >= ? AND r.day <= ?)")
        })
        .collect();
    let sql = format!(
        "SELECT {key}, r.currency, COALESCE(SUM(r.total_high), 0), COALESCE(SUM(r.total_low), 0), \
         SUM(r.expense_count) FROM expense_rollups r \
         WHERE r.user_id = ? AND r.dimension = {} AND ({}) \
         GROUP BY {group}, r.currency HAVING SUM(r.expense_count) <> 0",
        dimension as i64,
        ranges.join(" OR ")
    );
    (sql, params)
}

/// Each budget of the user with what its category spent in one month in
/// the budget's currency (one month row each): the columns of
/// `sql::budget_statuses`. Parameters: the month's first day, user_id.
pub fn budget_statuses() -> String {
    format!(
        "SELECT b.category_id, b.amount_minor, b.currency, b.created_at, b.updated_at, \
         COALESCE(r.total_high, 0), COALESCE(r.total_low, 0) \
         FROM budgets b JOIN categories c ON c.id = b.category_id \
         LEFT JOIN expense_rollups r ON r.user_id = b.user_id AND r.dimension = {} \
           AND r.period = {MONTH} AND r.day = ? AND r.rkey = b.category_id \
           AND r.currency = b.currency \
         WHERE b.user_id = ? \
         ORDER BY c.name_folded, c.name, b.category_id",
        Dimension::Category as i64
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn a_range_is_covered_by_whole_months_and_partial_days() {
        assert_eq!(
            cover(date!(2026 - 01 - 01), date!(2026 - 12 - 31)),
            vec![(MONTH, date!(2026 - 01 - 01), date!(2026 - 12 - 01))]
        );
        assert_eq!(
            cover(date!(2026 - 01 - 15), date!(2026 - 03 - 10)),
            vec![
                (DAY, date!(2026 - 01 - 15), date!(2026 - 01 - 31)),
                (DAY, date!(2026 - 03 - 01), date!(2026 - 03 - 10)),
                (MONTH, date!(2026 - 02 - 01), date!(2026 - 02 - 01)),
            ]
        );
        assert_eq!(
            cover(date!(2026 - 01 - 15), date!(2026 - 02 - 10)),
            vec![
                (DAY, date!(2026 - 01 - 15), date!(2026 - 01 - 31)),
                (DAY, date!(2026 - 02 - 01), date!(2026 - 02 - 10)),
            ]
        );
        assert_eq!(
            cover(date!(2024 - 02 - 01), date!(2024 - 02 - 29)),
            vec![(MONTH, date!(2024 - 02 - 01), date!(2024 - 02 - 01))]
        );
        assert_eq!(
            cover(date!(2024 - 02 - 03), date!(2024 - 02 - 03)),
            vec![(DAY, date!(2024 - 02 - 03), date!(2024 - 02 - 03))]
        );
    }

    fn expense(amount: i64, tags: &[&str]) -> Expense {
        let body = serde_json::json!({
            "amount": format!("{amount}.00"), "currency": "EUR", "date": "2026-03-04",
            "tags": tags,
        });
        Expense {
            id: "e".into(),
            fields: crate::domain::expense::parse_new(body.as_object().unwrap()).unwrap(),
            version: 1,
            created_at: 0,
            updated_at: 0,
            created_by: "alice".into(),
            updated_by: "alice".into(),
        }
    }

    #[test]
    fn deltas_cancel_and_come_in_key_order() {
        let mut deltas = Deltas::default();
        deltas.add(&expense(5, &["b", "a"]), 1);
        // category, merchant and two tags, each a day and a month row
        assert_eq!(deltas.rows().count(), 8);
        let keys: Vec<&RowKey> = deltas.rows().map(|(k, _)| k).collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
        deltas.add(&expense(5, &["b", "a"]), -1);
        assert_eq!(
            deltas.rows().count(),
            0,
            "a change that changes no total writes nothing"
        );
        deltas.add(&expense(5, &["a"]), -1);
        deltas.add(&expense(7, &["a"]), 1);
        let (_, change) = deltas.rows().next().unwrap();
        assert_eq!(change.count, 0);
        assert_eq!(change.high * SUM_SPLIT + change.low, 200);
    }
}
