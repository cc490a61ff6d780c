//! Report rollups against the expenses they total, on SQLite and MariaDB,
//! straight through the store: after any mix of writes the rollups equal a
//! full recomputation (a property test over seeded random writes), and the
//! rollout's backfill corrects what an older release wrote without them
//! (rollups, and tag rows' dates that tag pages walk), also while this
//! release's writes go on.

use std::sync::Arc;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use shared::config::DB_STATEMENT_TIMEOUT;
use shared::domain::budget::Budget;
use shared::domain::category::Category;
use shared::domain::expense::{parse_new, Expense};
use shared::domain::money::{Currency, Money};
use shared::domain::report::{GroupBy, SummaryGroup, SummaryQuery};
use shared::domain::text::parse_date;
use shared::domain::{new_id, now_micros, UserId};
use shared::store::backend::Backend;
use shared::store::mysql::MysqlBackend;
use shared::store::sqlite::SqliteBackend;
use shared::store::{Actor, SqlStore, Store, StoreError, WriteOutcome};
use time::Date;

use crate::helpers::{TestDb, SQL_MODE};

const CURRENCIES: [(&str, u32); 3] = [("EUR", 2), ("JPY", 0), ("BHD", 3)];
const MERCHANTS: [&str; 4] = ["Café", "café", "Shop", "Z"];
const TAGS: [&str; 3] = ["team", "travel", "Ünï"];

struct Fixture {
    backend: Arc<dyn Backend>,
    store: Arc<SqlStore>,
    _db: Option<TestDb>,
}

async fn sqlite() -> Fixture {
    let backend: Arc<dyn Backend> = Arc::new(SqliteBackend::open(":memory:").unwrap());
    fixture(backend, None).await
}

async fn mariadb() -> Fixture {
    let db = TestDb::create().await;
    let settings = shared::store::mysql::MysqlSettings {
        url: db.url.clone(),
        pool_max: 24,
        sql_mode: Some(SQL_MODE.into()),
        connect_timeout: shared::config::DB_CONNECT_TIMEOUT,
        statement_timeout: DB_STATEMENT_TIMEOUT,
        iam_auth: false,
        ca_bundle: None,
    };
    let backend: Arc<dyn Backend> = Arc::new(MysqlBackend::new(&settings).unwrap());
    fixture(backend, Some(db)).await
}

async fn fixture(backend: Arc<dyn Backend>, db: Option<TestDb>) -> Fixture {
    let store = Arc::new(SqlStore::new(Arc::clone(&backend), DB_STATEMENT_TIMEOUT));
    store.migrate().await.unwrap();
    Fixture {
        backend,
        store,
        _db: db,
    }
}

fn date(text: &str) -> Date {
    parse_date(text).unwrap()
}

/// A random amount in `code`'s minor units, now and then a very large one.
fn amount(rng: &mut StdRng, exponent: u32) -> String {
    let minor: i64 = if rng.random_ratio(1, 10) {
        rng.random_range(1..=999_999_999_999 * 10i64.pow(exponent))
    } else {
        rng.random_range(1..100_000)
    };
    if exponent == 0 {
        return minor.to_string();
    }
    let scale = 10i64.pow(exponent);
    format!(
        "{}.{:0width$}",
        minor / scale,
        minor % scale,
        width = exponent as usize
    )
}

/// Random fields dated between 2025-11 and 2026-03, filed under one of
/// `categories` or none.
fn random_body(rng: &mut StdRng, categories: &[String]) -> serde_json::Value {
    let (code, exponent) = CURRENCIES[rng.random_range(0..CURRENCIES.len())];
    let day = date("2025-11-01")
        .checked_add(time::Duration::days(rng.random_range(0..151)))
        .unwrap();
    let mut body = json!({
        "amount": amount(rng, exponent),
        "currency": code,
        "date": shared::domain::text::format_date(day),
        "tags": TAGS.iter().filter(|_| rng.random_ratio(1, 3)).collect::<Vec<_>>(),
    });
    if !categories.is_empty() && rng.random_ratio(3, 4) {
        body["category_id"] = json!(categories[rng.random_range(0..categories.len())]);
    }
    if rng.random_ratio(2, 3) {
        body["merchant"] = json!(MERCHANTS[rng.random_range(0..MERCHANTS.len())]);
    }
    body
}

