//! Monthly budgets: what `spent` counts (that category, that month, the
//! budget's currency, the caller's expenses only), `remaining` and `over`,
//! replacing and deleting, another user's budgets, and the `month`
//! parameter.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::helpers::*;

const USER: &str = "budget-owner";
const OTHER: &str = "someone-else";

/// The items of a `GET /v1/budgets` body by category id, asserting each
/// category appears once.
fn by_category(month: &Value) -> BTreeMap<String, Value> {
    let items = month["items"]
        .as_array()
        .unwrap_or_else(|| panic!("`items` is not an array: {month}"));
    let mut map = BTreeMap::new();
    for item in items {
        let previous = map.insert(str_of(item, "category_id"), item.clone());
        assert!(previous.is_none(), "a category is listed twice: {month}");
    }
    map
}

/// A budget item as `GET /v1/budgets` must show it.
fn status(
    category_id: &str,
    amount: &str,
    currency: &str,
    spent: &str,
    remaining: &str,
    over: bool,
) -> Value {
    json!({
        "category_id": category_id,
        "amount": amount,
        "currency": currency,
        "spent": spent,
        "remaining": remaining,
        "over": over,
    })
}

/// Creates an expense of `user` in `category` (none when `None`).
async fn spend(
    app: &TestApp,
    user: &str,
    category: Option<&str>,
    amount: &str,
    currency: &str,
    date: &str,
) {
    let body = with(
        expense_body(amount, currency, date),
        json!({ "category_id": category }),
    );
    app.create_expense(user, &body).await;
}

#[tokio::test]
async fn spent_sums_only_the_categorys_expenses_of_the_month_in_the_budgets_currency() {
    let app = spawn_app(AppOptions::default()).await;
    let food = id_of(&app.create_category(USER, "Food").await);
    let travel = id_of(&app.create_category(USER, "Travel").await);
    let misc = id_of(&app.create_category(USER, "Misc").await);
    app.put_budget(USER, &food, "400", "EUR").await;
    app.put_budget(USER, &travel, "1000", "JPY").await;
    let theirs = id_of(&app.create_category(OTHER, "Food").await);
    app.put_budget(OTHER, &theirs, "10.00", "EUR").await;

    let (f, t, m) = (
        Some(food.as_str()),
        Some(travel.as_str()),
        Some(misc.as_str()),
    );
    // Counted for Food in March 2026: the first and last day of the month.
    spend(&app, USER, f, "100.10", "EUR", "2026-03-01").await;
    spend(&app, USER, f, "0.05", "EUR", "2026-03-31").await;
    // Not counted for Food in March: another currency, other months,
    // other categories, no category, another user.
    spend(&app, USER, f, "50.00", "USD", "2026-03-15").await;
    spend(&app, USER, f, "7.00", "EUR", "2026-02-28").await;
    spend(&app, USER, f, "9.00", "EUR", "2026-04-01").await;
    spend(&app, USER, f, "0.29", "EUR", "2024-02-29").await;
    spend(&app, USER, m, "44.00", "EUR", "2026-03-05").await;
    spend(&app, USER, None, "55.00", "EUR", "2026-03-05").await;
    spend(&app, OTHER, Some(&theirs), "66.00", "EUR", "2026-03-05").await;
    // Travel: an EUR expense does not count against a JPY budget.
    spend(&app, USER, t, "33.00", "EUR", "2026-03-10").await;
    spend(&app, USER, t, "1500", "JPY", "2026-03-20").await;

    let march = app.budgets(USER, Some("2026-03")).await;
    assert_eq!(march["month"], "2026-03", "the month is echoed: {march}");
    assert_eq!(
        by_category(&march),
        BTreeMap::from([
            (
                food.clone(),
                status(&food, "400.00", "EUR", "100.15", "299.85", false)
            ),
            (
                travel.clone(),
                status(&travel, "1000", "JPY", "1500", "-500", true)
            ),
        ]),
        "March 2026: one item per budget, nothing for a category without one"
    );

    let february = app.budgets(USER, Some("2026-02")).await;
    assert_eq!(february["month"], "2026-02");
    assert_eq!(
        by_category(&february),
        BTreeMap::from([
            (
                food.clone(),
                status(&food, "400.00", "EUR", "7.00", "393.00", false)
            ),
            (
                travel.clone(),
                status(&travel, "1000", "JPY", "0", "1000", false)
            ),
        ]),
        "February 2026: a month without expenses has spent 0"
    );

    let leap = app.budgets(USER, Some("2024-02")).await;
    assert_eq!(
        by_category(&leap)[&food],
        status(&food, "400.00", "EUR", "0.29", "399.71", false),
        "29 February belongs to February"
    );

    let others = app.budgets(OTHER, Some("2026-03")).await;
    assert_eq!(
        by_category(&others),
        BTreeMap::from([(
            theirs.clone(),
            status(&theirs, "10.00", "EUR", "66.00", "-56.00", true)
        )]),
        "another user sees only their own budget and spending"
    );
}

