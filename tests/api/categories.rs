//! Categories: create, read, merge-patch and delete; names unique per user
//! ignoring case (409); the list's order; what deleting one does to its
//! expenses and budget; expenses may only name the caller's categories;
//! another user's category answers 404; the `category_id` list filter.

use serde_json::{json, Value};

use crate::helpers::*;

const USER: &str = "category-owner";
const OTHER: &str = "someone-else";

/// The names of `GET /v1/categories`, in order.
async fn names(app: &TestApp, user: &str) -> Vec<String> {
    app.categories(user)
        .await
        .iter()
        .map(|c| str_of(c, "name"))
        .collect()
}

#[tokio::test]
async fn a_category_is_created_read_patched_and_deleted() {
    let app = spawn_app(AppOptions::default()).await;
    let resp = app
        .post_json(
            "/v1/categories",
            USER,
            &json!({"name": "  Groceries \t", "color": "#A1b2C3"}),
        )
        .await;
    let created = resp.expect_json(201);
    let id = id_of(&created);
    assert_eq!(
        resp.header("location"),
        Some(category_path(&id).as_str()),
        "Location must name the new category"
    );
    assert_eq!(
        created,
        json!({
            "id": id,
            "name": "Groceries",
            "color": "#a1b2c3",
            "created_at": created["created_at"],
            "updated_at": created["updated_at"],
        }),
        "the name is trimmed and the colour lower-cased"
    );
    assert_utc_timestamp(&created["created_at"], "created_at");
    assert_utc_timestamp(&created["updated_at"], "updated_at");
    let path = category_path(&id);
    assert_eq!(
        app.get(&path, USER).await.expect_json(200),
        created,
        "GET returns what POST returned"
    );
    assert_eq!(app.categories(USER).await, vec![created.clone()]);

    // Merge patch: absent members are kept, `color: null` clears.
    let recoloured = app
        .patch(&path, USER, &json!({"color": "#00FF00"}), None)
        .await
        .expect_json(200);
    assert_eq!(
        (&recoloured["name"], &recoloured["color"]),
        (&json!("Groceries"), &json!("#00ff00")),
        "a patch of the colour keeps the name: {recoloured}"
    );
    let renamed = app
        .patch_as(
            JSON,
            &path,
            USER,
            &json!({"name": " Food ", "color": null}),
            None,
        )
        .await
        .expect_json(200);
    assert_eq!(
        renamed,
        with(
            created.clone(),
            json!({"name": "Food", "color": null, "updated_at": renamed["updated_at"]})
        ),
        "a patch changes only name and colour"
    );
    assert!(
        renamed["updated_at"].as_str() >= created["updated_at"].as_str(),
        "updated_at must not go back in time: {renamed}"
    );
    assert_eq!(app.get(&path, USER).await.expect_json(200), renamed);
    assert_eq!(app.categories(USER).await, vec![renamed]);

    let deleted = app.delete(&path, USER, None).await;
    deleted.assert_status(204);
    assert!(
        deleted.body.is_empty(),
        "a 204 has no body: {:?}",
        deleted.body
    );
    app.get(&path, USER).await.problem(404);
    app.patch(&path, USER, &json!({"name": "Again"}), None)
        .await
        .problem(404);
    app.delete(&path, USER, None).await.problem(404);
    assert!(
        app.categories(USER).await.is_empty(),
        "a deleted category is not listed"
    );
}

