//! CSV export and import: the round trip into a fresh account, all-or-
//! nothing imports with every bad row reported by line, the formula-
//! injection guard, filters, large exports in parts chained by `Link`,
//! methods and content types, and what an import accepts or rejects.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

const ALICE: &str = "csv-alice";
const BOB: &str = "csv-bob";

/// The largest body an import takes.
const MIB: usize = 1024 * 1024;
/// The most one export part may carry.
const PART_LIMIT: usize = 900 * 1024;
const ID: usize = 0;
const CURRENCY: usize = 3;
const MERCHANT: usize = 5;
const DESCRIPTION: usize = 6;

/// The data rows of a parsed export (without the header), asserting the
/// header and the column count.
fn data_rows(rows: &[Vec<String>]) -> &[Vec<String>] {
    let header: Vec<String> = CSV_HEADER.split(',').map(str::to_owned).collect();
    assert_eq!(
        rows.first(),
        Some(&header),
        "the export starts with the header row"
    );
    for row in &rows[1..] {
        assert_eq!(
            row.len(),
            header.len(),
            "every row has {} cells: {row:?}",
            header.len()
        );
    }
    &rows[1..]
}

/// The `errors` of a 422 import answer as (line, field), sorted, asserting
/// each item's shape.
fn row_errors(resp: &Resp) -> Vec<(u64, String)> {
    let problem = resp.problem(422);
    let errors = problem["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("{}: a 422 import names its errors: {problem}", resp.what));
    let mut found: Vec<(u64, String)> = errors
        .iter()
        .map(|e| {
            let line = e["line"].as_u64();
            let field = e["field"].as_str();
            assert!(
                line.is_some()
                    && field.is_some()
                    && e["message"].as_str().is_some_and(|m| !m.is_empty()),
                "{}: every import error has a numeric `line`, a string `field` and a message: {e}",
                resp.what
            );
            (
                line.unwrap_or_default(),
                field.unwrap_or_default().to_owned(),
            )
        })
        .collect();
    found.sort();
    found
}

/// Asserts that `user` has no expenses and no categories.
async fn assert_nothing_stored(app: &TestApp, user: &str, why: &str) {
    assert_eq!(
        app.list_all(user, &[]).await,
        Vec::<Value>::new(),
        "{why}: no expense is stored"
    );
    assert_eq!(
        app.categories(user).await,
        Vec::<Value>::new(),
        "{why}: no category is stored"
    );
}

/// An expense as comparable across accounts: without ids, versions and
/// timestamps, its category by name.
fn portable(expense: &Value, category_names: &BTreeMap<String, String>) -> Value {
    let category = expense["category_id"]
        .as_str()
        .map(|id| category_names[id].clone());
    json!({
        "amount": expense["amount"],
        "currency": expense["currency"],
        "date": expense["date"],
        "category": category,
        "merchant": expense["merchant"],
        "description": expense["description"],
        "tags": expense["tags"],
    })
}

/// Every expense of `user` in list order, made portable.
async fn portable_expenses(app: &TestApp, user: &str) -> Vec<Value> {
    let names: BTreeMap<String, String> = app
        .categories(user)
        .await
        .iter()
        .map(|c| (id_of(c), str_of(c, "name")))
        .collect();
    app.list_all(user, &[])
        .await
        .iter()
        .map(|e| portable(e, &names))
        .collect()
}

/// Exports everything of `from` (one part) and imports it as `to`.
async fn copy_account(app: &TestApp, from: &str, to: &str) -> Resp {
    let parts = app.export_parts(from, &[]).await;
    assert_eq!(parts.len(), 1, "a small export is one part");
    let rows = data_rows(&parse_csv(&parts[0].body)).len();
    let export = parts.into_iter().next().expect("one part");
    app.import_csv_ok(to, export.body.clone(), rows).await;
    export
}

#[tokio::test]
async fn an_export_imports_back_into_a_fresh_account_as_the_same_expenses() {
    let app = spawn_app(AppOptions::default()).await;
    let food = id_of(&app.create_category(ALICE, "Food").await);
    let travel = id_of(&app.create_category(ALICE, "Travel, \"far\"").await);
    app.create_category(ALICE, "Unused").await;
    for (amount, currency, date, extra) in [
        (
            "12.3",
            "USD",
            "2026-11-28",
            json!({"category_id": food, "merchant": "Café Central", "tags": ["team", "lunch"]}),
        ),
        (
            "1500",
            "JPY",
            "2026-11-27",
            json!({"category_id": travel, "merchant": "He said \"hi\", then left",
            "description": "line 1\nline 2\r\nline 3", "tags": ["a", "b,c", "\"q\""]}),
        ),
        ("0.001", "BHD", "2026-11-26", json!({"description": "x"})),
        (
            "999999999999.0000",
            "CLF",
            "2026-11-25",
            json!({"category_id": food, "merchant": "日本 😀", "tags": ["😀"]}),
        ),
        (
            "7",
            "EUR",
            "9999-12-31",
            json!({"description": "Cafe\u{301} — no normalisation"}),
        ),
        (
            "0.01",
            "EUR",
            "1000-01-01",
            json!({"merchant": "'quoted'", "description": "'"}),
        ),
    ] {
        app.create_expense(ALICE, &with(expense_body(amount, currency, date), extra))
            .await;
    }

    let export = copy_account(&app, ALICE, BOB).await;
    assert_eq!(
        export.header("content-type"),
        Some("text/csv; charset=utf-8"),
        "the export's content type"
    );
    let disposition = export.header("content-disposition").unwrap_or("");
    assert!(
        disposition.starts_with("attachment"),
        "the export is an attachment, got Content-Disposition {disposition:?}"
    );
    assert!(
        export.body.starts_with(&format!("{CSV_HEADER}\r\n")) && export.body.ends_with("\r\n"),
        "records end in CRLF: {:?}",
        export.body
    );
    let alice_rows = parse_csv(&export.body);
    let alice_ids: Vec<String> = data_rows(&alice_rows)
        .iter()
        .map(|r| r[ID].clone())
        .collect();
    assert_eq!(
        alice_ids,
        ids(&app.list_all(ALICE, &[]).await),
        "the export lists every expense once, in list order"
    );

    let bob_rows = app.export_rows(BOB, &[]).await;
    let bob_data = data_rows(&bob_rows);
    assert_eq!(bob_data.len(), alice_ids.len(), "every row was imported");
    for (theirs, mine) in data_rows(&alice_rows).iter().zip(bob_data) {
        assert!(
            !alice_ids.contains(&mine[ID]),
            "the import makes new ids: {mine:?}"
        );
        assert_eq!(
            &theirs[1..],
            &mine[1..],
            "re-exported, the row is the same but for its id"
        );
    }
    assert_eq!(
        portable_expenses(&app, BOB).await,
        portable_expenses(&app, ALICE).await,
        "the imported expenses are the same expenses"
    );
    let bob_categories: Vec<String> = app
        .categories(BOB)
        .await
        .iter()
        .map(|c| str_of(c, "name"))
        .collect();
    assert_eq!(
        bob_categories,
        vec!["Food", "Travel, \"far\""],
        "the categories named in the rows are created"
    );
}

#[tokio::test]
async fn an_import_with_bad_rows_stores_nothing_and_reports_every_bad_row_by_line() {
    let app = spawn_app(AppOptions::default()).await;
    let long_category = format!("2026-01-09,9.00,EUR,{},,,\r\n", "c".repeat(101));
    let body = [
        "date,amount,currency,category,merchant,description,tags\r\n", // 1
        "2026-01-01,1.00,EUR,New,Shop,,a;b\r\n",                       // 2
        "2026-01-02,2.00,EUR,,,\"multi\nline\r\nthree\",\r\n",         // 3–5
        "2026-02-30,3.00,EUR,,,,\r\n",                                 // 6: no such date
        "2026-01-03,4.00,EUR,,,,\r\n",                                 // 7
        "2026-01-04,12.345,USD,,,,\n",                                 // 8: too precise
        "2026-01-05,5.00,usd,,,\"also\nmulti\",\r\n",                  // 9–10: currency
        "2026-01-06,6.00,EUR,Other,,,\r\n",                            // 11
        "2026-01-07,7.00\r\n",                                         // 12: too few cells
        "2026-01-08,8.00,EUR,,,,\r\n",                                 // 13
        &long_category,                                                // 14: name too long
    ]
    .concat();
    let resp = app.import_csv(ALICE, body).await;
    let errors = row_errors(&resp);
    let lines: BTreeSet<u64> = errors.iter().map(|(line, _)| *line).collect();
    assert_eq!(
        lines,
        BTreeSet::from([6, 8, 9, 12, 14]),
        "every bad row is reported by the physical line it starts on: {}",
        resp.body
    );
    for expected in [
        (6, "date"),
        (8, "amount"),
        (9, "currency"),
        (14, "category"),
    ] {
        assert!(
            errors.iter().any(|(l, f)| (*l, f.as_str()) == expected),
            "the error {expected:?} is missing: {}",
            resp.body
        );
    }
    assert_nothing_stored(&app, ALICE, "a rejected import").await;
}

#[tokio::test]
async fn formula_characters_quotes_commas_and_newlines_survive_export_and_import() {
    let app = spawn_app(AppOptions::default()).await;
    let category = id_of(&app.create_category(ALICE, "@cat").await);
    // (value, as the export must print it)
    let cases = [
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("@x", "'@x"),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("'=y", "''=y"),
        ("''@z", "'''@z"),
        ("'plain", "'plain"),
        ("x=1", "x=1"),
        ("He said \"hi\", then left", "He said \"hi\", then left"),
        ("a,b", "a,b"),
        ("line 1\nline 2", "line 1\nline 2"),
    ];
    for (day, (value, _)) in cases.iter().enumerate() {
        let date = format!("2026-03-{:02}", day + 1);
        app.create_expense(
            ALICE,
            &with(
                expense_body("1.00", "EUR", &date),
                json!({"merchant": value, "description": value, "category_id": category, "tags": ["=t", "-u"]}),
            ),
        )
        .await;
    }

    let export = copy_account(&app, ALICE, BOB).await;
    assert!(
        export.body.contains("\"He said \"\"hi\"\", then left\""),
        "a cell with a quote and a comma is quoted with the quote doubled: {:?}",
        export.body
    );
    let rows = parse_csv(&export.body);
    let printed: BTreeSet<&str> = data_rows(&rows)
        .iter()
        .map(|r| r[MERCHANT].as_str())
        .collect();
    let expected: BTreeSet<&str> = cases.iter().map(|(_, printed)| *printed).collect();
    assert_eq!(printed, expected, "merchants as exported");
    for row in data_rows(&rows) {
        assert_eq!(
            row[MERCHANT], row[DESCRIPTION],
            "descriptions are guarded alike"
        );
        assert_eq!(
            (row[4].as_str(), row[7].as_str()),
            ("'@cat", "'=t;-u"),
            "category and tags cells are guarded too"
        );
        for cell in row {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "no exported cell starts with a formula character: {row:?}"
            );
        }
    }
    // Imported back, every value is exactly what was sent.
    let values: BTreeSet<String> = cases
        .iter()
        .map(|(value, _)| json!(value).to_string())
        .collect();
    let imported = app.list_all(BOB, &[]).await;
    let merchants: BTreeSet<String> = imported.iter().map(|e| e["merchant"].to_string()).collect();
    let descriptions: BTreeSet<String> = imported
        .iter()
        .map(|e| e["description"].to_string())
        .collect();
    assert_eq!(merchants, values, "merchants survive the round trip");
    assert_eq!(descriptions, values, "descriptions survive the round trip");
    assert!(
        imported.iter().all(|e| e["tags"] == json!(["=t", "-u"])),
        "tags survive the round trip"
    );
    assert_eq!(
        portable_expenses(&app, BOB).await,
        portable_expenses(&app, ALICE).await
    );

    // A hand-written import loses exactly one guarding quote.
    let csv = [
        "date,amount,currency,merchant,description\r\n",
        "2026-01-01,1,EUR,'=x,''=x\r\n",
        "2026-01-02,1,EUR,'x,'''-x\r\n",
    ]
    .concat();
    app.import_csv_ok("csv-carol", csv, 2).await;
    let carol: Vec<(Value, Value)> = app
        .list_all("csv-carol", &[])
        .await
        .iter()
        .map(|e| (e["merchant"].clone(), e["description"].clone()))
        .collect();
    assert_eq!(
        carol,
        vec![(json!("'x"), json!("''-x")), (json!("=x"), json!("'=x"))],
        "a leading ' is removed only before a formula character, and only one"
    );
}

