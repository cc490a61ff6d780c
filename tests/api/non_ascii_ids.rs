//! A `category_id` that is not the shape of a server-made id, in a body or
//! in the list filter, found by Schemathesis: on MySQL/MariaDB a non-ASCII
//! one could not even be compared with the ASCII id column ("Illegal mix of
//! collations"), and the request answered 500. A body naming it is 422 like
//! any unknown category; a filter naming it matches nothing.

use serde_json::{json, Value};

use crate::helpers::*;

const USER: &str = "non-ascii-ids";
const NOT_IDS: [&str; 4] = ["é", "日本", "f\u{7}\u{d7}H\u{df}", "schemathesis"];

#[tokio::test]
async fn a_body_naming_a_category_id_that_is_no_id_is_422() {
    let app = spawn_app(AppOptions::default()).await;
    let created = app
        .create_expense(USER, &expense_body("12.30", "USD", "2026-11-28"))
        .await;
    let path = expense_path(&id_of(&created));
    for category in NOT_IDS {
        app.post_json(
            "/v1/expenses",
            USER,
            &with(
                expense_body("1", "EUR", "2026-01-01"),
                json!({ "category_id": category }),
            ),
        )
        .await
        .context(format!("create with category_id {category:?}"))
        .assert_invalid(&["category_id"]);
        app.patch(&path, USER, &json!({ "category_id": category }), None)
            .await
            .context(format!("patch with category_id {category:?}"))
            .assert_invalid(&["category_id"]);
    }
    assert_eq!(
        app.get_expense(USER, &id_of(&created)).await,
        created,
        "nothing changed"
    );
}

#[tokio::test]
async fn a_filter_naming_a_category_id_that_is_no_id_matches_nothing() {
    let app = spawn_app(AppOptions::default()).await;
    app.create_expense(USER, &expense_body("12.30", "USD", "2026-11-28"))
        .await;
    for category in NOT_IDS {
        let page = app.list(USER, &[("category_id", category)]).await;
        assert_eq!(
            page,
            json!({"items": [], "next_cursor": null}),
            "category_id={category:?}"
        );
        let export = send(
            app.authed(reqwest::Method::GET, "/v1/expenses/export", USER)
                .query(&[("category_id", category)]),
        )
        .await;
        export.assert_status(200);
        assert_eq!(
            export.body.lines().count(),
            1,
            "the export of category_id={category:?} is the header row alone: {:?}",
            export.body
        );
    }
    let everything: Vec<Value> = app.list_all(USER, &[]).await;
    assert_eq!(everything.len(), 1, "the filter hid nothing else");
}