fn new_expense(body: &serde_json::Value) -> Expense {
    let now = now_micros();
    Expense {
        id: new_id(),
        fields: parse_new(body.as_object().unwrap()).unwrap(),
        version: 1,
        created_at: now,
        updated_at: now,
        created_by: "alice".into(),
        updated_by: "alice".into(),
    }
}

fn category(name: &str) -> Category {
    Category {
        id: new_id(),
        name: name.into(),
        color: None,
        created_at: 0,
        updated_at: 0,
    }
}

fn sorted(mut groups: Vec<SummaryGroup>) -> Vec<SummaryGroup> {
    groups.sort_by(|a, b| (&a.key, a.currency.code()).cmp(&(&b.key, b.currency.code())));
    groups
}

/// The ranges every check asks for: unbounded, whole months and a year,
/// partial months at either end, one day, and a range with no expenses.
fn ranges() -> Vec<(Option<Date>, Option<Date>)> {
    let d = |s| Some(date(s));
    vec![
        (None, None),
        (d("2025-11-01"), d("2026-03-31")),
        (d("2026-01-01"), d("2026-12-31")),
        (d("2025-12-01"), d("2025-12-31")),
        (d("2025-11-17"), d("2026-02-03")),
        (d("2026-01-05"), d("2026-01-20")),
        (None, d("2025-12-15")),
        (d("2026-02-28"), None),
        (d("2026-01-31"), d("2026-01-31")),
        (d("2030-01-01"), None),
    ]
}

/// Every summary and every month's budgets answer what the expenses add
/// up to.
async fn assert_rollups_exact(store: &SqlStore, users: &[Actor], context: &str) {
    for user in users {
        for group_by in GroupBy::ALL {
            for (from, to) in ranges() {
                let query = SummaryQuery { from, to, group_by };
                let got = sorted(store.summary(user, &query).await.unwrap());
                let want = sorted(
                    store
                        .summary_from_expenses(&user.key, &query)
                        .await
                        .unwrap(),
                );
                assert_eq!(got, want, "{context}: {user:?} {query:?}");
            }
        }
        for month in [
            "2025-10", "2025-11", "2025-12", "2026-01", "2026-02", "2026-03",
        ] {
            let first = date(&format!("{month}-01"));
            let last = shared::store::rollup::month_end(first);
            let got = store.budget_statuses(user, first, last).await.unwrap();
            let want = store
                .budget_statuses_from_expenses(&user.key, first, last)
                .await
                .unwrap();
            assert_eq!(got, want, "{context}: budgets of {user:?} in {month}");
        }
    }
}

/// Every expense of `user`'s matching `query`, following cursors.
async fn all_pages(
    store: &SqlStore,
    user: &Actor,
    mut query: shared::domain::filter::ListQuery,
) -> Vec<Expense> {
    let mut all: Vec<Expense> = Vec::new();
    loop {
        let page = store.list_expenses(user, &query).await.unwrap();
        let Some(last) = page.last() else {
            return all;
        };
        query.after = Some(shared::domain::cursor::Cursor {
            date: last.fields.date,
            id: last.id.clone(),
        });
        all.extend(page);
    }
}