#[tokio::test]
async fn an_export_takes_the_list_filters() {
    let app = spawn_app(AppOptions::default()).await;
    let food = id_of(&app.create_category(ALICE, "Food").await);
    for (amount, currency, date, extra) in [
        (
            "5.00",
            "USD",
            "2026-01-10",
            json!({"tags": ["a"], "category_id": food, "merchant": "Shop"}),
        ),
        ("7.00", "EUR", "2026-01-20", json!({"tags": ["b"]})),
        (
            "9.00",
            "EUR",
            "2026-02-05",
            json!({"tags": ["a"], "category_id": food, "description": "Coffee beans"}),
        ),
        ("100", "JPY", "2026-03-01", json!({})),
    ] {
        app.create_expense(ALICE, &with(expense_body(amount, currency, date), extra))
            .await;
    }
    app.create_expense(BOB, &expense_body("7.00", "EUR", "2026-01-20"))
        .await;

    let cases: [(Query<'_>, usize); 10] = [
        (&[], 4),
        (&[("currency", "EUR")], 2),
        (&[("from", "2026-01-15"), ("to", "2026-02-05")], 2),
        (&[("tag", "a")], 2),
        (&[("category_id", &food)], 2),
        (&[("category_id", "none")], 2),
        (&[("q", "COFFEE")], 1),
        (&[("min_amount", "7"), ("max_amount", "9")], 2),
        (&[("currency", "EUR"), ("tag", "a")], 1),
        (&[("tag", "nothing")], 0),
    ];
    for (params, count) in cases {
        let rows = app.export_rows(ALICE, params).await;
        let exported: Vec<String> = data_rows(&rows).iter().map(|r| r[ID].clone()).collect();
        let listed = ids(&app.list_all(ALICE, params).await);
        assert_eq!(exported.len(), count, "{params:?}: the number of rows");
        assert_eq!(
            exported, listed,
            "{params:?}: the export has exactly the listed expenses"
        );
    }
    let euros = app.export_rows(ALICE, &[("currency", "EUR")]).await;
    assert!(
        data_rows(&euros).iter().all(|r| r[CURRENCY] == "EUR"),
        "currency=EUR exports only EUR rows: {euros:?}"
    );

    let bad: [Query<'_>; 4] = [
        &[("limit", "10")],
        &[("currency", "XAU")],
        &[("from", "2026-02-30")],
        &[("from", "2026-03-01"), ("to", "2026-02-01")],
    ];
    for params in bad {
        let request = app
            .authed(Method::GET, "/v1/expenses/export", ALICE)
            .query(params);
        send(request)
            .await
            .context(format!("{params:?}"))
            .problem(400);
    }
}

#[tokio::test]
async fn a_large_export_comes_in_parts_of_at_most_900_kib_chained_by_link() {
    let app = spawn_app(AppOptions::default()).await;
    const ROWS: usize = 3000;
    const CHUNK: usize = 750;
    // About 1 KB a row: 600 code points, half of them two bytes long.
    let description = |i: usize| format!("{i:04} {}{}", "é".repeat(300), "x".repeat(295));
    let header = csv_record(&["date", "amount", "currency", "merchant", "description"]);
    for chunk in 0..ROWS / CHUNK {
        let mut csv = header.clone();
        for i in chunk * CHUNK..(chunk + 1) * CHUNK {
            let date = format!("2026-{:02}-{:02}", 1 + i % 12, 1 + i % 28);
            let amount = format!("{}.{:02}", 1 + i, i % 100);
            csv.push_str(&csv_record(&[
                &date,
                &amount,
                "EUR",
                "Shop",
                &description(i),
            ]));
        }
        assert!(csv.len() < MIB, "each import chunk stays under 1 MiB");
        app.import_csv_ok(ALICE, csv, CHUNK).await;
    }
    let mut usd = header.clone();
    for day in 1..=5 {
        usd.push_str(&csv_record(&[
            &format!("2026-06-{day:02}"),
            "1.00",
            "USD",
            "Other",
            "not exported",
        ]));
    }
    app.import_csv_ok(ALICE, usd, 5).await;

    let parts = app.export_parts(ALICE, &[("currency", "EUR")]).await;
    assert!(
        parts.len() >= 3,
        "about 3 MB of CSV needs several parts, got {}",
        parts.len()
    );
    let mut exported = Vec::new();
    for (n, part) in parts.iter().enumerate() {
        assert!(
            part.body.len() <= PART_LIMIT,
            "part {n} has {} bytes, more than 900 KiB",
            part.body.len()
        );
        assert!(
            part.body.starts_with(&format!("{CSV_HEADER}\r\n")),
            "part {n} starts with the header row"
        );
        match next_link(part) {
            Some(link) => {
                assert!(n + 1 < parts.len(), "the last part has no next link");
                assert!(
                    link.starts_with("/v1/expenses/export?") && link.contains("currency=EUR"),
                    "part {n}: the next link keeps the filters: {link}"
                );
            }
            None => assert_eq!(
                n + 1,
                parts.len(),
                "part {n} of {} lacks a next link",
                parts.len()
            ),
        }
        let rows = parse_csv(&part.body);
        for row in data_rows(&rows) {
            assert_eq!(row[CURRENCY], "EUR", "only EUR rows: {row:?}");
            exported.push((row[ID].clone(), row[DESCRIPTION].clone()));
        }
    }
    let listed = ids(&app
        .list_all(ALICE, &[("currency", "EUR"), ("limit", "200")])
        .await);
    assert_eq!(listed.len(), ROWS);
    let exported_ids: Vec<String> = exported.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(
        exported_ids, listed,
        "the parts hold every matching expense exactly once, in list order"
    );
    let descriptions: BTreeSet<String> = exported.into_iter().map(|(_, d)| d).collect();
    assert_eq!(
        descriptions,
        (0..ROWS).map(description).collect::<BTreeSet<_>>(),
        "every row's long description is exported whole"
    );
}

#[tokio::test]
async fn other_methods_on_export_and_import_are_405() {
    let app = spawn_app(AppOptions::default()).await;
    for method in [Method::PATCH, Method::PUT, Method::POST, Method::DELETE] {
        app.send_body(method, "/v1/expenses/export", ALICE, Some(JSON), "{}")
            .await
            .assert_method_not_allowed(&["GET"]);
    }
    for method in [Method::GET, Method::PUT, Method::PATCH, Method::DELETE] {
        app.send_body(
            method,
            "/v1/expenses/import",
            ALICE,
            Some("text/csv"),
            "date,amount,currency\r\n",
        )
        .await
        .assert_method_not_allowed(&["POST"]);
    }
    assert_nothing_stored(&app, ALICE, "405s").await;
}

#[tokio::test]
async fn an_import_needs_a_text_csv_body() {
    let app = spawn_app(AppOptions::default()).await;
    let csv = "date,amount,currency\r\n2026-01-01,1.00,EUR\r\n";
    for content_type in [Some(JSON), Some("text/plain"), None] {
        app.send_body(
            Method::POST,
            "/v1/expenses/import",
            ALICE,
            content_type,
            csv,
        )
        .await
        .context(format!("Content-Type {content_type:?}"))
        .problem(415);
    }
    assert_nothing_stored(&app, ALICE, "415s").await;
    let resp = app
        .send_body(
            Method::POST,
            "/v1/expenses/import",
            ALICE,
            Some("text/csv; charset=utf-8"),
            csv,
        )
        .await;
    assert_eq!(
        resp.expect_json(201),
        json!({"imported": 1}),
        "text/csv with a charset"
    );
}

#[tokio::test]
async fn a_body_that_is_not_utf8_or_not_csv_is_422_with_its_line() {
    let app = spawn_app(AppOptions::default()).await;
    let mut latin1 = b"date,amount,currency,merchant\r\n2026-01-01,1.00,EUR,ok\r\n".to_vec();
    latin1.extend_from_slice(b"2026-01-02,1.00,EUR,caf\xe9\r\n");
    let resp = app
        .import_csv(ALICE, latin1)
        .await
        .context("Latin-1 on line 3");
    let lines: Vec<u64> = row_errors(&resp).iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, vec![3], "the line of the bad byte: {}", resp.body);

    let unterminated = [
        "date,amount,currency,merchant\r\n",
        "2026-01-01,1.00,EUR,\"two\r\nlines\"\r\n",
        "2026-01-02,1.00,EUR,\"open\r\n",
        "2026-01-03,1.00,EUR,x\r\n",
    ]
    .concat();
    let resp = app
        .import_csv(ALICE, unterminated)
        .await
        .context("an unterminated quote");
    let lines: Vec<u64> = row_errors(&resp).iter().map(|(l, _)| *l).collect();
    assert_eq!(
        lines,
        vec![4],
        "the line where the bad record starts: {}",
        resp.body
    );
    assert_nothing_stored(&app, ALICE, "unparseable bodies").await;
}

