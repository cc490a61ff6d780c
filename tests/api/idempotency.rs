//! `Idempotency-Key` on `POST /v1/expenses`, `POST /v1/expenses/import` and
//! the other creating POSTs:
//! replays, a different body, concurrent duplicates, keys per user, which
//! responses are stored, and malformed keys.

use reqwest::header::HeaderValue;
use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};

use crate::helpers::*;

const USER: &str = "idempotent-client";
const OTHER: &str = "someone-else";
const REPLAYED: &str = "idempotent-replayed";

/// `POST path` as `user` with `Idempotency-Key: key` (raw bytes) and
/// `content_type`.
fn keyed(
    app: &TestApp,
    path: &str,
    user: &str,
    key: &[u8],
    content_type: &str,
    body: &str,
) -> RequestBuilder {
    let key = HeaderValue::from_bytes(key).expect("a key the HTTP client can send");
    app.authed(Method::POST, path, user)
        .header("idempotency-key", key)
        .header("content-type", content_type)
        .body(body.to_owned())
}

/// `POST /v1/expenses` with a JSON body and `key`.
async fn create(app: &TestApp, user: &str, key: &str, body: &str) -> Resp {
    send(keyed(app, "/v1/expenses", user, key.as_bytes(), JSON, body)).await
}

fn assert_first(resp: &Resp) {
    assert_eq!(
        resp.header(REPLAYED),
        None,
        "{}: a first response is not marked replayed",
        resp.what
    );
}

/// Asserts that `replay` repeats `first` exactly and is marked replayed.
fn assert_replay_of(replay: &Resp, first: &Resp) {
    assert_eq!(
        (replay.status, &replay.body),
        (first.status, &first.body),
        "{}: a replay has the first response's status and body",
        replay.what
    );
    for header in ["content-type", "location", "etag"] {
        assert_eq!(
            replay.header(header),
            first.header(header),
            "{}: a replay repeats {header}",
            replay.what
        );
    }
    assert_eq!(
        replay.header(REPLAYED),
        Some("true"),
        "{}: a replay carries Idempotent-Replayed: true",
        replay.what
    );
}

fn valid_expense() -> Value {
    with(
        expense_body("12.30", "USD", "2026-04-01"),
        json!({"merchant": "Kiosk"}),
    )
}

fn valid_body() -> String {
    valid_expense().to_string()
}

#[tokio::test]
async fn the_same_key_and_body_replay_the_first_response_and_write_nothing() {
    let app = spawn_app(AppOptions::default()).await;
    let first = create(&app, USER, "order-1", &valid_body()).await;
    let created = first.expect_json(201);
    assert_first(&first);
    for _ in 0..2 {
        let again = create(&app, USER, "order-1", &valid_body()).await;
        assert_replay_of(&again, &first);
    }
    assert_eq!(
        app.list_all(USER, &[]).await,
        vec![created],
        "replays create nothing"
    );
}

#[tokio::test]
async fn the_same_key_with_a_different_body_is_422() {
    let app = spawn_app(AppOptions::default()).await;
    let first = create(&app, USER, "order-2", &valid_body()).await;
    let created = first.expect_json(201);
    let different = [
        expense_body("99.00", "USD", "2026-04-01").to_string(),
        // Byte-identical means byte-identical: the same JSON re-spaced.
        format!("{} ", valid_body()),
        serde_json::to_string_pretty(&valid_expense()).expect("JSON"),
    ];
    for body in &different {
        create(&app, USER, "order-2", body)
            .await
            .context(format!("body {body:?}"))
            .problem(422);
    }
    assert_eq!(
        app.list_all(USER, &[]).await,
        vec![created],
        "a reused key with another body writes nothing"
    );
    // The original request still replays.
    assert_replay_of(&create(&app, USER, "order-2", &valid_body()).await, &first);
}

#[tokio::test]
async fn ten_concurrent_requests_with_one_key_create_exactly_one_expense() {
    let app = spawn_app(AppOptions::default()).await;
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let request = keyed(
                &app,
                "/v1/expenses",
                USER,
                b"concurrent",
                JSON,
                &valid_body(),
            );
            tokio::spawn(send(request))
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.expect("a request task panicked"));
    }
    let created = answers[0].expect_json(201);
    for resp in &answers {
        assert_eq!(
            (resp.status, &resp.body),
            (answers[0].status, &answers[0].body),
            "all ten answers are the same 201"
        );
    }
    let replayed = answers
        .iter()
        .filter(|r| r.header(REPLAYED) == Some("true"))
        .count();
    assert_eq!(replayed, 9, "one request ran, nine replayed its response");
    assert_eq!(
        app.list_all(USER, &[]).await,
        vec![created],
        "exactly one expense is created"
    );
}