/// Every tag's pages hold exactly the expenses carrying it (whole and
/// within a range), and every tag row carries its expense's date.
async fn assert_tag_pages_exact(fixture: &Fixture, users: &[Actor], context: &str) {
    let store = &fixture.store;
    let parse = |text: &str| {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(text.as_bytes())
            .into_owned()
            .collect();
        shared::domain::filter::ListQuery::parse(&pairs).unwrap()
    };
    for user in users {
        let everything = all_pages(store, user, parse("limit=200")).await;
        for tag in TAGS {
            for (range, from, to) in [
                ("", date("1000-01-01"), date("9999-12-31")),
                (
                    "&from=2025-12-15&to=2026-02-03",
                    date("2025-12-15"),
                    date("2026-02-03"),
                ),
            ] {
                let text = format!(
                    "limit=7&tag={}{range}",
                    form_urlencoded::byte_serialize(tag.as_bytes()).collect::<String>()
                );
                let got: Vec<String> = all_pages(store, user, parse(&text))
                    .await
                    .into_iter()
                    .map(|e| e.id)
                    .collect();
                let want: Vec<String> = everything
                    .iter()
                    .filter(|e| e.fields.tags.iter().any(|t| t == tag))
                    .filter(|e| (from..=to).contains(&e.fields.date))
                    .map(|e| e.id.clone())
                    .collect();
                assert_eq!(got, want, "{context}: {user:?} {text}");
            }
        }
    }
    let rows = fixture
        .backend
        .query(
            "SELECT COUNT(*) FROM expense_tags t JOIN expenses e ON e.id = t.expense_id \
             WHERE t.expense_date IS NULL OR t.expense_date <> e.expense_date",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        rows[0][0].int().unwrap(),
        0,
        "{context}: tag rows dated wrongly"
    );
}

/// One random write of `user`'s: a create, an update of any field, a
/// delete (with or without a version), an import naming categories by
/// name, a category's creation or deletion, or a budget. With `alone`
/// false, other writers of the same user may win a race (a version, a
/// category deleted meanwhile): those outcomes are accepted, errors not.
async fn random_write(store: &SqlStore, rng: &mut StdRng, user: &Actor, alone: bool) {
    let categories: Vec<String> = store
        .list_categories(user)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    let page = shared::domain::filter::ListQuery::parse(&[("limit".into(), "200".into())]).unwrap();
    let expenses = store.list_expenses(user, &page).await.unwrap();
    let pick = |rng: &mut StdRng| expenses[rng.random_range(0..expenses.len())].clone();
    match rng.random_range(0..100) {
        0..=34 => {
            let body = random_body(rng, &categories);
            match store.insert_expense(user, &new_expense(&body), None).await {
                Err(StoreError::UnknownCategory) if !alone => {}
                other => other.unwrap(),
            }
        }
        35..=59 if !expenses.is_empty() => {
            let current = pick(rng);
            let mut next = new_expense(&random_body(rng, &categories));
            next.id = current.id.clone();
            next.version = current.version + 1;
            // Sometimes only the description: no total changes.
            if rng.random_ratio(1, 4) {
                next.fields = current.fields.clone();
                next.fields.description = Some("changed".into());
            }
            match store.update_expense(user, &current, &next).await {
                Ok(WriteOutcome::Done) => {}
                Ok(_) | Err(StoreError::UnknownCategory) if !alone => {}
                other => panic!("update: {other:?}"),
            }
        }
        60..=74 if !expenses.is_empty() => {
            let current = pick(rng);
            let version = rng.random_bool(0.5).then_some(current.version);
            let outcome = store
                .delete_expense(user, &current.id, version)
                .await
                .unwrap();
            assert!(outcome == WriteOutcome::Done || !alone, "{outcome:?}");
            // A stale version changes nothing.
            let again = store
                .delete_expense(user, &current.id, Some(current.version))
                .await
                .unwrap();
            assert!(again == WriteOutcome::NotFound || !alone, "{again:?}");
        }
        75..=84 => {
            let named: Vec<Category> = ["Food", "food", "Rent", "Travel"]
                .iter()
                .filter(|_| rng.random_bool(0.5))
                .map(|n| category(n))
                .collect();
            // One category per folded name, as the CSV import sends them.
            let mut seen = Vec::new();
            let named: Vec<Category> = named
                .into_iter()
                .filter(|c| {
                    let folded = c.name.to_lowercase();
                    let fresh = !seen.contains(&folded);
                    seen.push(folded);
                    fresh
                })
                .collect();
            let ids: Vec<String> = named.iter().map(|c| c.id.clone()).collect();
            let rows: Vec<Expense> = (0..rng.random_range(1..6))
                .map(|_| new_expense(&random_body(rng, &ids)))
                .collect();
            store
                .import_expenses(user, &named, &rows, None)
                .await
                .unwrap();
        }
        85..=89 => {
            let name = format!("C{}", rng.random_range(0..6));
            // A taken name is a conflict, which is fine here.
            let _ = store.insert_category(user, &category(&name), None).await;
        }
        90..=94 if !categories.is_empty() => {
            let id = &categories[rng.random_range(0..categories.len())];
            let deleted = store.delete_category(user, id, now_micros()).await.unwrap();
            assert!(deleted || !alone);
        }
        95..=99 if !categories.is_empty() => {
            let id = &categories[rng.random_range(0..categories.len())];
            let (code, exponent) = CURRENCIES[rng.random_range(0..CURRENCIES.len())];
            let money =
                Money::parse(&amount(rng, exponent), Currency::parse(code).unwrap()).unwrap();
            let budget = Budget {
                category_id: id.clone(),
                money,
                created_at: 0,
                updated_at: 0,
            };
            store.put_budget(user, &budget).await.unwrap();
        }
        _ => {}
    }
}