#[tokio::test]
async fn an_id_column_is_accepted_and_ignored() {
    let app = spawn_app(AppOptions::default()).await;
    let existing = app
        .create_expense(
            ALICE,
            &with(
                expense_body("9.00", "EUR", "2026-01-01"),
                json!({"merchant": "Original"}),
            ),
        )
        .await;
    let id = id_of(&existing);
    // Columns in any order; the id of an existing expense, twice, and junk.
    let csv = [
        csv_record(&["currency", "id", "amount", "date", "merchant"]),
        csv_record(&["EUR", &id, "1.5", "2026-01-02", "Copy 1"]),
        csv_record(&["EUR", &id, "2.5", "2026-01-03", "Copy 2"]),
        csv_record(&["EUR", "not an id", "3.5", "2026-01-04", "Copy 3"]),
    ]
    .concat();
    app.import_csv_ok(ALICE, csv, 3).await;
    assert_eq!(
        app.get_expense(ALICE, &id).await,
        existing,
        "an imported row never overwrites the expense its id names"
    );
    let all = app.list_all(ALICE, &[]).await;
    let distinct: BTreeSet<String> = ids(&all).into_iter().collect();
    assert_eq!(
        (all.len(), distinct.len()),
        (4, 4),
        "three new expenses with new ids"
    );
    let merchants: Vec<&Value> = all.iter().map(|e| &e["merchant"]).collect();
    assert_eq!(merchants, vec!["Copy 3", "Copy 2", "Copy 1", "Original"]);
    assert_eq!(all[0]["amount"], "3.50");
}

