//! One expense's life: create (201, Location, ETag, normalised body), read,
//! JSON merge patch with and without `If-Match`, delete.

use serde_json::{json, Value};

use crate::helpers::*;

const USER: &str = "expense-owner";

/// Creates, reads, patches and deletes one expense, checking each answer.
async fn round_trip(app: &TestApp) {
    let created = app
        .create_expense(
            USER,
            &with(
                expense_body("9.5", "EUR", "2026-02-03"),
                json!({"merchant": "Kiosk"}),
            ),
        )
        .await;
    let id = id_of(&created);
    assert_eq!(
        created["amount"], "9.50",
        "amount is printed with the minor-unit digits"
    );
    assert_eq!(
        app.get_expense(USER, &id).await,
        created,
        "GET returns what POST returned"
    );

    let patched = app
        .patch(
            &expense_path(&id),
            USER,
            &json!({"merchant": null, "tags": ["x"]}),
            None,
        )
        .await
        .expect_json(200);
    assert_eq!(patched["merchant"], Value::Null);
    assert_eq!(patched["tags"], json!(["x"]));
    assert_eq!(patched["version"], 2);
    assert_eq!(
        app.get_expense(USER, &id).await,
        patched,
        "GET returns the patched expense"
    );

    app.delete(&expense_path(&id), USER, None)
        .await
        .assert_status(204);
    app.get(&expense_path(&id), USER).await.problem(404);
}

#[tokio::test]
async fn round_trip_on_mariadb() {
    let app = spawn_app(AppOptions::default()).await;
    round_trip(&app).await;
}

#[tokio::test]
async fn round_trip_on_sqlite() {
    let app = spawn_app(AppOptions::default().sqlite().no_cache()).await;
    round_trip(&app).await;
}

#[tokio::test]
async fn create_answers_201_with_location_etag_and_the_normalised_expense() {
    let app = spawn_app(AppOptions::default()).await;
    let body = json!({
        "amount": "12.3",
        "currency": "USD",
        "date": "2026-11-28",
        "merchant": "  Café Central \t",
        "description": " \n\u{3000} ",
        "tags": ["team", " lunch ", "team", "lunch"],
    });
    let resp = app.post_json("/v1/expenses", USER, &body).await;
    let created = resp.expect_json(201);
    let id = id_of(&created);
    assert!(!id.is_empty(), "the id must not be empty");
    assert_eq!(
        resp.header("location"),
        Some(expense_path(&id).as_str()),
        "Location must name the new expense"
    );
    assert_eq!(
        resp.header("etag"),
        Some(etag(1).as_str()),
        "a new expense has ETag \"1\""
    );
    assert_eq!(
        created,
        json!({
            "id": id,
            "amount": "12.30",
            "currency": "USD",
            "date": "2026-11-28",
            "category_id": null,
            "merchant": "Café Central",
            "description": null,
            "tags": ["team", "lunch"],
            "version": 1,
            "created_at": created["created_at"],
            "updated_at": created["updated_at"],
            "created_by": USER,
            "updated_by": USER,
        }),
        "the created expense: amount normalised, text trimmed, blank text null, tags deduplicated in order"
    );
    assert_utc_timestamp(&created["created_at"], "created_at");
    assert_utc_timestamp(&created["updated_at"], "updated_at");

    let fetched = app.get(&expense_path(&id), USER).await;
    assert_eq!(
        fetched.expect_json(200),
        created,
        "GET returns what POST returned"
    );
    assert_eq!(
        fetched.header("etag"),
        Some(etag(1).as_str()),
        "GET carries the ETag"
    );
}

#[tokio::test]
async fn amounts_are_printed_with_exactly_the_minor_unit_digits() {
    let app = spawn_app(AppOptions::default()).await;
    let cases = [
        ("12.3", "USD", "12.30"),
        ("12.30", "USD", "12.30"),
        ("012.50", "USD", "12.50"),
        ("7", "USD", "7.00"),
        ("0.01", "USD", "0.01"),
        ("999999999999", "USD", "999999999999.00"),
        ("999999999999.00", "USD", "999999999999.00"),
        ("1500", "JPY", "1500"),
        ("1.5", "BHD", "1.500"),
        ("7", "BHD", "7.000"),
        ("1.2345", "CLF", "1.2345"),
    ];
    for (amount, currency, printed) in cases {
        let created = app
            .create_expense(USER, &expense_body(amount, currency, "2026-01-01"))
            .await;
        assert_eq!(
            (created["amount"].as_str(), created["currency"].as_str()),
            (Some(printed), Some(currency)),
            "{amount} {currency} must be printed as {printed}"
        );
        let fetched = app.get_expense(USER, &id_of(&created)).await;
        assert_eq!(
            fetched["amount"], printed,
            "{amount} {currency} must read back as {printed}"
        );
    }
}