async fn rollups_equal_a_recomputation(fixture: Fixture, seed: u64) {
    let store = &fixture.store;
    // A new database: the backfill finds nothing and switches reads over.
    let done = store.backfill().await.unwrap();
    assert_eq!((done.users, done.months), (0, 0));
    let users: Vec<Actor> = ["alice", "bob", "carol"]
        .iter()
        .map(|u| Actor::personal(&UserId::parse(u).unwrap()))
        .collect();
    let mut rng = StdRng::seed_from_u64(seed);
    for step in 1..=240 {
        let user = &users[rng.random_range(0..users.len())];
        random_write(store, &mut rng, user, true).await;
        if step % 60 == 0 {
            let context = format!("seed {seed}, after {step} writes");
            assert_rollups_exact(store, &users, &context).await;
            assert_tag_pages_exact(&fixture, &users, &context).await;
        }
    }
}

#[tokio::test]
async fn sqlite_rollups_equal_a_recomputation_after_random_writes() {
    for seed in [1, 2] {
        rollups_equal_a_recomputation(sqlite().await, seed).await;
    }
}

#[tokio::test]
async fn mariadb_rollups_equal_a_recomputation_after_random_writes() {
    rollups_equal_a_recomputation(mariadb().await, 3).await;
}

/// What an older release leaves: expenses written without rollups and tag
/// rows without dates (here, this release's rows with their rollups taken
/// away or made wrong, and tag rows undated or misdated).
async fn drift(backend: &dyn Backend) {
    backend
        .exec(
            "UPDATE expense_tags SET expense_date = NULL WHERE tag = 'team'",
            vec![],
        )
        .await
        .unwrap();
    backend
        .exec(
            "UPDATE expense_tags SET expense_date = '2020-02-02' WHERE tag = 'travel'",
            vec![],
        )
        .await
        .unwrap();
    backend
        .exec(
            "DELETE FROM expense_rollups WHERE day >= '2026-01-01' AND day <= '2026-01-31'",
            vec![],
        )
        .await
        .unwrap();
    backend
        .exec(
            "UPDATE expense_rollups SET total_low = total_low + 7, expense_count = expense_count + 1 \
             WHERE day >= '2025-12-01' AND day <= '2025-12-31'",
            vec![],
        )
        .await
        .unwrap();
    // A month whose expenses an older release deleted: stale rows only.
    backend
        .exec(
            "INSERT INTO expense_rollups (user_id, dimension, period, day, rkey, currency, \
             total_high, total_low, expense_count) VALUES ('alice', 1, 1, '2024-05-01', '', 'EUR', 0, 5, 1), \
             ('alice', 1, 0, '2024-05-09', '', 'EUR', 0, 5, 1), ('zed', 2, 0, '2024-05-09', '', 'EUR', 0, 5, 1)",
            vec![],
        )
        .await
        .unwrap();
}