#[tokio::test]
async fn an_unknown_or_missing_column_is_422_and_stores_nothing() {
    let app = spawn_app(AppOptions::default()).await;
    for (body, why) in [
        (
            "date,amount,currency,colour\r\n2026-01-01,1.00,EUR,red\r\n",
            "an unknown column",
        ),
        ("date,amount\r\n2026-01-01,1.00\r\n", "no currency column"),
        ("", "no header row"),
    ] {
        let resp = app.import_csv(ALICE, body).await.context(why);
        let lines: BTreeSet<u64> = row_errors(&resp).iter().map(|(l, _)| *l).collect();
        assert_eq!(
            lines,
            BTreeSet::from([1]),
            "{why}: reported on line 1: {}",
            resp.body
        );
    }
    assert_nothing_stored(&app, ALICE, "rejected headers").await;
}

#[tokio::test]
async fn an_import_matches_categories_ignoring_case_and_creates_missing_ones_once() {
    let app = spawn_app(AppOptions::default()).await;
    let food = id_of(&app.create_category(ALICE, "Food").await);
    let csv = [
        csv_record(&["date", "amount", "currency", "category"]),
        csv_record(&["2026-01-01", "1", "EUR", "FOOD"]),
        csv_record(&["2026-01-02", "2", "EUR", " food "]),
        csv_record(&["2026-01-03", "3", "EUR", "Été"]),
        csv_record(&["2026-01-04", "4", "EUR", "ÉTÉ"]),
        csv_record(&["2026-01-05", "5", "EUR", ""]),
    ]
    .concat();
    app.import_csv_ok(ALICE, csv, 5).await;
    let categories = app.categories(ALICE).await;
    let names: Vec<String> = categories.iter().map(|c| str_of(c, "name")).collect();
    assert_eq!(
        names,
        vec!["Food", "Été"],
        "one new category, first spelling wins"
    );
    let ete = id_of(&categories[1]);
    let assigned: Vec<Value> = app
        .list_all(ALICE, &[])
        .await
        .iter()
        .map(|e| e["category_id"].clone())
        .collect();
    assert_eq!(
        assigned,
        vec![
            Value::Null,
            json!(ete),
            json!(ete),
            json!(food),
            json!(food)
        ],
        "rows land in the category matching their name ignoring case"
    );
}

