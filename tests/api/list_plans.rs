//! A page costs the same on page 1 and page 1000 (API.md): on a table of
//! 200,000 expenses of one user, 5,000 of them on one date, the list query
//! reads about `limit + 1` index entries, unfiltered and under each single
//! equality filter (a tag's pages walk the tag rows, joined to their
//! expenses by primary key), on the first page and on a page whose cursor
//! sits in the middle of that crowded date. Checked with the database's own plan:
//! `ANALYZE` (rows actually read) on MariaDB, `EXPLAIN QUERY PLAN` on
//! SQLite. The rows are bulk-loaded in SQL.

use std::sync::Arc;

use mysql_async::prelude::Queryable;
use serde_json::{json, Value};
use shared::config::DB_STATEMENT_TIMEOUT;
use shared::domain::cursor::Cursor;
use shared::domain::filter::ListQuery;
use shared::domain::text::parse_date;
use shared::domain::{new_id, UserId};
use shared::store::mysql::{MysqlBackend, MysqlSettings};
use shared::store::sql::{list_query, page_index, Dialect, Param, TAG_PAGE_INDEX};
use shared::store::{Actor, SqlStore, Store};

use crate::helpers::{TestDb, SQL_MODE};
use crate::pki::TempDir;

const ROWS: u32 = 200_000;
const LIMIT: usize = 50;
/// Every 40th expense is on this date: 5,000 of them.
const CROWDED: &str = "2026-06-15";

/// Each filter, with the SQL condition that picks its rows (to find a
/// cursor in the crowded date). `{a}` is category A's id. The USD
/// expenses, half of all, carry the tag `team`.
const FILTERS: [(&str, &str); 5] = [
    ("", "TRUE"),
    ("category_id={a}", "category_id = '{a}'"),
    ("category_id=none", "category_id IS NULL"),
    ("currency=USD", "currency = 'USD'"),
    ("tag=team", "currency = 'USD'"),
];

/// The tag rows: `team` on every USD expense, dated as the expense (as the
/// backfill leaves them).
const TAG_ROWS: &str = "INSERT INTO expense_tags (expense_id, user_id, tag, expense_date) \
     SELECT id, user_id, 'team', expense_date FROM expenses WHERE currency = 'USD'";

fn query(text: &str) -> ListQuery {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(text.as_bytes())
        .into_owned()
        .collect();
    ListQuery::parse(&pairs).expect("a valid list query")
}