#[tokio::test]
async fn invalid_category_bodies_are_422_naming_the_field() {
    let app = spawn_app(AppOptions::default()).await;
    let longest = "ß".repeat(100);
    let accepted = app.create_category(USER, &format!(" {longest} ")).await;
    assert_eq!(
        accepted["name"], longest,
        "100 code points are a valid name"
    );
    let cases = [
        (json!({}), "name"),
        (json!({"name": ""}), "name"),
        (json!({"name": " \u{3000}\n"}), "name"),
        (json!({"name": "é".repeat(101)}), "name"),
        (json!({"name": 7}), "name"),
        (json!({"name": null}), "name"),
        (json!({"name": "a\u{0}b"}), "name"),
        (json!({"name": "Ok", "color": "red"}), "color"),
        (json!({"name": "Ok", "color": "#12345"}), "color"),
        (json!({"name": "Ok", "color": "#1234567"}), "color"),
        (json!({"name": "Ok", "color": "#12345g"}), "color"),
        (json!({"name": "Ok", "color": 255}), "color"),
        (json!({"name": "Ok", "colour": "#123456"}), "colour"),
        (json!({"name": "Ok", "id": unused_id()}), "id"),
        (
            json!({"name": "Ok", "created_at": "2026-01-01T00:00:00Z"}),
            "created_at",
        ),
        (
            json!({"name": "Ok", "updated_at": "2026-01-01T00:00:00Z"}),
            "updated_at",
        ),
    ];
    for (body, field) in &cases {
        app.post_json("/v1/categories", USER, body)
            .await
            .context(body)
            .assert_invalid(&[field]);
    }
    let post = |content_type: &'static str, body: &'static str| {
        app.send_body(
            reqwest::Method::POST,
            "/v1/categories",
            USER,
            Some(content_type),
            body,
        )
    };
    post(JSON, "[\"Food\"]")
        .await
        .context("a JSON array")
        .problem(422);
    post(JSON, "{\"name\": ")
        .await
        .context("not JSON")
        .problem(400);
    post("text/plain", "{\"name\": \"Food\"}")
        .await
        .context("not a JSON content type")
        .problem(415);
    let path = category_path(&id_of(&accepted));
    for (body, field) in [
        (json!({"name": null}), "name"),
        (json!({"name": ""}), "name"),
        (json!({"color": "#abc"}), "color"),
        (json!({"id": unused_id()}), "id"),
        (json!({"updated_at": "2026-01-01T00:00:00Z"}), "updated_at"),
    ] {
        app.patch(&path, USER, &body, None)
            .await
            .context(&body)
            .assert_invalid(&[field]);
    }
    assert_eq!(
        app.categories(USER).await,
        vec![accepted],
        "rejected bodies create and change nothing"
    );
}

#[tokio::test]
async fn a_duplicate_name_ignoring_case_is_409() {
    let app = spawn_app(AppOptions::default()).await;
    app.create_category(USER, "Food").await;
    app.create_category(USER, "ÉCOLE").await;
    for duplicate in ["Food", "FOOD", "food", "  fOOd  ", "école", "École"] {
        app.post_json("/v1/categories", USER, &json!({ "name": duplicate }))
            .await
            .context(format!("{duplicate:?} after \"Food\" and \"ÉCOLE\""))
            .problem(409);
    }
    // lower("STRASSE") is "strasse", not "straße": two different names.
    app.create_category(USER, "straße").await;
    app.create_category(USER, "STRASSE").await;
    // Names are unique per user, not across users.
    app.create_category(OTHER, "food").await;
    assert_eq!(
        names(&app, USER).await,
        vec!["Food", "STRASSE", "straße", "ÉCOLE"],
        "a 409 creates nothing; sorted by lower-cased name"
    );
}

#[tokio::test]
async fn the_list_is_sorted_by_lower_cased_name_then_code_point() {
    let app = spawn_app(AppOptions::default()).await;
    // Plain code-point order of these names would be Apple, Zebra, _misc,
    // banana, …; a collation would put Äpfel after Apple and _misc first.
    let created = [
        "😀 Fun", "banana", "Zebra", "éclair", "_misc", "Ｚ", "Apple", "cherry", "Äpfel",
    ];
    for name in created {
        app.create_category(USER, name).await;
    }
    assert_eq!(
        names(&app, USER).await,
        vec!["_misc", "Apple", "banana", "cherry", "Zebra", "Äpfel", "éclair", "Ｚ", "😀 Fun"],
        "sorted by the lower-cased name in code point order (not UTF-16, not a collation)"
    );
}

/// A prefix sorts first in code point order, whatever follows it; a PAD
/// SPACE collation compares "a" as "a " and puts "a\tb" first.
async fn list_order_below_the_space(app: &TestApp) {
    for name in ["a\tb", "a", "a\u{1}", "a b"] {
        app.create_category(USER, name).await;
    }
    assert_eq!(
        names(app, USER).await,
        vec!["a", "a\u{1}", "a\tb", "a b"],
        "sorted by code point: a name before every longer name it starts"
    );
}

#[tokio::test]
async fn the_list_order_compares_code_points_below_the_space_on_mariadb() {
    list_order_below_the_space(&spawn_app(AppOptions::default()).await).await;
}

#[tokio::test]
async fn the_list_order_compares_code_points_below_the_space_on_sqlite() {
    list_order_below_the_space(&spawn_app(AppOptions::default().sqlite().no_cache()).await).await;
}