#[tokio::test]
async fn keys_belong_to_one_user() {
    let app = spawn_app(AppOptions::default()).await;
    let hers = create(&app, USER, "shared-key", &valid_body()).await;
    let her_expense = hers.expect_json(201);
    let his = create(&app, OTHER, "shared-key", &valid_body()).await;
    let his_expense = his.expect_json(201);
    assert_first(&his);
    assert_ne!(
        id_of(&her_expense),
        id_of(&his_expense),
        "another user's key does not replay her expense"
    );
    // And with another body: not a conflict across users.
    let other_body = expense_body("1.00", "EUR", "2026-01-01").to_string();
    create(&app, OTHER, "another-key", &other_body)
        .await
        .assert_status(201);
    create(&app, USER, "another-key", &valid_body())
        .await
        .assert_status(201);
    assert_eq!(app.list_all(USER, &[]).await.len(), 2);
    assert_eq!(app.list_all(OTHER, &[]).await.len(), 2);
}

/// Keys are per user, and `sub` is compared exactly: "client " is not
/// "client".
async fn padded_sub_has_its_own_keys(app: &TestApp) {
    let padded = format!("{USER} ");
    create(app, USER, "padded", &valid_body())
        .await
        .assert_status(201);
    let theirs = create(app, &padded, "padded", &valid_body()).await;
    theirs.assert_status(201);
    assert_first(&theirs);
    assert_eq!(
        app.list_all(&padded, &[]).await,
        vec![theirs.json()],
        "the user {padded:?} has exactly their own expense"
    );
}

#[tokio::test]
async fn a_sub_that_differs_only_by_trailing_spaces_does_not_share_keys_on_mariadb() {
    padded_sub_has_its_own_keys(&spawn_app(AppOptions::default()).await).await;
}

#[tokio::test]
async fn a_sub_that_differs_only_by_trailing_spaces_does_not_share_keys_on_sqlite() {
    padded_sub_has_its_own_keys(&spawn_app(AppOptions::default().sqlite().no_cache()).await).await;
}

#[tokio::test]
async fn a_400_or_422_is_stored_and_replayed_too() {
    let app = spawn_app(AppOptions::default()).await;
    let bad = expense_body("12.345", "USD", "2026-04-01").to_string();
    let first = create(&app, USER, "bad-one", &bad).await;
    first.assert_invalid(&["amount"]);
    assert_first(&first);
    assert_replay_of(&create(&app, USER, "bad-one", &bad).await, &first);
    // The key is spent on the bad request: a corrected body is a different
    // request.
    create(&app, USER, "bad-one", &valid_body())
        .await
        .context("a corrected body under a used key")
        .problem(422);
    // A body that is not JSON: a 400 is a response like any other.
    let first = create(&app, USER, "not-json", "{\"amount\": ").await;
    first.problem(400);
    assert_first(&first);
    assert_replay_of(
        &create(&app, USER, "not-json", "{\"amount\": ").await,
        &first,
    );
    assert_eq!(
        app.list_all(USER, &[]).await,
        Vec::<Value>::new(),
        "nothing was created"
    );
}

#[tokio::test]
async fn a_401_413_or_415_is_not_stored_and_a_retry_runs_afresh() {
    let app = spawn_app(AppOptions::default()).await;
    let body = valid_body();
    send(keyed(
        &app,
        "/v1/expenses",
        USER,
        b"typed",
        "text/plain",
        &body,
    ))
    .await
    .problem(415);
    let retried = create(&app, USER, "typed", &body).await;
    retried.expect_json(201);
    assert_first(&retried);

    let expired = app.sign(&json!({"sub": USER, "exp": unix_now() - 3600}));
    let unauthorised = app
        .request(Method::POST, "/v1/expenses")
        .bearer_auth(expired)
        .header("idempotency-key", "authed")
        .header("content-type", JSON)
        .body(body.clone());
    send(unauthorised).await.assert_unauthorized();
    let retried = create(&app, USER, "authed", &body).await;
    retried.expect_json(201);
    assert_first(&retried);

    // Over 1 MiB, then a small import under the same key.
    let csv = csv_record(&["date", "amount", "currency"]);
    let row = csv_record(&["2026-01-01", "1.00", "EUR"]);
    let huge = format!("{csv}{}", row.repeat(60_000));
    assert!(huge.len() > 1024 * 1024);
    let import = "/v1/expenses/import";
    send(keyed(&app, import, USER, b"sized", "text/csv", &huge))
        .await
        .problem(413);
    let small = format!("{csv}{row}");
    let retried = send(keyed(&app, import, USER, b"sized", "text/csv", &small)).await;
    assert_eq!(retried.expect_json(201), json!({"imported": 1}));
    assert_first(&retried);
    assert_eq!(app.list_all(USER, &[]).await.len(), 3);
}

