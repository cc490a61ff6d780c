//! `GET /v1/expenses`: every filter alone and combined, the order, page
//! sizes, `next_cursor`, a cursor walk while others write, and hostile text.

use std::collections::{BTreeSet, HashSet};

use serde_json::{json, Value};

use crate::helpers::*;

const USER: &str = "lister";

/// Creates one expense per `(label, body)`, the label as its merchant
/// unless the body has one; returns the created expenses in order.
async fn seed(app: &TestApp, rows: &[(&str, Value)]) -> Vec<Value> {
    let mut created = Vec::new();
    for (label, body) in rows {
        let body = if body.get("merchant").is_some() {
            body.clone()
        } else {
            with(body.clone(), json!({ "merchant": label }))
        };
        created.push(app.create_expense(USER, &body).await);
    }
    created
}

/// The merchants of every expense matching `params`, as a set.
async fn merchants(app: &TestApp, params: &[(&str, &str)]) -> BTreeSet<String> {
    app.list_all(USER, params)
        .await
        .iter()
        .map(|e| e["merchant"].as_str().unwrap_or("<null>").to_owned())
        .collect()
}

fn set(labels: &[&str]) -> BTreeSet<String> {
    labels.iter().map(|l| l.to_string()).collect()
}

/// Query parameters of a list request.
type Params<'a> = &'a [(&'a str, &'a str)];

