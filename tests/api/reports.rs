//! The summary report: exact totals per key and currency, its four
//! groupings, sort order, the inclusive date range, bad parameters, and
//! totals beyond the range of a 64-bit integer on both databases.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::helpers::*;

const USER: &str = "report-owner";
const OTHER: &str = "someone-else";

fn group(key: Option<&str>, currency: &str, total: &str, count: u64) -> Value {
    json!({ "key": key, "currency": currency, "total": total, "count": count })
}

/// The ids of the caller's categories by name.
async fn category_ids(app: &TestApp, user: &str) -> BTreeMap<String, String> {
    app.categories(user)
        .await
        .iter()
        .map(|c| (str_of(c, "name"), id_of(c)))
        .collect()
}

/// `GET /v1/reports/summary` asserting the echoed parameters; returns the
/// groups.
async fn groups(app: &TestApp, user: &str, params: &[(&str, &str)]) -> Vec<Value> {
    let summary = app.summary(user, params).await;
    let param = |name: &str| params.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
    assert_eq!(
        (&summary["from"], &summary["to"], &summary["group_by"]),
        (
            &json!(param("from")),
            &json!(param("to")),
            &json!(param("group_by").unwrap_or("category"))
        ),
        "{params:?}: from, to and group_by are echoed (null when absent): {summary}"
    );
    summary["groups"]
        .as_array()
        .unwrap_or_else(|| panic!("{params:?}: `groups` is not an array: {summary}"))
        .clone()
}

#[tokio::test]
async fn totals_are_exact_over_many_small_amounts_in_several_currencies() {
    let app = spawn_app(AppOptions::default()).await;
    let mut csv = csv_record(&["date", "amount", "currency", "category"]);
    let mut rows = 0;
    for (amount, currency) in [
        ("0.01", "USD"),
        ("0.10", "EUR"),
        ("1", "JPY"),
        ("0.001", "BHD"),
        ("0.0001", "CLF"),
    ] {
        for i in 0..300 {
            let date = format!("2026-0{}-{:02}", 1 + i % 9, 1 + i % 28);
            csv.push_str(&csv_record(&[&date, amount, currency, "Small"]));
            rows += 1;
        }
    }
    for (amount, currency, category) in [
        ("0.1", "EUR", "Other"),
        ("0.2", "EUR", "Other"),
        ("0.07", "USD", ""),
        ("0.07", "USD", ""),
        ("0.07", "USD", ""),
    ] {
        csv.push_str(&csv_record(&["2026-01-01", amount, currency, category]));
        rows += 1;
    }
    app.import_csv_ok(USER, csv, rows).await;
    app.create_expense(OTHER, &expense_body("5.00", "USD", "2026-01-01"))
        .await;

    let ids = category_ids(&app, USER).await;
    let (small, other) = (&ids["Small"], &ids["Other"]);
    let mut expected = vec![
        group(Some(small), "BHD", "0.300", 300),
        group(Some(small), "CLF", "0.0300", 300),
        group(Some(small), "EUR", "30.00", 300),
        group(Some(small), "JPY", "300", 300),
        group(Some(small), "USD", "3.00", 300),
        group(Some(other), "EUR", "0.30", 2),
    ];
    // Sorted by key: category ids compare as strings.
    if other < small {
        expected.rotate_right(1);
    }
    expected.push(group(None, "USD", "0.21", 3));
    assert_eq!(
        groups(&app, USER, &[]).await,
        expected,
        "one group per category and currency, exact totals, the null key last"
    );
    assert_eq!(
        groups(&app, USER, &[("group_by", "category")]).await,
        expected,
        "category is the default grouping"
    );
}