#[tokio::test]
async fn remaining_goes_negative_and_over_means_strictly_more_than_the_amount() {
    let app = spawn_app(AppOptions::default()).await;
    let food = id_of(&app.create_category(USER, "Food").await);
    app.put_budget(USER, &food, "10.00", "USD").await;
    let steps = [
        ("9.99", "9.99", "0.01", false),
        ("0.01", "10.00", "0.00", false),
        ("0.01", "10.01", "-0.01", true),
        ("100", "110.01", "-100.01", true),
    ];
    for (amount, spent, remaining, over) in steps {
        spend(&app, USER, Some(&food), amount, "USD", "2026-06-15").await;
        let june = app.budgets(USER, Some("2026-06")).await;
        assert_eq!(
            by_category(&june)[&food],
            status(&food, "10.00", "USD", spent, remaining, over),
            "after spending {amount} more: {june}"
        );
    }
}

#[tokio::test]
async fn put_creates_then_replaces_and_delete_removes_the_budget() {
    let app = spawn_app(AppOptions::default()).await;
    let food = id_of(&app.create_category(USER, "Food").await);
    let path = budget_path(&food);

    let first = app.put_budget(USER, &food, "400", "EUR").await;
    assert_eq!(
        first,
        json!({
            "category_id": food,
            "amount": "400.00",
            "currency": "EUR",
            "created_at": first["created_at"],
            "updated_at": first["updated_at"],
        }),
        "PUT answers the budget with its amount printed in minor units"
    );
    assert_utc_timestamp(&first["created_at"], "created_at");
    assert_utc_timestamp(&first["updated_at"], "updated_at");

    let second = app.put_budget(USER, &food, "250.5", "USD").await;
    assert_eq!(
        (
            &second["category_id"],
            &second["amount"],
            &second["currency"]
        ),
        (&json!(food), &json!("250.50"), &json!("USD")),
        "the second PUT replaces amount and currency: {second}"
    );
    spend(&app, USER, Some(&food), "1.00", "USD", "2026-08-01").await;
    let august = app.budgets(USER, Some("2026-08")).await;
    assert_eq!(
        by_category(&august),
        BTreeMap::from([(
            food.clone(),
            status(&food, "250.50", "USD", "1.00", "249.50", false)
        )]),
        "one budget per category, the last PUT wins"
    );

    for (body, field) in [
        (json!({"amount": 400, "currency": "EUR"}), "amount"),
        (json!({"amount": "1.001", "currency": "EUR"}), "amount"),
        (json!({"amount": "0", "currency": "EUR"}), "amount"),
        (json!({"amount": "-1", "currency": "EUR"}), "amount"),
        (json!({"amount": "1", "currency": "XAU"}), "currency"),
        (json!({"amount": "1", "currency": "eur"}), "currency"),
        (json!({"amount": "1"}), "currency"),
        (json!({"currency": "EUR"}), "amount"),
        (
            json!({"amount": "1", "currency": "EUR", "limit": "2"}),
            "limit",
        ),
        (
            json!({"amount": "1", "currency": "EUR", "category_id": food}),
            "category_id",
        ),
    ] {
        app.put_json(&path, USER, &body)
            .await
            .context(&body)
            .assert_invalid(&[field]);
    }
    app.send_body(
        reqwest::Method::PUT,
        &path,
        USER,
        Some("text/plain"),
        json!({"amount": "1", "currency": "EUR"}).to_string(),
    )
    .await
    .problem(415);
    assert_eq!(
        by_category(&app.budgets(USER, Some("2026-08")).await)[&food]["amount"],
        "250.50",
        "rejected PUTs change nothing"
    );

    let body = json!({"amount": "1", "currency": "EUR"});
    for missing in [unused_id(), "not-an-id".to_owned()] {
        app.put_json(&budget_path(&missing), USER, &body)
            .await
            .context("a budget for a category that does not exist")
            .problem(404);
    }

    let deleted = app.delete(&path, USER, None).await;
    deleted.assert_status(204);
    assert!(
        deleted.body.is_empty(),
        "a 204 has no body: {:?}",
        deleted.body
    );
    app.delete(&path, USER, None)
        .await
        .context("deleting it again")
        .problem(404);
    assert_eq!(
        app.budgets(USER, Some("2026-08")).await,
        json!({"month": "2026-08", "items": []}),
        "a deleted budget is not listed"
    );
    app.get(&category_path(&food), USER)
        .await
        .context("deleting the budget keeps the category")
        .expect_json(200);
}