async fn a_backfill_corrects_an_older_release(fixture: Fixture, writers: usize) {
    let store = &fixture.store;
    let users: Vec<Actor> = ["alice", "bob"]
        .iter()
        .map(|u| Actor::personal(&UserId::parse(u).unwrap()))
        .collect();
    let mut rng = StdRng::seed_from_u64(11);
    for user in &users {
        let food = category("Food");
        let rows: Vec<Expense> = (0..400)
            .map(|_| new_expense(&random_body(&mut rng, std::slice::from_ref(&food.id))))
            .collect();
        store
            .import_expenses(user, std::slice::from_ref(&food), &rows, None)
            .await
            .unwrap();
    }
    drift(fixture.backend.as_ref()).await;
    // Not backfilled yet: reports still sum the expenses, and tag pages
    // check each expense's tags.
    assert_rollups_exact(store, &users, "before the backfill").await;
    let everything = all_pages(
        store,
        &users[0],
        shared::domain::filter::ListQuery::parse(&[]).unwrap(),
    )
    .await;
    let team = shared::domain::filter::ListQuery::parse(&[("tag".into(), "team".into())]).unwrap();
    let tagged = all_pages(store, &users[0], team).await;
    assert_eq!(
        tagged.len(),
        everything
            .iter()
            .filter(|e| e.fields.tags.iter().any(|t| t == "team"))
            .count()
    );
    assert!(!tagged.is_empty());

    // This release's writes go on while the backfill runs.
    let writing = (0..writers)
        .map(|n| {
            let store = Arc::clone(store);
            let user = users[n % users.len()].clone();
            tokio::spawn(async move {
                let mut rng = StdRng::seed_from_u64(100 + n as u64);
                for _ in 0..25 {
                    random_write(&store, &mut rng, &user, false).await;
                }
            })
        })
        .collect::<Vec<_>>();
    let done = store.backfill().await;
    // (The writers first: a failed backfill must not leave them holding
    // locks while the test database is dropped.)
    for task in writing {
        task.await.unwrap();
    }
    let done = done.unwrap();
    // alice, bob and zed (rollups only); each user's five months, and
    // alice's stale May 2024.
    assert_eq!(done.users, 3, "{done:?}");
    assert!(done.months >= 11, "{done:?}");
    let mut everyone = users.clone();
    everyone.push(Actor::personal(&UserId::parse("zed").unwrap()));
    assert_rollups_exact(store, &everyone, "after the backfill").await;
    assert_tag_pages_exact(&fixture, &everyone, "after the backfill").await;
    // Reports now read the rollups, which still hold after more writes.
    for user in &users {
        random_write(store, &mut rng, user, true).await;
    }
    assert_rollups_exact(store, &everyone, "after more writes").await;
    assert_tag_pages_exact(&fixture, &everyone, "after more writes").await;
    let rows = fixture
        .backend
        .query("SELECT COUNT(*) FROM rollup_state", vec![])
        .await
        .unwrap();
    assert_eq!(rows[0][0].int().unwrap(), 1, "the rollups are marked ready");
}

#[tokio::test]
async fn sqlite_backfill_corrects_what_an_older_release_wrote() {
    a_backfill_corrects_an_older_release(sqlite().await, 4).await;
}

#[tokio::test]
async fn mariadb_backfill_corrects_an_older_release_while_writers_run() {
    a_backfill_corrects_an_older_release(mariadb().await, 16).await;
}