#[tokio::test]
async fn groups_by_month_tag_and_merchant() {
    let app = spawn_app(AppOptions::default()).await;
    let food = id_of(&app.create_category(USER, "Food").await);
    for (amount, currency, date, extra) in [
        (
            "10.00",
            "USD",
            "2026-01-15",
            json!({"tags": ["team", "travel"], "merchant": "apple", "category_id": food}),
        ),
        (
            "5.50",
            "USD",
            "2026-01-20",
            json!({"tags": ["team"], "merchant": "Bakery"}),
        ),
        ("3.00", "EUR", "2026-02-01", json!({})),
        (
            "1.25",
            "USD",
            "2026-02-10",
            json!({"tags": ["travel"], "merchant": "apple"}),
        ),
        (
            "500",
            "JPY",
            "2025-12-31",
            json!({"tags": ["team"], "merchant": "Bakery"}),
        ),
    ] {
        app.create_expense(USER, &with(expense_body(amount, currency, date), extra))
            .await;
    }
    app.create_expense(
        OTHER,
        &with(
            expense_body("99.00", "USD", "2026-01-15"),
            json!({"tags": ["team"], "merchant": "apple"}),
        ),
    )
    .await;

    let cases = [
        (
            "month",
            vec![
                group(Some("2025-12"), "JPY", "500", 1),
                group(Some("2026-01"), "USD", "15.50", 2),
                group(Some("2026-02"), "EUR", "3.00", 1),
                group(Some("2026-02"), "USD", "1.25", 1),
            ],
        ),
        (
            // An expense with two tags counts in both; untagged ones under null.
            "tag",
            vec![
                group(Some("team"), "JPY", "500", 1),
                group(Some("team"), "USD", "15.50", 2),
                group(Some("travel"), "USD", "11.25", 2),
                group(None, "EUR", "3.00", 1),
            ],
        ),
        (
            // Keys in code point order: "Bakery" before "apple".
            "merchant",
            vec![
                group(Some("Bakery"), "JPY", "500", 1),
                group(Some("Bakery"), "USD", "5.50", 1),
                group(Some("apple"), "USD", "11.25", 2),
                group(None, "EUR", "3.00", 1),
            ],
        ),
        (
            "category",
            vec![
                group(Some(&food), "USD", "10.00", 1),
                group(None, "EUR", "3.00", 1),
                group(None, "JPY", "500", 1),
                group(None, "USD", "6.75", 2),
            ],
        ),
    ];
    for (group_by, expected) in cases {
        assert_eq!(
            groups(&app, USER, &[("group_by", group_by)]).await,
            expected,
            "group_by={group_by}"
        );
    }
}