#[tokio::test]
async fn another_users_budget_answers_404() {
    let app = spawn_app(AppOptions::default()).await;
    let theirs = id_of(&app.create_category(OTHER, "Food").await);
    let budget = app.put_budget(OTHER, &theirs, "50.00", "EUR").await;
    let path = budget_path(&theirs);
    app.put_json(&path, USER, &json!({"amount": "1.00", "currency": "EUR"}))
        .await
        .context("a budget on another user's category")
        .problem(404);
    app.delete(&path, USER, None)
        .await
        .context("another user's budget")
        .problem(404);
    assert_eq!(
        app.budgets(USER, Some("2026-01")).await["items"],
        json!([]),
        "another user's budget is never listed"
    );
    assert_eq!(
        by_category(&app.budgets(OTHER, Some("2026-01")).await)[&theirs],
        status(&theirs, "50.00", "EUR", "0.00", "50.00", false),
        "the owner's budget is unchanged: {budget}"
    );
}

#[tokio::test]
async fn the_default_month_is_the_current_utc_month() {
    let app = spawn_app(AppOptions::default()).await;
    let food = id_of(&app.create_category(USER, "Food").await);
    app.put_budget(USER, &food, "100.00", "EUR").await;
    let today = time::OffsetDateTime::now_utc().date();
    spend(&app, USER, Some(&food), "12.34", "EUR", &today.to_string()).await;

    let before = today.to_string()[..7].to_owned();
    let current = app.budgets(USER, None).await;
    let after = time::OffsetDateTime::now_utc().date().to_string()[..7].to_owned();
    assert!(
        current["month"] == before.as_str() || current["month"] == after.as_str(),
        "without `month` the current UTC month ({before}) is shown: {current}"
    );
    if before == after {
        assert_eq!(
            by_category(&current)[&food],
            status(&food, "100.00", "EUR", "12.34", "87.66", false),
            "today's expense counts in the default month"
        );
        assert_eq!(
            app.budgets(USER, Some(&before)).await,
            current,
            "the default month is the same as naming it"
        );
    }
}

#[tokio::test]
async fn a_malformed_month_is_400() {
    let app = spawn_app(AppOptions::default()).await;
    for month in [
        "2026-13",
        "2026-00",
        "2026-1",
        "26-01",
        "2026-01-01",
        "2026/01",
        "202601",
        "",
        "March",
        "+2026-01",
    ] {
        let request = app
            .authed(reqwest::Method::GET, "/v1/budgets", USER)
            .query(&[("month", month)]);
        send(request)
            .await
            .context(format!("month={month:?}"))
            .problem(400);
    }
}

/// As on every list and report: each parameter at most once, and no
/// unknown ones, each named in `errors`.
#[tokio::test]
async fn a_repeated_or_unknown_parameter_is_400_naming_it() {
    let app = spawn_app(AppOptions::default().sqlite().no_cache()).await;
    for (query, field) in [
        ("month=2026-01&month=2026-02", "month"),
        ("mnth=2026-01", "mnth"),
    ] {
        let problem = app
            .get(&format!("/v1/budgets?{query}"), USER)
            .await
            .context(query.to_owned())
            .problem(400);
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("{query}: no errors in {problem}"))
            .iter()
            .filter_map(|e| e["field"].as_str())
            .collect();
        assert_eq!(fields, [field], "{query}: {problem}");
    }
}