/// `?` placeholders replaced by literals (test data only).
fn inline(sql: &str, params: &[Param]) -> String {
    let mut out = String::new();
    let mut params = params.iter();
    for c in sql.chars() {
        if c == '?' {
            match params.next().expect("a parameter for each placeholder") {
                Param::Text(s) => out.push_str(&format!("'{}'", s.replace('\'', "''"))),
                Param::Int(n) => out.push_str(&n.to_string()),
                Param::Null => out.push_str("NULL"),
                Param::Bytes(_) => panic!("no bytes in list queries"),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The `table` node of the plan for the table (alias) `name`.
fn find_table<'a>(plan: &'a Value, name: &str) -> Option<&'a Value> {
    match plan {
        Value::Object(map) => {
            if let Some(t) = map.get("table") {
                if t.get("table_name") == Some(&json!(name)) {
                    return Some(t);
                }
            }
            map.values().find_map(|v| find_table(v, name))
        }
        Value::Array(items) => items.iter().find_map(|v| find_table(v, name)),
        _ => None,
    }
}

/// The expense rows, as SQL over the numbers `n` = 1..ROWS: dates spread
/// over 2,500 days except the crowded one; categories A, B and none in
/// turn; currencies USD and EUR in turn.
fn generated_columns(user: &str, a: &str, b: &str, id: &str, day: &str) -> String {
    format!(
        "{id}, '{user}', 100, 100, CASE WHEN n % 2 = 0 THEN 'USD' ELSE 'EUR' END, \
         CASE WHEN n % 40 = 0 THEN '{CROWDED}' ELSE {day} END, \
         CASE n % 3 WHEN 0 THEN '{a}' WHEN 1 THEN NULL ELSE '{b}' END, \
         NULL, NULL, NULL, NULL, '[]', 1, 0, 0"
    )
}

const EXPENSE_COLUMNS: &str = "id, user_id, amount_minor, amount_scaled, currency, \
     expense_date, category_id, merchant, merchant_folded, description, description_folded, \
     tags, version, created_at, updated_at";

/// The queries to check for one filter: its first page, and a page whose
/// cursor is the 1,000th of the filter's rows on the crowded date.
fn pages(filter: &str, deep_cursor_id: String) -> [(String, ListQuery); 2] {
    let first = query(&format!("{filter}&limit={LIMIT}"));
    let mut deep = first.clone();
    deep.after = Some(Cursor {
        date: parse_date(CROWDED).expect("a date"),
        id: deep_cursor_id,
    });
    [
        (format!("first page, {filter:?}"), first),
        (format!("deep page, {filter:?}"), deep),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_are_index_ranges_on_mariadb() {
    let db = TestDb::create().await;
    let settings = MysqlSettings {
        url: db.url.clone(),
        pool_max: 2,
        sql_mode: Some(SQL_MODE.into()),
        connect_timeout: shared::config::DB_CONNECT_TIMEOUT,
        statement_timeout: DB_STATEMENT_TIMEOUT,
        iam_auth: false,
        ca_bundle: None,
    };
    let backend = Arc::new(MysqlBackend::new(&settings).expect("a MySQL backend"));
    SqlStore::new(backend.clone(), DB_STATEMENT_TIMEOUT)
        .migrate()
        .await
        .expect("migrations");
    let mut conn = backend
        .current_pool()
        .await
        .expect("a pool")
        .get_conn()
        .await
        .expect("a connection");
    let (a, b) = (new_id(), new_id());
    for (id, name) in [(&a, "a"), (&b, "b")] {
        conn.exec_drop(
            "INSERT INTO categories (id, user_id, name, name_folded, color, created_at, updated_at) \
             VALUES (?, 'alice', ?, ?, NULL, 0, 0)",
            (id, name, name),
        )
        .await
        .expect("a category");
    }
    let columns = generated_columns(
        "alice",
        &a,
        &b,
        "CONCAT('01a00000-0000-7000-8000-', LPAD(HEX(n), 12, '0'))",
        "DATE_ADD('2020-01-01', INTERVAL n % 2500 DAY)",
    );
    conn.query_drop(format!(
        "INSERT INTO expenses ({EXPENSE_COLUMNS}) SELECT {columns} \
         FROM (SELECT seq AS n FROM seq_1_to_{ROWS}) numbers"
    ))
    .await
    .expect("bulk-loaded expenses");
    conn.query_drop(TAG_ROWS).await.expect("bulk-loaded tags");
    conn.query_drop("ANALYZE TABLE expenses, expense_tags")
        .await
        .expect("statistics");

    let alice = Actor::personal(&UserId::parse("alice").expect("a user id"));
    for (filter, condition) in FILTERS {
        let (filter, condition) = (filter.replace("{a}", &a), condition.replace("{a}", &a));
        let cursor: Option<String> = conn
            .query_first(format!(
                "SELECT id FROM expenses WHERE user_id = 'alice' AND expense_date = '{CROWDED}' \
                 AND {condition} ORDER BY id DESC LIMIT 1 OFFSET 1000"
            ))
            .await
            .expect("a cursor row");
        for (what, q) in pages(&filter, cursor.expect("1,000 rows on the crowded date")) {
            let (sql, params) = list_query(Dialect::Mysql, &alice.key, &q, true);
            let plan: Option<String> = conn
                .query_first(format!("ANALYZE FORMAT=JSON {}", inline(&sql, &params)))
                .await
                .expect("ANALYZE");
            let plan: Value = serde_json::from_str(&plan.expect("a plan")).expect("JSON");
            let index = page_index(&q, true);
            let walked = if index == TAG_PAGE_INDEX { "t" } else { "e" };
            let table = find_table(&plan, walked).expect("the walked table in the plan");
            assert_eq!(table["key"], index, "{what}: {plan:#}");
            if walked == "t" {
                // Each tag row finds its expense by primary key.
                let expense = find_table(&plan, "e").expect("the expenses in the plan");
                assert_eq!(
                    (&expense["access_type"], &expense["key"]),
                    (&json!("eq_ref"), &json!("PRIMARY")),
                    "{what}: {plan:#}"
                );
            }
            let rows_read = table["r_rows"].as_f64().expect("r_rows");
            assert!(
                rows_read <= (LIMIT + 1) as f64,
                "{what}: read {rows_read} rows for a page of {LIMIT}: {plan:#}"
            );
            println!("{what}: {rows_read} rows read, key {}", table["key"]);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_are_index_ranges_on_sqlite() {
    let dir = TempDir::new();
    let path = dir.0.join("plans.db");
    let path_text = path.to_str().expect("a UTF-8 path").to_owned();
    SqlStore::sqlite(&path_text, DB_STATEMENT_TIMEOUT)
        .expect("a SQLite store")
        .migrate()
        .await
        .expect("migrations");
    let conn = rusqlite::Connection::open(&path).expect("the database file");
    let (a, b) = (new_id(), new_id());
    for (id, name) in [(&a, "a"), (&b, "b")] {
        conn.execute(
            "INSERT INTO categories (id, user_id, name, name_folded, color, created_at, updated_at) \
             VALUES (?1, 'alice', ?2, ?2, NULL, 0, 0)",
            (id, name),
        )
        .expect("a category");
    }
    let columns = generated_columns(
        "alice",
        &a,
        &b,
        "printf('01a00000-0000-7000-8000-%012X', n)",
        "date('2020-01-01', '+' || (n % 2500) || ' days')",
    );
    conn.execute_batch(&format!(
        "WITH RECURSIVE numbers(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM numbers WHERE n < {ROWS}) \
         INSERT INTO expenses ({EXPENSE_COLUMNS}) SELECT {columns} FROM numbers; {TAG_ROWS}; ANALYZE;"
    ))
    .expect("bulk-loaded expenses");

    let alice = Actor::personal(&UserId::parse("alice").expect("a user id"));
    for (filter, condition) in FILTERS {
        let (filter, condition) = (filter.replace("{a}", &a), condition.replace("{a}", &a));
        let cursor: String = conn
            .query_row(
                &format!(
                    "SELECT id FROM expenses WHERE user_id = 'alice' AND expense_date = '{CROWDED}' \
                     AND {condition} ORDER BY id DESC LIMIT 1 OFFSET 1000"
                ),
                [],
                |row| row.get(0),
            )
            .expect("1,000 rows on the crowded date");
        let mut costs = Vec::new();
        for (what, q) in pages(&filter, cursor) {
            let (sql, params) = list_query(Dialect::Sqlite, &alice.key, &q, true);
            let mut statement = conn
                .prepare(&format!("EXPLAIN QUERY PLAN {}", inline(&sql, &params)))
                .expect("EXPLAIN");
            let steps: Vec<String> = statement
                .query_map([], |row| row.get::<_, String>(3))
                .expect("a plan")
                .collect::<Result<_, _>>()
                .expect("plan rows");
            let index = page_index(&q, true);
            let by_tag = index == TAG_PAGE_INDEX;
            // One search of the page's index, in its order: no sort; a tag's
            // rows then each find their expense by primary key.
            assert_eq!(steps.len(), if by_tag { 2 } else { 1 }, "{what}: {steps:?}");
            let (walked, id) = if by_tag {
                ("t", "expense_id")
            } else {
                ("e", "id")
            };
            assert!(
                steps[0].starts_with(&format!("SEARCH {walked} USING INDEX {index} ("))
                    || steps[0]
                        .starts_with(&format!("SEARCH {walked} USING COVERING INDEX {index} (")),
                "{what}: {steps:?}"
            );
            if by_tag {
                assert!(
                    steps[1].starts_with("SEARCH e USING") && steps[1].ends_with("(id=?)"),
                    "{what}: {steps:?}"
                );
            }
            if q.after.is_some() {
                // The range starts at the cursor, on the whole key.
                assert!(
                    steps[0].contains(&format!("(expense_date,{id})<(?,?)")),
                    "{what}: {steps:?}"
                );
            }
            // And it reads only the page: run it, counting the virtual
            // machine's steps (they grow with the rows visited) and sorts.
            let mut run = conn.prepare(&inline(&sql, &params)).expect("the query");
            let rows = run.query_map([], |_| Ok(())).expect("rows").count();
            assert_eq!(rows, LIMIT + 1, "{what}");
            assert_eq!(
                run.get_status(rusqlite::StatementStatus::Sort),
                0,
                "{what}: sorted"
            );
            let vm_steps = run.get_status(rusqlite::StatementStatus::VmStep);
            costs.push(vm_steps);
            println!("{what}: {vm_steps} steps, {}", steps[0]);
        }
        // The deep page costs what the first does (a walk from the top of
        // the crowded date would take thousands of steps more).
        assert!(costs[1] <= costs[0] * 2, "{filter:?}: {costs:?} steps");
    }
}