/// Asserts that each query matches exactly its labels.
async fn assert_matches(app: &TestApp, cases: &[(Params<'_>, &[&str])]) {
    for (params, expected) in cases {
        assert_eq!(
            merchants(app, params).await,
            set(expected),
            "GET /v1/expenses with {params:?}"
        );
    }
}

#[tokio::test]
async fn from_and_to_are_inclusive_dates() {
    let app = spawn_app(AppOptions::default()).await;
    seed(
        &app,
        &[
            ("dec31", expense_body("1.00", "USD", "2025-12-31")),
            ("jan01", expense_body("1.00", "USD", "2026-01-01")),
            ("jan15", expense_body("1.00", "USD", "2026-01-15")),
            ("jan31", expense_body("1.00", "USD", "2026-01-31")),
            ("feb01", expense_body("1.00", "USD", "2026-02-01")),
        ],
    )
    .await;
    assert_matches(
        &app,
        &[
            (
                &[("from", "2026-01-15"), ("to", "2026-01-31")],
                &["jan15", "jan31"],
            ),
            (&[("from", "2026-01-31")], &["jan31", "feb01"]),
            (&[("to", "2026-01-01")], &["dec31", "jan01"]),
            (&[("from", "2026-01-15"), ("to", "2026-01-15")], &["jan15"]),
            (&[("from", "2026-01-16"), ("to", "2026-01-30")], &[]),
            (
                &[("from", "2026-01-01"), ("to", "2026-12-31")],
                &["jan01", "jan15", "jan31", "feb01"],
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn category_none_matches_uncategorised_and_an_unknown_category_matches_nothing() {
    let app = spawn_app(AppOptions::default()).await;
    seed(
        &app,
        &[
            ("one", expense_body("1.00", "USD", "2026-01-01")),
            (
                "two",
                with(
                    expense_body("1.00", "USD", "2026-01-02"),
                    json!({"category_id": null}),
                ),
            ),
        ],
    )
    .await;
    let unknown = unused_id();
    assert_matches(
        &app,
        &[
            (&[("category_id", "none")], &["one", "two"]),
            (&[("category_id", unknown.as_str())], &[]),
            (&[("category_id", "not-an-id")], &[]),
        ],
    )
    .await;
}

#[tokio::test]
async fn tag_matches_a_whole_tag() {
    let app = spawn_app(AppOptions::default()).await;
    seed(
        &app,
        &[
            (
                "team+travel",
                with(
                    expense_body("1.00", "USD", "2026-01-01"),
                    json!({"tags": ["team", "travel"]}),
                ),
            ),
            (
                "team",
                with(
                    expense_body("1.00", "USD", "2026-01-02"),
                    json!({"tags": ["team"]}),
                ),
            ),
            (
                "teamwork",
                with(
                    expense_body("1.00", "USD", "2026-01-03"),
                    json!({"tags": ["teamwork"]}),
                ),
            ),
            ("untagged", expense_body("1.00", "USD", "2026-01-04")),
        ],
    )
    .await;
    assert_matches(
        &app,
        &[
            (&[("tag", "team")], &["team+travel", "team"]),
            (&[("tag", "travel")], &["team+travel"]),
            (&[("tag", "teamwork")], &["teamwork"]),
            (&[("tag", "tea")], &[]),
            (&[("tag", "nope")], &[]),
        ],
    )
    .await;
}

#[tokio::test]
async fn currency_matches_one_currency() {
    let app = spawn_app(AppOptions::default()).await;
    seed(
        &app,
        &[
            ("usd", expense_body("1.00", "USD", "2026-01-01")),
            ("jpy", expense_body("100", "JPY", "2026-01-02")),
            ("eur", expense_body("1.00", "EUR", "2026-01-03")),
            ("jpy2", expense_body("5", "JPY", "2026-01-04")),
        ],
    )
    .await;
    assert_matches(
        &app,
        &[
            (&[("currency", "JPY")], &["jpy", "jpy2"]),
            (&[("currency", "EUR")], &["eur"]),
            (&[("currency", "GBP")], &[]),
        ],
    )
    .await;
}

#[tokio::test]
async fn amount_bounds_are_inclusive_and_compare_numbers_across_currencies() {
    let app = spawn_app(AppOptions::default()).await;
    seed(
        &app,
        &[
            ("12 JPY", expense_body("12", "JPY", "2026-01-01")),
            ("12.30 USD", expense_body("12.30", "USD", "2026-01-02")),
            ("12.31 EUR", expense_body("12.31", "EUR", "2026-01-03")),
            ("5 USD", expense_body("5", "USD", "2026-01-04")),
            ("100 JPY", expense_body("100", "JPY", "2026-01-05")),
            ("12.300 BHD", expense_body("12.3", "BHD", "2026-01-06")),
        ],
    )
    .await;
    assert_matches(
        &app,
        &[
            (
                &[("min_amount", "12.30")],
                &["12.30 USD", "12.31 EUR", "100 JPY", "12.300 BHD"],
            ),
            (
                &[("min_amount", "12.3")],
                &["12.30 USD", "12.31 EUR", "100 JPY", "12.300 BHD"],
            ),
            (
                &[("max_amount", "12.30")],
                &["12 JPY", "12.30 USD", "5 USD", "12.300 BHD"],
            ),
            (
                &[("min_amount", "12"), ("max_amount", "12.3")],
                &["12 JPY", "12.30 USD", "12.300 BHD"],
            ),
            (
                &[("min_amount", "12.301"), ("max_amount", "99.99")],
                &["12.31 EUR"],
            ),
            (&[("min_amount", "12"), ("max_amount", "12")], &["12 JPY"]),
            (&[("min_amount", "100.0001")], &[]),
        ],
    )
    .await;
}

#[tokio::test]
async fn q_is_a_case_insensitive_substring_of_merchant_or_description() {
    let app = spawn_app(AppOptions::default()).await;
    seed(
        &app,
        &[
            ("café de Flore", expense_body("1.00", "EUR", "2026-01-01")),
            (
                "Bakery",
                with(
                    expense_body("1.00", "EUR", "2026-01-02"),
                    json!({"description": "Lunch at CAFÉ with the team"}),
                ),
            ),
            ("Cafeteria", expense_body("1.00", "EUR", "2026-01-03")),
            ("ÉCOLE", expense_body("1.00", "EUR", "2026-01-04")),
            ("Ünïcödé Straße", expense_body("1.00", "EUR", "2026-01-05")),
        ],
    )
    .await;
    assert_matches(
        &app,
        &[
            (&[("q", "CAFÉ")], &["café de Flore", "Bakery"]),
            (&[("q", "café")], &["café de Flore", "Bakery"]),
            (&[("q", "cafe")], &["Cafeteria"]),
            (&[("q", "FLORE")], &["café de Flore"]),
            (&[("q", "lunch AT")], &["Bakery"]),
            (&[("q", "école")], &["ÉCOLE"]),
            (&[("q", "ÜNÏCÖDÉ")], &["Ünïcödé Straße"]),
            (&[("q", "straße")], &["Ünïcödé Straße"]),
            (&[("q", "nowhere")], &[]),
        ],
    )
    .await;
}

#[tokio::test]
async fn filters_combine_with_and() {
    let app = spawn_app(AppOptions::default()).await;
    let tagged = json!({"tags": ["trip"]});
    seed(
        &app,
        &[
            (
                "Hotel Lumière",
                with(expense_body("120.00", "EUR", "2026-04-10"), tagged.clone()),
            ),
            (
                "Hotel cheap",
                with(expense_body("20.00", "EUR", "2026-04-11"), tagged.clone()),
            ),
            (
                "Hotel dollars",
                with(expense_body("120.00", "USD", "2026-04-12"), tagged.clone()),
            ),
            (
                "Hotel untagged",
                expense_body("120.00", "EUR", "2026-04-13"),
            ),
            (
                "Hotel late",
                with(expense_body("120.00", "EUR", "2026-05-01"), tagged.clone()),
            ),
            (
                "Restaurant",
                with(expense_body("120.00", "EUR", "2026-04-14"), tagged.clone()),
            ),
        ],
    )
    .await;
    assert_matches(
        &app,
        &[
            (
                &[
                    ("from", "2026-04-01"),
                    ("to", "2026-04-30"),
                    ("currency", "EUR"),
                    ("tag", "trip"),
                    ("min_amount", "100"),
                    ("q", "hotel"),
                    ("category_id", "none"),
                ],
                &["Hotel Lumière"],
            ),
            (
                &[("q", "hotel"), ("tag", "trip"), ("currency", "EUR")],
                &["Hotel Lumière", "Hotel cheap", "Hotel late"],
            ),
            (&[("q", "hotel"), ("max_amount", "50")], &["Hotel cheap"]),
            (&[("q", "restaurant"), ("currency", "USD")], &[]),
        ],
    )
    .await;
}

#[tokio::test]
async fn order_is_date_descending_then_newest_created_first() {
    let app = spawn_app(AppOptions::default()).await;
    let dates = [
        "2026-06-02",
        "2026-06-01",
        "2026-06-03",
        "2026-06-02",
        "2026-06-01",
        "2026-06-03",
        "2026-06-02",
    ];
    let mut created = Vec::new();
    for (index, date) in dates.iter().enumerate() {
        let body = with(
            expense_body("1.00", "USD", date),
            json!({"merchant": format!("#{index}")}),
        );
        created.push((index, app.create_expense(USER, &body).await));
    }
    let mut expected = created.clone();
    expected
        .sort_by(|(ia, a), (ib, b)| b["date"].as_str().cmp(&a["date"].as_str()).then(ib.cmp(ia)));
    let expected: Vec<Value> = expected.into_iter().map(|(_, e)| e).collect();

    let page = app.list(USER, &[]).await;
    assert_eq!(
        page["items"],
        json!(expected),
        "items must be ordered by date descending, then newest created first, and look as GET shows them"
    );
    assert_eq!(page["next_cursor"], Value::Null);

    let walked = app.list_all(USER, &[("limit", "2")]).await;
    assert_eq!(
        json!(walked),
        json!(expected),
        "pages of 2 give the same order"
    );
}

#[tokio::test]
async fn limit_and_next_cursor() {
    let app = spawn_app(AppOptions::default()).await;
    // 51 USD expenses over March, then 2 JPY ones dated earlier, so that
    // they come last in the order.
    for i in 0..51 {
        let date = format!("2026-03-{:02}", 1 + i % 28);
        app.create_expense(USER, &expense_body("1.00", "USD", &date))
            .await;
    }
    for date in ["2026-02-01", "2026-02-02"] {
        app.create_expense(USER, &expense_body("100", "JPY", date))
            .await;
    }

    let first = app.list(USER, &[]).await;
    assert_eq!(
        first["items"].as_array().map(Vec::len),
        Some(50),
        "the default limit is 50"
    );
    let cursor = first["next_cursor"]
        .as_str()
        .expect("more items follow: a cursor");
    let rest = app.list(USER, &[("cursor", cursor)]).await;
    assert_eq!(rest["items"].as_array().map(Vec::len), Some(3));
    assert_eq!(
        rest["next_cursor"],
        Value::Null,
        "nothing follows the last page"
    );

    // (params, sizes of the pages in order): the last page's cursor is null
    // even when it is full, and only matching items count as "more".
    let cases: [(Params<'_>, &[usize]); 6] = [
        (&[("limit", "53")], &[53]),
        (&[("limit", "200")], &[53]),
        (&[("limit", "52")], &[52, 1]),
        (&[("currency", "USD"), ("limit", "51")], &[51]),
        (&[("currency", "JPY"), ("limit", "1")], &[1, 1]),
        (&[("limit", "20")], &[20, 20, 13]),
    ];
    for (params, sizes) in cases {
        let mut seen = HashSet::new();
        let mut cursor: Option<String> = None;
        for (page_number, size) in sizes.iter().enumerate() {
            let mut query = params.to_vec();
            if let Some(cursor) = &cursor {
                query.push(("cursor", cursor.as_str()));
            }
            let page = app.list(USER, &query).await;
            let items = page["items"].as_array().cloned().unwrap_or_default();
            assert_eq!(items.len(), *size, "page {page_number} of {params:?}");
            for id in ids(&items) {
                assert!(
                    seen.insert(id.clone()),
                    "{id} listed twice walking {params:?}"
                );
            }
            let last = page_number + 1 == sizes.len();
            cursor = page["next_cursor"].as_str().map(str::to_owned);
            assert_eq!(
                cursor.is_none(),
                last,
                "page {page_number} of {params:?}: next_cursor must be null exactly on the last page: {}",
                page["next_cursor"]
            );
        }
    }
}

/// A small deterministic pseudo-random sequence (64-bit LCG).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

#[tokio::test]
async fn a_cursor_walk_sees_every_surviving_expense_once_while_others_are_added_and_deleted() {
    let app = spawn_app(AppOptions::default()).await;
    let dates = [
        "2026-07-01",
        "2026-07-02",
        "2026-07-03",
        "2026-07-04",
        "2026-07-05",
    ];
    // (date index, creation index, id) of the expenses that exist before the walk.
    let mut existing = Vec::new();
    for n in 0..300 {
        let date = n % dates.len();
        let body = expense_body("3.00", "USD", dates[date]);
        existing.push((date, n, id_of(&app.create_expense(USER, &body).await)));
    }
    existing.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
    let expected_order: Vec<String> = existing.into_iter().map(|(_, _, id)| id).collect();

    let mut rng = Lcg(7);
    let mut seen: HashSet<String> = HashSet::new();
    let mut deleted: HashSet<String> = HashSet::new();
    let mut last_date = String::from("9999-12-31");
    let mut cursor: Option<String> = None;
    for page_number in 0.. {
        assert!(page_number < 200, "the walk did not end after 200 pages");
        let mut query = vec![("limit", "7")];
        if let Some(cursor) = &cursor {
            query.push(("cursor", cursor.as_str()));
        }
        let page = app.list(USER, &query).await;
        let items = page["items"].as_array().cloned().unwrap_or_default();
        assert!(
            items.len() <= 7,
            "page {page_number} has {} items for limit 7",
            items.len()
        );
        for item in &items {
            let id = id_of(item);
            assert!(
                seen.insert(id.clone()),
                "page {page_number}: {id} was already listed"
            );
            assert!(
                !deleted.contains(&id),
                "page {page_number}: {id} was deleted before this page"
            );
            let date = item["date"].as_str().unwrap_or_default().to_owned();
            assert!(
                date <= last_date,
                "page {page_number}: {date} after {last_date}: not date-descending"
            );
            last_date = date;
        }
        cursor = page["next_cursor"].as_str().map(str::to_owned);
        if cursor.is_none() {
            break;
        }

        // Between pages: one new expense at the newest date (before the
        // walk's position: an offset-based cursor would repeat an item),
        // one at a random date, and one deletion of an expense not yet
        // seen: on even pages the very next one (an offset-based cursor
        // would skip one), on odd pages a random one.
        app.create_expense(USER, &expense_body("4.00", "USD", dates[dates.len() - 1]))
            .await;
        app.create_expense(
            USER,
            &expense_body("4.00", "USD", dates[rng.below(dates.len())]),
        )
        .await;
        let unseen: Vec<&String> = expected_order
            .iter()
            .filter(|id| !seen.contains(*id) && !deleted.contains(*id))
            .collect();
        if !unseen.is_empty() {
            let victim = if page_number % 2 == 0 {
                unseen[0]
            } else {
                unseen[rng.below(unseen.len())]
            };
            app.delete(&expense_path(victim), USER, None)
                .await
                .assert_status(204);
            deleted.insert(victim.clone());
        }
    }

    assert!(
        deleted.len() > 20,
        "the walk should have deleted many expenses, deleted {}",
        deleted.len()
    );
    let missed: Vec<&String> = expected_order
        .iter()
        .filter(|id| !deleted.contains(*id) && !seen.contains(*id))
        .collect();
    assert!(
        missed.is_empty(),
        "{} expenses that existed before the walk and were never deleted were not listed: {missed:?}",
        missed.len()
    );
}

#[tokio::test]
async fn hostile_text_is_stored_and_searched_literally() {
    let app = spawn_app(AppOptions::default()).await;
    let labels = [
        "'; DROP TABLE expenses; --",
        "Robert'); DELETE FROM expenses WHERE ('1'='1",
        "100% organic",
        "snake_case_shop",
        r"back\slash",
        "pizza \u{1F355}\u{1F37A}",
        "\"quoted\" name",
        "plain shop",
    ];
    let mut rows: Vec<(&str, Value)> = labels
        .iter()
        .map(|label| {
            (
                *label,
                with(
                    expense_body("1.00", "USD", "2026-08-01"),
                    json!({"description": label}),
                ),
            )
        })
        .collect();
    // Tags may not contain ';', so only a few carry themselves as a tag.
    rows[2].1 = with(rows[2].1.clone(), json!({"tags": ["%"]}));
    rows[3].1 = with(rows[3].1.clone(), json!({"tags": ["_"]}));
    rows[4].1 = with(rows[4].1.clone(), json!({"tags": ["\\"]}));
    let created = seed(&app, &rows).await;

    for (label, expense) in labels.iter().zip(&created) {
        let fetched = app.get_expense(USER, &id_of(expense)).await;
        assert_eq!(
            (&fetched["merchant"], &fetched["description"]),
            (&json!(label), &json!(label)),
            "stored exactly"
        );
    }
    assert_matches(
        &app,
        &[
            (&[], &labels),
            (&[("q", "%")], &["100% organic"]),
            (&[("q", "_")], &["snake_case_shop"]),
            (&[("q", "\\")], &[r"back\slash"]),
            (
                &[("q", "'")],
                &[
                    "'; DROP TABLE expenses; --",
                    "Robert'); DELETE FROM expenses WHERE ('1'='1",
                ],
            ),
            (&[("q", "; DROP TABLE")], &["'; DROP TABLE expenses; --"]),
            (&[("q", "\"")], &["\"quoted\" name"]),
            (&[("q", "\u{1F355}")], &["pizza \u{1F355}\u{1F37A}"]),
            (&[("q", "%%")], &[]),
            (&[("q", "s_o")], &[]),
            (&[("q", "*")], &[]),
            (&[("tag", "%")], &["100% organic"]),
            (&[("tag", "_")], &["snake_case_shop"]),
            (&[("tag", "\\")], &[r"back\slash"]),
        ],
    )
    .await;

    // The table is still there and still works.
    app.create_expense(USER, &expense_body("2.00", "USD", "2026-08-02"))
        .await;
    assert_eq!(app.list_all(USER, &[]).await.len(), labels.len() + 1);
}