#[tokio::test]
async fn from_and_to_are_inclusive_and_echoed() {
    let app = spawn_app(AppOptions::default()).await;
    for (amount, date) in [
        ("1.00", "2026-01-31"),
        ("2.00", "2026-02-01"),
        ("4.00", "2026-02-28"),
        ("8.00", "2026-03-01"),
    ] {
        app.create_expense(USER, &expense_body(amount, "USD", date))
            .await;
    }
    let cases: [(Query<'_>, Vec<Value>); 6] = [
        (&[], vec![group(None, "USD", "15.00", 4)]),
        (
            &[("from", "2026-02-01"), ("to", "2026-02-28")],
            vec![group(None, "USD", "6.00", 2)],
        ),
        (
            &[("from", "2026-02-01")],
            vec![group(None, "USD", "14.00", 3)],
        ),
        (&[("to", "2026-02-01")], vec![group(None, "USD", "3.00", 2)]),
        (
            &[
                ("from", "2026-02-28"),
                ("to", "2026-02-28"),
                ("group_by", "month"),
            ],
            vec![group(Some("2026-02"), "USD", "4.00", 1)],
        ),
        (&[("from", "2027-01-01")], vec![]),
    ];
    for (params, expected) in cases {
        assert_eq!(groups(&app, USER, params).await, expected, "{params:?}");
    }
}

#[tokio::test]
async fn malformed_report_parameters_are_400() {
    let app = spawn_app(AppOptions::default()).await;
    let cases: [Query<'_>; 13] = [
        &[("limit", "0")],
        &[("limit", "1001")],
        &[("cursor", "not-a-cursor")],
        // A cursor of one grouping is not a position in another.
        &[("group_by", "category"), ("cursor", "ZzF8dGFnfEVVUnxu")],
        &[("group_by", "day")],
        &[("group_by", "")],
        &[("group_by", "Category")],
        &[("from", "2026-02-30")],
        &[("to", "2026-13-01")],
        &[("from", "26-01-01")],
        &[("from", "2026-1-1")],
        &[("to", "yesterday")],
        &[("from", "2026-03-01"), ("to", "2026-02-28")],
    ];
    for params in cases {
        let request = app
            .authed(reqwest::Method::GET, "/v1/reports/summary", USER)
            .query(params);
        send(request)
            .await
            .context(format!("{params:?}"))
            .problem(400);
    }
}

/// Following `next_cursor` with a small `limit` returns exactly the groups of
/// one unlimited answer, in order, each once, and the last page says none
/// follow.
#[tokio::test]
async fn summary_pages_follow_their_cursors() {
    let app = spawn_app(AppOptions::default()).await;
    let mut csv = csv_record(&["date", "amount", "currency", "merchant"]);
    let mut rows = 0;
    for i in 0..37 {
        let merchant = match i {
            0 => String::new(),
            1 => "a|b with the separator".to_owned(),
            _ => format!("Merchant {i:02}"),
        };
        for currency in ["EUR", "USD"] {
            csv.push_str(&csv_record(&["2026-02-03", "1.00", currency, &merchant]));
            rows += 1;
        }
    }
    app.import_csv_ok(USER, csv, rows).await;

    let all = app.summary(USER, &[("group_by", "merchant")]).await;
    assert_eq!(all["next_cursor"], Value::Null, "{all}");
    let all = all["groups"].as_array().unwrap().clone();
    assert_eq!(
        all.len(),
        74,
        "37 merchants (one of them none) in two currencies"
    );

    let mut paged = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut params = vec![("group_by", "merchant"), ("limit", "10")];
        if let Some(c) = &cursor {
            params.push(("cursor", c));
        }
        let page = app.summary(USER, &params).await;
        let groups = page["groups"].as_array().unwrap();
        assert!(groups.len() <= 10, "{page}");
        paged.extend(groups.iter().cloned());
        pages += 1;
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 8, "74 groups in pages of 10");
    assert_eq!(paged, all);
}

/// 10,000 expenses of the largest BHD amount: a total of about 10^19
/// minor units, beyond `i64::MAX`, in a report and in a budget.
async fn totals_beyond_i64(app: &TestApp) {
    let mut csv = csv_record(&["date", "amount", "currency", "category"]);
    for _ in 0..10_000 {
        csv.push_str(&csv_record(&[
            "2026-01-15",
            "999999999999.000",
            "BHD",
            "Big",
        ]));
    }
    app.import_csv_ok(USER, csv, 10_000).await;
    let big = category_ids(app, USER).await["Big"].clone();

    assert_eq!(
        groups(app, USER, &[]).await,
        vec![group(Some(&big), "BHD", "9999999999990000.000", 10_000)],
        "the exact total of 10000 × 999999999999.000 BHD"
    );
    assert_eq!(
        groups(app, USER, &[("group_by", "month")]).await,
        vec![group(
            Some("2026-01"),
            "BHD",
            "9999999999990000.000",
            10_000
        )],
    );
    app.put_budget(USER, &big, "999999999999", "BHD").await;
    assert_eq!(
        app.budgets(USER, Some("2026-01")).await["items"],
        json!([{
            "category_id": big,
            "amount": "999999999999.000",
            "currency": "BHD",
            "spent": "9999999999990000.000",
            "remaining": "-9998999999990001.000",
            "over": true,
        }]),
        "a budget's spent and remaining are exact beyond i64 too"
    );
}

#[tokio::test]
async fn totals_beyond_i64_are_exact_on_mariadb() {
    let app = spawn_app(AppOptions::default()).await;
    totals_beyond_i64(&app).await;
}

#[tokio::test]
async fn totals_beyond_i64_are_exact_on_sqlite() {
    let app = spawn_app(AppOptions::default().sqlite().no_cache()).await;
    totals_beyond_i64(&app).await;
}