#[tokio::test]
async fn an_import_over_1_mib_is_413_and_stores_nothing() {
    let app = spawn_app(AppOptions::default()).await;
    let mut csv = csv_record(&["date", "amount", "currency", "description"]);
    let row = csv_record(&["2026-01-01", "1.00", "EUR", &"d".repeat(1000)]);
    while csv.len() <= MIB {
        csv.push_str(&row);
    }
    app.import_csv(ALICE, csv).await.problem(413);
    assert_nothing_stored(&app, ALICE, "a 413").await;
}

/// Six concurrent imports, each naming one new category (in different
/// cases) and one of its own.
async fn concurrent_imports_of_one_new_category(app: &TestApp) {
    let tasks: Vec<_> = ["Shared", "SHARED", "shared", "Shared", "sHARED", "Shared"]
        .into_iter()
        .enumerate()
        .map(|(i, name)| {
            let csv = [
                csv_record(&["date", "amount", "currency", "category"]),
                csv_record(&[&format!("2026-01-{:02}", i + 1), "1.00", "EUR", name]),
                csv_record(&["2026-02-01", "1.00", "EUR", &format!("Own {i}")]),
            ]
            .concat();
            let request = app
                .authed(Method::POST, "/v1/expenses/import", ALICE)
                .header("content-type", "text/csv")
                .body(csv);
            tokio::spawn(send(request))
        })
        .collect();
    for task in tasks {
        let resp = task.await.expect("an import task panicked");
        assert_eq!(
            resp.expect_json(201),
            json!({"imported": 2}),
            "{}",
            resp.what
        );
    }
    let categories = app.categories(ALICE).await;
    let shared: Vec<&Value> = categories
        .iter()
        .filter(|c| {
            c["name"]
                .as_str()
                .is_some_and(|n| n.to_lowercase() == "shared")
        })
        .collect();
    assert_eq!(
        shared.len(),
        1,
        "one category named shared ignoring case: {categories:?}"
    );
    assert_eq!(categories.len(), 7, "Shared and six others: {categories:?}");
    let in_shared = app
        .list_all(ALICE, &[("category_id", &id_of(shared[0]))])
        .await;
    assert_eq!(
        in_shared.len(),
        6,
        "every import's row is in the one category"
    );
}

#[tokio::test]
async fn concurrent_imports_naming_one_new_category_create_it_once_on_mariadb() {
    concurrent_imports_of_one_new_category(&spawn_app(AppOptions::default()).await).await;
}

#[tokio::test]
async fn concurrent_imports_naming_one_new_category_create_it_once_on_sqlite() {
    concurrent_imports_of_one_new_category(
        &spawn_app(AppOptions::default().sqlite().no_cache()).await,
    )
    .await;
}