#[tokio::test]
async fn a_malformed_key_is_400_and_writes_nothing() {
    let app = spawn_app(AppOptions::default()).await;
    let too_long = "k".repeat(256);
    let malformed: [&[u8]; 6] = [
        b"",
        too_long.as_bytes(),
        b"two words",
        "clé".as_bytes(),
        b"tab\there",
        b"\xff",
    ];
    for key in malformed {
        let resp = send(keyed(&app, "/v1/expenses", USER, key, JSON, &valid_body())).await;
        resp.context(format!(
            "Idempotency-Key {:?}",
            String::from_utf8_lossy(key)
        ))
        .problem(400);
    }
    assert_eq!(
        app.list_all(USER, &[]).await,
        Vec::<Value>::new(),
        "nothing was created"
    );
    // The bounds themselves are fine: 255 characters, `!` and `~`.
    for key in ["k".repeat(255), "!".to_owned(), "~a-Z_0.9:/+=~".to_owned()] {
        create(&app, USER, &key, &valid_body())
            .await
            .context(format!("Idempotency-Key {key:?}"))
            .assert_status(201);
    }
}

#[tokio::test]
async fn an_import_with_a_key_replays_and_imports_once() {
    let app = spawn_app(AppOptions::default()).await;
    let csv = format!(
        "{}{}{}",
        csv_record(&["date", "amount", "currency", "category"]),
        csv_record(&["2026-01-01", "1.00", "EUR", "Food"]),
        csv_record(&["2026-01-02", "2.00", "EUR", "Food"]),
    );
    let path = "/v1/expenses/import";
    let first = send(keyed(&app, path, USER, b"import-1", "text/csv", &csv)).await;
    assert_eq!(first.expect_json(201), json!({"imported": 2}));
    assert_first(&first);
    let again = send(keyed(&app, path, USER, b"import-1", "text/csv", &csv)).await;
    assert_replay_of(&again, &first);
    assert_eq!(
        app.list_all(USER, &[]).await.len(),
        2,
        "the rows are imported once"
    );
    assert_eq!(
        app.categories(USER).await.len(),
        1,
        "the category is created once"
    );
    // A different CSV under the same key.
    let other = format!("{csv}{}", csv_record(&["2026-01-03", "3.00", "EUR", ""]));
    send(keyed(&app, path, USER, b"import-1", "text/csv", &other))
        .await
        .problem(422);
    assert_eq!(app.list_all(USER, &[]).await.len(), 2);
}

/// The other creating POSTs (a ledger, a category, an invitation) with
/// one key ten times at once, in the personal ledger and in a shared one:
/// one runs (its response stored with what it created), nine replay it,
/// and exactly one thing is created.
#[tokio::test]
async fn ten_concurrent_creates_with_one_key_create_exactly_one_of_anything() {
    let app = spawn_app(AppOptions::default()).await;
    let ledger = app
        .post_json("/v1/ledgers", USER, &json!({"name": "Keyed"}))
        .await
        .expect_json(201);
    let shared = format!("/v1/ledgers/{}", id_of(&ledger));
    let cases = [
        (
            "/v1/ledgers".to_owned(),
            json!({"name": "Once"}),
            "/v1/ledgers".to_owned(),
        ),
        (
            "/v1/categories".to_owned(),
            json!({"name": "Once"}),
            "/v1/categories".to_owned(),
        ),
        (
            format!("{shared}/categories"),
            json!({"name": "Once"}),
            format!("{shared}/categories"),
        ),
        (
            format!("{shared}/invitations"),
            json!({"role": "viewer"}),
            format!("{shared}/invitations"),
        ),
    ];
    for (n, (path, body, listed_at)) in cases.into_iter().enumerate() {
        // A key of its own: the fingerprint covers the path too.
        let key = format!("one-of-anything-{n}");
        let before = app.get(&listed_at, USER).await.expect_json(200)["items"]
            .as_array()
            .map(Vec::len);
        let requests = (0..10)
            .map(|_| keyed(&app, &path, USER, key.as_bytes(), JSON, &body.to_string()))
            .collect();
        let answers = crate::ledgers::all_at_once(requests).await;
        answers[0].expect_json(201);
        for resp in &answers {
            assert_eq!((resp.status, &resp.body), (201, &answers[0].body), "{path}");
        }
        let replayed = answers
            .iter()
            .filter(|r| r.header(REPLAYED) == Some("true"))
            .count();
        assert_eq!(replayed, 9, "{path}: one ran, nine replayed");
        let after = app.get(&listed_at, USER).await.expect_json(200)["items"]
            .as_array()
            .map(Vec::len);
        assert_eq!(after, before.map(|n| n + 1), "{path}: exactly one created");
        let again = send(keyed(
            &app,
            &path,
            USER,
            key.as_bytes(),
            JSON,
            &body.to_string(),
        ))
        .await;
        assert_replay_of(&again, &answers[0]);
    }
}