#[tokio::test]
async fn optional_fields_default_and_text_is_kept_exactly() {
    let app = spawn_app(AppOptions::default()).await;
    let bare = app
        .create_expense(USER, &expense_body("1.00", "USD", "2026-01-01"))
        .await;
    assert_eq!(
        (
            &bare["category_id"],
            &bare["merchant"],
            &bare["description"],
            &bare["tags"]
        ),
        (&Value::Null, &Value::Null, &Value::Null, &json!([])),
        "absent optional fields are null, tags []"
    );

    let nulls = app
        .create_expense(
            USER,
            &with(
                expense_body("1.00", "USD", "2026-01-01"),
                json!({"category_id": null, "merchant": "   ", "description": null, "tags": null}),
            ),
        )
        .await;
    assert_eq!(nulls["tags"], json!([]), "\"tags\": null means []");
    assert_eq!(
        nulls["merchant"],
        Value::Null,
        "blank merchant is stored as null"
    );

    // No Unicode normalisation: a decomposed é stays decomposed.
    let decomposed = "Cafe\u{301} \u{1F355} \"q\" 'a' \\ % _";
    let exact = app
        .create_expense(
            USER,
            &with(
                expense_body("1.00", "USD", "2026-01-01"),
                json!({"merchant": decomposed, "description": decomposed}),
            ),
        )
        .await;
    let fetched = app.get_expense(USER, &id_of(&exact)).await;
    assert_eq!(
        fetched["merchant"], decomposed,
        "text is stored exactly as sent"
    );
    assert_eq!(
        fetched["description"], decomposed,
        "text is stored exactly as sent"
    );
}

#[tokio::test]
async fn text_at_the_length_limits_is_accepted() {
    let app = spawn_app(AppOptions::default()).await;
    let merchant = "\u{1F4B8}".repeat(200);
    let description = "é".repeat(2000);
    let tags: Vec<String> = (0..20)
        .map(|i| format!("{i:02}{}", "t".repeat(48)))
        .collect();
    let mut with_duplicates = tags.clone();
    with_duplicates.push(tags[0].clone());
    let created = app
        .create_expense(
            USER,
            &with(
                expense_body("1.00", "USD", "2026-01-01"),
                json!({
                    "merchant": format!("  {merchant}  "),
                    "description": description,
                    "tags": with_duplicates,
                }),
            ),
        )
        .await;
    assert_eq!(
        created["merchant"], merchant,
        "200 emoji (after trimming) are a valid merchant"
    );
    assert_eq!(
        created["description"], description,
        "2000 code points are a valid description"
    );
    assert_eq!(
        created["tags"],
        json!(tags),
        "21 tags that collapse to 20 are accepted"
    );
}

#[tokio::test]
async fn patch_replaces_given_fields_and_null_clears_optional_ones() {
    let app = spawn_app(AppOptions::default()).await;
    let created = app
        .create_expense(
            USER,
            &with(
                expense_body("10.00", "USD", "2026-03-01"),
                json!({"merchant": "Old shop", "description": "Old text", "tags": ["a", "b"]}),
            ),
        )
        .await;
    let id = id_of(&created);
    let path = expense_path(&id);

    let resp = app
        .patch(
            &path,
            USER,
            &json!({"amount": "20", "merchant": null, "tags": ["c"]}),
            None,
        )
        .await;
    let patched = resp.expect_json(200);
    assert_eq!(
        resp.header("etag"),
        Some(etag(2).as_str()),
        "PATCH answers the new ETag"
    );
    assert_eq!(
        patched,
        with(
            created.clone(),
            json!({
                "amount": "20.00",
                "merchant": null,
                "tags": ["c"],
                "version": 2,
                "updated_at": patched["updated_at"],
            })
        ),
        "only the given fields change, null clears, version goes up by one"
    );
    assert_utc_timestamp(&patched["updated_at"], "updated_at");
    assert!(
        patched["updated_at"].as_str() >= created["updated_at"].as_str(),
        "updated_at must not go back in time: {patched}"
    );

    // Plain application/json is a merge patch too.
    let resp = app
        .patch_as(
            JSON,
            &path,
            USER,
            &json!({"description": null, "date": "2026-03-02", "currency": "EUR"}),
            None,
        )
        .await;
    let patched_again = resp.expect_json(200);
    assert_eq!(
        (
            &patched_again["description"],
            &patched_again["date"],
            &patched_again["currency"],
            &patched_again["amount"],
            &patched_again["version"],
        ),
        (
            &Value::Null,
            &json!("2026-03-02"),
            &json!("EUR"),
            &json!("20.00"),
            &json!(3)
        ),
        "application/json PATCH applies as a merge patch"
    );
    let fetched = app.get(&path, USER).await;
    assert_eq!(
        fetched.expect_json(200),
        patched_again,
        "GET shows the last patch"
    );
    assert_eq!(fetched.header("etag"), Some(etag(3).as_str()));
}