#[tokio::test]
async fn concurrent_creates_of_one_name_make_one_category() {
    let app = spawn_app(AppOptions::default()).await;
    let tasks: Vec<_> = ["food", "FOOD", "Food", "fOOD", "FoOd", "fooD"]
        .into_iter()
        .map(|name| {
            let request = app
                .authed(reqwest::Method::POST, "/v1/categories", USER)
                .header("content-type", JSON)
                .body(json!({ "name": name }).to_string());
            tokio::spawn(send(request))
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.expect("a request task panicked").status);
    }
    statuses.sort();
    assert_eq!(
        statuses,
        vec![201, 409, 409, 409, 409, 409],
        "exactly one of six concurrent creates of one name (ignoring case) succeeds"
    );
    assert_eq!(app.categories(USER).await.len(), 1);
}

#[tokio::test]
async fn renaming_onto_another_categorys_name_ignoring_case_is_409() {
    let app = spawn_app(AppOptions::default()).await;
    app.create_category(USER, "Food").await;
    let travel = app.create_category(USER, "Travel").await;
    let path = category_path(&id_of(&travel));
    for name in ["Food", "FOOD", " food "] {
        app.patch(&path, USER, &json!({ "name": name }), None)
            .await
            .context(format!("renaming Travel to {name:?}"))
            .problem(409);
    }
    assert_eq!(
        app.get(&path, USER).await.expect_json(200),
        travel,
        "a 409 changes nothing"
    );
    // A category may change the case of its own name.
    let recased = app
        .patch(&path, USER, &json!({"name": "TRAVEL"}), None)
        .await
        .expect_json(200);
    assert_eq!(recased["name"], "TRAVEL");
    assert_eq!(names(&app, USER).await, vec!["Food", "TRAVEL"]);
}

#[tokio::test]
async fn deleting_a_category_uncategorises_its_expenses_and_removes_its_budget() {
    let app = spawn_app(AppOptions::default()).await;
    let food = id_of(&app.create_category(USER, "Food").await);
    let travel = id_of(&app.create_category(USER, "Travel").await);
    let in_category = |category: &str| {
        with(
            expense_body("10.00", "EUR", "2026-05-10"),
            json!({ "category_id": category }),
        )
    };
    let lunch = app.create_expense(USER, &in_category(&food)).await;
    let dinner = app.create_expense(USER, &in_category(&food)).await;
    let train = app.create_expense(USER, &in_category(&travel)).await;
    app.put_budget(USER, &food, "100.00", "EUR").await;
    app.put_budget(USER, &travel, "200.00", "EUR").await;
    // Read everything once, so that stale cached reads would show.
    assert_eq!(app.get_expense(USER, &id_of(&lunch)).await, lunch);
    assert_eq!(
        app.budgets(USER, Some("2026-05")).await["items"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    assert_eq!(
        app.list_all(USER, &[("category_id", "none")]).await,
        Vec::<Value>::new()
    );

    app.delete(&category_path(&food), USER, None)
        .await
        .assert_status(204);

    for before in [&lunch, &dinner] {
        let fetched = app.get(&expense_path(&id_of(before)), USER).await;
        assert_eq!(
            fetched.header("etag"),
            Some(etag(2).as_str()),
            "{}: the new version is the ETag",
            fetched.what
        );
        let after = fetched.expect_json(200);
        assert_eq!(
            after,
            with(
                before.clone(),
                json!({"category_id": null, "version": 2, "updated_at": after["updated_at"]})
            ),
            "the expense of a deleted category is uncategorised and its version goes up"
        );
        assert_utc_timestamp(&after["updated_at"], "updated_at");
        assert!(
            after["updated_at"].as_str() >= before["updated_at"].as_str(),
            "updated_at must not go back in time: {after}"
        );
    }
    assert_eq!(
        app.get_expense(USER, &id_of(&train)).await,
        train,
        "another category's expense is untouched"
    );
    let mut uncategorised = ids(&app.list_all(USER, &[("category_id", "none")]).await);
    uncategorised.sort();
    let mut expected = vec![id_of(&lunch), id_of(&dinner)];
    expected.sort();
    assert_eq!(uncategorised, expected, "category_id=none lists them now");
    assert_eq!(
        app.list_all(USER, &[("category_id", &food)]).await,
        Vec::<Value>::new(),
        "nothing is listed under the deleted category"
    );

    let month = app.budgets(USER, Some("2026-05")).await;
    let budgeted: Vec<String> = month["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|b| str_of(b, "category_id"))
        .collect();
    assert_eq!(
        budgeted,
        vec![travel],
        "the deleted category's budget is gone: {month}"
    );
    app.delete(&budget_path(&food), USER, None)
        .await
        .context("the budget of a deleted category")
        .problem(404);
}

#[tokio::test]
async fn an_expense_cannot_name_another_users_category() {
    let app = spawn_app(AppOptions::default()).await;
    let theirs = id_of(&app.create_category(OTHER, "Food").await);
    let body = with(
        expense_body("5.00", "USD", "2026-01-01"),
        json!({ "category_id": theirs }),
    );
    app.post_json("/v1/expenses", USER, &body)
        .await
        .assert_invalid(&["category_id"]);
    let mine = app
        .create_expense(USER, &expense_body("5.00", "USD", "2026-01-01"))
        .await;
    let path = expense_path(&id_of(&mine));
    for category in [theirs.clone(), unused_id()] {
        app.patch(&path, USER, &json!({ "category_id": category }), None)
            .await
            .context("patching in a category that is not the caller's")
            .assert_invalid(&["category_id"]);
    }
    assert_eq!(
        app.list_all(USER, &[]).await,
        vec![mine],
        "rejected writes change nothing"
    );
    // The owner can use it.
    let created = app.create_expense(OTHER, &body).await;
    assert_eq!(created["category_id"], Value::String(theirs));
}

#[tokio::test]
async fn another_users_category_answers_404() {
    let app = spawn_app(AppOptions::default()).await;
    let theirs = app.create_category(OTHER, "Private").await;
    let path = category_path(&id_of(&theirs));
    app.get(&path, USER).await.problem(404);
    app.patch(&path, USER, &json!({"name": "Hijacked"}), None)
        .await
        .problem(404);
    app.delete(&path, USER, None).await.problem(404);
    assert!(
        app.categories(USER).await.is_empty(),
        "another user's category is never listed"
    );
    assert_eq!(
        app.get(&path, OTHER).await.expect_json(200),
        theirs,
        "the owner's category is unchanged"
    );
    // Unknown ids of any shape answer the same.
    for missing in [unused_id(), "not-an-id".to_owned()] {
        app.get(&category_path(&missing), USER).await.problem(404);
    }
}

#[tokio::test]
async fn the_list_filters_by_category_id_and_by_none() {
    let app = spawn_app(AppOptions::default()).await;
    let food = id_of(&app.create_category(USER, "Food").await);
    let travel = id_of(&app.create_category(USER, "Travel").await);
    let theirs = id_of(&app.create_category(OTHER, "Food").await);
    let mut made = Vec::new();
    for (day, category) in [
        (1, Some(&food)),
        (2, None),
        (3, Some(&travel)),
        (4, Some(&food)),
        (5, None),
    ] {
        let mut body = expense_body("1.00", "EUR", &format!("2026-07-0{day}"));
        if let Some(category) = category {
            body = with(body, json!({ "category_id": category }));
        }
        made.push(id_of(&app.create_expense(USER, &body).await));
    }
    app.create_expense(
        OTHER,
        &with(
            expense_body("1.00", "EUR", "2026-07-01"),
            json!({ "category_id": theirs }),
        ),
    )
    .await;
    // Newest date first.
    let expected = [
        (food.as_str(), vec![&made[3], &made[0]]),
        (travel.as_str(), vec![&made[2]]),
        ("none", vec![&made[4], &made[1]]),
        (theirs.as_str(), vec![]),
    ];
    for (filter, want) in expected {
        let got = ids(&app.list_all(USER, &[("category_id", filter)]).await);
        let want: Vec<String> = want.into_iter().cloned().collect();
        assert_eq!(got, want, "category_id={filter}");
    }
    let missing = unused_id();
    assert_eq!(
        app.list_all(USER, &[("category_id", &missing)]).await,
        Vec::<Value>::new(),
        "an unknown category id matches nothing"
    );
}

/// `sub` is compared exactly: "owner  " is not "owner".
async fn padded_sub_is_another_user(app: &TestApp) {
    let padded = format!("{USER}  ");
    let mine = app.create_category(USER, "Food").await;
    assert!(
        app.categories(&padded).await.is_empty(),
        "the user {padded:?} must not see the categories of {USER:?}"
    );
    app.get(&category_path(&id_of(&mine)), &padded)
        .await
        .problem(404);
    app.create_category(&padded, "Food").await;
    assert_eq!(app.categories(USER).await, vec![mine]);
}

#[tokio::test]
async fn a_sub_that_differs_only_by_trailing_spaces_is_another_user_on_mariadb() {
    padded_sub_is_another_user(&spawn_app(AppOptions::default()).await).await;
}

#[tokio::test]
async fn a_sub_that_differs_only_by_trailing_spaces_is_another_user_on_sqlite() {
    padded_sub_is_another_user(&spawn_app(AppOptions::default().sqlite().no_cache()).await).await;
}