#[tokio::test]
async fn patch_cannot_null_a_required_field() {
    let app = spawn_app(AppOptions::default()).await;
    let created = app
        .create_expense(USER, &expense_body("5.00", "USD", "2026-03-01"))
        .await;
    let path = expense_path(&id_of(&created));
    for field in ["amount", "currency", "date"] {
        app.patch(&path, USER, &json!({ field: null }), None)
            .await
            .context(format!("{field}: null"))
            .assert_invalid(&[field]);
    }
    assert_eq!(
        app.get_expense(USER, &id_of(&created)).await,
        created,
        "a rejected patch changes nothing"
    );
}

#[tokio::test]
async fn if_match_guards_patch_against_lost_updates() {
    let app = spawn_app(AppOptions::default()).await;
    let created = app
        .create_expense(
            USER,
            &with(
                expense_body("5.00", "USD", "2026-03-01"),
                json!({"merchant": "v1"}),
            ),
        )
        .await;
    let path = expense_path(&id_of(&created));

    let first = app
        .patch(&path, USER, &json!({"merchant": "v2"}), Some(&etag(1)))
        .await
        .expect_json(200);
    assert_eq!(
        (&first["merchant"], &first["version"]),
        (&json!("v2"), &json!(2))
    );

    app.patch(
        &path,
        USER,
        &json!({"merchant": "lost update"}),
        Some(&etag(1)),
    )
    .await
    .problem(412);
    app.patch(
        &path,
        USER,
        &json!({"merchant": "from the future"}),
        Some(&etag(9)),
    )
    .await
    .problem(412);
    assert_eq!(
        app.get_expense(USER, &id_of(&created)).await,
        first,
        "a 412 changes nothing"
    );

    let second = app
        .patch(&path, USER, &json!({"merchant": "v3"}), Some(&etag(2)))
        .await
        .expect_json(200);
    assert_eq!(
        (&second["merchant"], &second["version"]),
        (&json!("v3"), &json!(3))
    );
}

#[tokio::test]
async fn delete_answers_204_and_the_expense_is_gone() {
    let app = spawn_app(AppOptions::default()).await;
    let created = app
        .create_expense(USER, &expense_body("5.00", "USD", "2026-03-01"))
        .await;
    let id = id_of(&created);
    let path = expense_path(&id);

    let deleted = app.delete(&path, USER, None).await;
    deleted.assert_status(204);
    assert!(
        deleted.body.is_empty(),
        "a 204 has no body: {:?}",
        deleted.body
    );

    app.get(&path, USER).await.problem(404);
    app.delete(&path, USER, None).await.problem(404);
    app.patch(&path, USER, &json!({"merchant": "x"}), None)
        .await
        .problem(404);
    assert!(
        !ids(&app.list_all(USER, &[]).await).contains(&id),
        "a deleted expense is not listed"
    );
}

#[tokio::test]
async fn delete_with_a_stale_if_match_is_412_and_keeps_the_expense() {
    let app = spawn_app(AppOptions::default()).await;
    let created = app
        .create_expense(USER, &expense_body("5.00", "USD", "2026-03-01"))
        .await;
    let path = expense_path(&id_of(&created));
    let patched = app
        .patch(&path, USER, &json!({"merchant": "changed"}), None)
        .await
        .expect_json(200);

    app.delete(&path, USER, Some(&etag(1))).await.problem(412);
    assert_eq!(
        app.get_expense(USER, &id_of(&created)).await,
        patched,
        "a 412 deletes nothing"
    );

    app.delete(&path, USER, Some(&etag(2)))
        .await
        .assert_status(204);
    app.get(&path, USER).await.problem(404);
}
