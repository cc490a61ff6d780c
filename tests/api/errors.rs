//! Every error status of the expense routes, each an RFC 9457 problem
//! (`application/problem+json` with `type`, `title`, `status`, `detail`);
//! 422s name each bad field. `send` already fails on any 5xx.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

const USER: &str = "error-prone";
const ONE_MIB: usize = 1024 * 1024;

fn valid_body() -> Value {
    expense_body("12.30", "USD", "2026-01-01")
}

/// POSTs `body` as JSON to /v1/expenses, noting `case` in assertion messages.
async fn create(app: &TestApp, body: &Value, case: impl std::fmt::Display) -> Resp {
    app.post_json("/v1/expenses", USER, body)
        .await
        .context(case)
}

#[tokio::test]
async fn missing_or_bad_tokens_are_401_with_a_bearer_challenge() {
    let app = spawn_app(AppOptions::default()).await;
    let now = unix_now();
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims_for(USER).to_string())
    );
    let other_secret = hs256_token(b"not the server's secret", &claims_for(USER));
    let cases: Vec<(&str, Option<String>)> = vec![
        ("no Authorization header", None),
        ("empty bearer", Some("Bearer ".into())),
        ("not a JWT", Some("Bearer not-a-token".into())),
        ("three garbage parts", Some("Bearer abc.def.ghi".into())),
        (
            "Basic scheme",
            Some(format!("Basic {}", URL_SAFE_NO_PAD.encode("user:pass"))),
        ),
        ("token without scheme", Some(app.token(USER))),
        ("alg none", Some(format!("Bearer {unsigned}"))),
        (
            "signed with another secret",
            Some(format!("Bearer {other_secret}")),
        ),
        (
            "expired",
            Some(format!(
                "Bearer {}",
                app.sign(&json!({"sub": USER, "exp": now - 3600}))
            )),
        ),
        (
            "without exp",
            Some(format!("Bearer {}", app.sign(&json!({"sub": USER})))),
        ),
        (
            "without sub",
            Some(format!("Bearer {}", app.sign(&json!({"exp": now + 3600})))),
        ),
        (
            "empty sub",
            Some(format!(
                "Bearer {}",
                app.sign(&json!({"sub": "", "exp": now + 3600}))
            )),
        ),
        (
            "not yet valid",
            Some(format!(
                "Bearer {}",
                app.sign(&json!({"sub": USER, "exp": now + 7200, "nbf": now + 3600}))
            )),
        ),
    ];
    let id = id_of(&app.create_expense(USER, &valid_body()).await);
    for (case, authorization) in cases {
        let requests = [
            app.request(Method::GET, "/v1/expenses"),
            app.request(Method::GET, &expense_path(&id)),
            app.request(Method::POST, "/v1/expenses")
                .json(&valid_body()),
        ];
        for mut request in requests {
            if let Some(value) = &authorization {
                request = request.header("authorization", value);
            }
            send(request).await.context(case).assert_unauthorized();
        }
    }
    assert_eq!(
        app.list_all(USER, &[]).await.len(),
        1,
        "no rejected request created anything"
    );
}

#[tokio::test]
async fn unknown_routes_and_ids_are_404_with_or_without_a_token() {
    let app = spawn_app(AppOptions::default()).await;
    for path in [
        "/v1/nope",
        "/nope",
        "/v2/expenses",
        "/v1/expenses/x/y",
        "/v1",
    ] {
        send(app.request(Method::GET, path))
            .await
            .context("without a token")
            .problem(404);
        app.get(path, USER)
            .await
            .context("with a token")
            .problem(404);
    }
    for id in [unused_id(), "not-an-id".to_owned(), "0".to_owned()] {
        app.get(&expense_path(&id), USER).await.problem(404);
        app.delete(&expense_path(&id), USER, None)
            .await
            .problem(404);
        app.patch(&expense_path(&id), USER, &json!({"merchant": "x"}), None)
            .await
            .problem(404);
    }
}

#[tokio::test]
async fn a_wrong_method_is_405_with_an_allow_header() {
    let app = spawn_app(AppOptions::default()).await;
    let id = id_of(&app.create_expense(USER, &valid_body()).await);
    let cases = [
        (Method::PUT, "/v1/expenses".to_owned(), &["GET", "POST"][..]),
        (
            Method::DELETE,
            "/v1/expenses".to_owned(),
            &["GET", "POST"][..],
        ),
        (
            Method::PATCH,
            "/v1/expenses".to_owned(),
            &["GET", "POST"][..],
        ),
        (
            Method::PUT,
            expense_path(&id),
            &["GET", "PATCH", "DELETE"][..],
        ),
        (
            Method::POST,
            expense_path(&id),
            &["GET", "PATCH", "DELETE"][..],
        ),
    ];
    for (method, path, allowed) in cases {
        let resp = app
            .send_body(method, &path, USER, Some(JSON), valid_body().to_string())
            .await;
        resp.problem(405);
        let allow: Vec<String> = resp
            .header("allow")
            .unwrap_or_else(|| panic!("{}: a 405 needs an Allow header", resp.what))
            .split(',')
            .map(|m| m.trim().to_ascii_uppercase())
            .collect();
        for method in allowed {
            assert!(
                allow.iter().any(|m| m == method),
                "{}: Allow must include {method}, got {allow:?}",
                resp.what
            );
        }
    }
}

#[tokio::test]
async fn a_json_route_without_a_json_content_type_is_415() {
    let app = spawn_app(AppOptions::default()).await;
    let body = valid_body().to_string();
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("text/csv"),
        Some(MERGE_PATCH),
    ] {
        app.send_body(
            Method::POST,
            "/v1/expenses",
            USER,
            content_type,
            body.clone(),
        )
        .await
        .context(format!("POST with Content-Type {content_type:?}"))
        .problem(415);
    }
    let created = app
        .send_body(
            Method::POST,
            "/v1/expenses",
            USER,
            Some("application/json; charset=utf-8"),
            body,
        )
        .await
        .expect_json(201);
    let path = expense_path(&id_of(&created));
    let patch = json!({"merchant": "x"}).to_string();
    for content_type in [None, Some("text/plain"), Some("application/xml")] {
        app.send_body(Method::PATCH, &path, USER, content_type, patch.clone())
            .await
            .context(format!("PATCH with Content-Type {content_type:?}"))
            .problem(415);
    }
    assert_eq!(
        app.get_expense(USER, &id_of(&created)).await,
        created,
        "a 415 changes nothing"
    );
    assert_eq!(
        app.list_all(USER, &[]).await.len(),
        1,
        "only the one valid POST created anything"
    );
}

#[tokio::test]
async fn a_body_that_is_not_json_is_400() {
    let app = spawn_app(AppOptions::default()).await;
    let created = app.create_expense(USER, &valid_body()).await;
    let path = expense_path(&id_of(&created));
    let bodies: [&[u8]; 6] = [
        b"",
        b"{\"amount\": ",
        b"not json",
        b"{'amount': '1.00'}",
        b"{\"amount\":\"1.00\",\"currency\":\"USD\",\"date\":\"2026-01-01\",}",
        b"\xff\xfe{}",
    ];
    for body in bodies {
        let case = format!("body {:?}", String::from_utf8_lossy(body));
        app.send_body(
            Method::POST,
            "/v1/expenses",
            USER,
            Some(JSON),
            body.to_vec(),
        )
        .await
        .context(&case)
        .problem(400);
        app.send_body(Method::PATCH, &path, USER, Some(MERGE_PATCH), body.to_vec())
            .await
            .context(&case)
            .problem(400);
    }
    assert_eq!(
        app.get_expense(USER, &id_of(&created)).await,
        created,
        "a 400 changes nothing"
    );
}

#[tokio::test]
async fn json_that_is_not_an_object_is_422() {
    let app = spawn_app(AppOptions::default()).await;
    let created = app.create_expense(USER, &valid_body()).await;
    let path = expense_path(&id_of(&created));
    for body in [
        json!([]),
        json!([valid_body()]),
        json!("text"),
        json!(12),
        json!(null),
        json!(true),
    ] {
        create(&app, &body, format!("body {body}"))
            .await
            .problem(422);
        app.patch(&path, USER, &body, None)
            .await
            .context(format!("body {body}"))
            .problem(422);
    }
    assert_eq!(
        app.list_all(USER, &[]).await.len(),
        1,
        "nothing was created"
    );
}

#[tokio::test]
async fn unknown_and_read_only_fields_are_422_naming_them() {
    let app = spawn_app(AppOptions::default()).await;
    let created = app.create_expense(USER, &valid_body()).await;
    let path = expense_path(&id_of(&created));
    for field in [
        "colour",
        "Amount",
        "id",
        "version",
        "created_at",
        "updated_at",
        "user_id",
    ] {
        let extra = json!({ field: "2" });
        create(
            &app,
            &with(valid_body(), extra.clone()),
            format!("create with {field}"),
        )
        .await
        .assert_invalid(&[field]);
        app.patch(&path, USER, &extra, None)
            .await
            .context(format!("patch with {field}"))
            .assert_invalid(&[field]);
    }
    assert_eq!(
        app.get_expense(USER, &id_of(&created)).await,
        created,
        "a 422 changes nothing"
    );
}

#[tokio::test]
async fn bad_amounts_are_422() {
    let app = spawn_app(AppOptions::default()).await;
    let cases = [
        (json!("12.345"), "USD"),
        (json!(".5"), "USD"),
        (json!("12."), "USD"),
        (json!("+12"), "USD"),
        (json!("-12"), "USD"),
        (json!("1e3"), "USD"),
        (json!(" 12"), "USD"),
        (json!("12 "), "USD"),
        (json!("1,50"), "USD"),
        (json!("0x10"), "USD"),
        (json!("\u{0661}\u{0662}"), "USD"),
        (json!(""), "USD"),
        (json!("999999999999.01"), "USD"),
        (json!("1000000000000"), "USD"),
        (json!("0"), "USD"),
        (json!("0.00"), "USD"),
        (json!(12.3), "USD"),
        (json!(12), "USD"),
        (json!(true), "USD"),
        (json!(["12"]), "USD"),
        (json!(null), "USD"),
        (json!("1500.5"), "JPY"),
        (json!("1.2345"), "BHD"),
        (json!("1.23456"), "CLF"),
    ];
    for (amount, currency) in cases {
        let body = with(
            valid_body(),
            json!({"amount": amount, "currency": currency}),
        );
        create(&app, &body, format!("amount {amount} {currency}"))
            .await
            .assert_invalid(&["amount"]);
    }
    let created = app.create_expense(USER, &valid_body()).await;
    app.patch(
        &expense_path(&id_of(&created)),
        USER,
        &json!({"amount": "12.345"}),
        None,
    )
    .await
    .assert_invalid(&["amount"]);
    assert_eq!(
        app.list_all(USER, &[]).await.len(),
        1,
        "no invalid expense was stored"
    );
}

#[tokio::test]
async fn bad_currencies_are_422() {
    let app = spawn_app(AppOptions::default()).await;
    for currency in [
        json!("XAU"),
        json!("XDR"),
        json!("XXX"),
        json!("HRK"),
        json!("usd"),
        json!("Usd"),
        json!("US"),
        json!("USDX"),
        json!(""),
        json!(840),
        json!(null),
    ] {
        let body = with(valid_body(), json!({"currency": currency}));
        create(&app, &body, format!("currency {currency}"))
            .await
            .assert_invalid(&["currency"]);
    }
}

#[tokio::test]
async fn bad_dates_are_422() {
    let app = spawn_app(AppOptions::default()).await;
    for date in [
        json!("2026-02-30"),
        json!("2026-13-01"),
        json!("2026-1-1"),
        json!("26-01-01"),
        json!("2026-01-01T00:00:00Z"),
        json!("01/02/2026"),
        json!(20260101),
        json!(null),
    ] {
        let body = with(valid_body(), json!({"date": date}));
        create(&app, &body, format!("date {date}"))
            .await
            .assert_invalid(&["date"]);
    }
}

#[tokio::test]
async fn bad_text_and_tags_are_422() {
    let app = spawn_app(AppOptions::default()).await;
    let cases = [
        (json!({"merchant": "\u{1F4B8}".repeat(201)}), "merchant"),
        (json!({"merchant": "é".repeat(201)}), "merchant"),
        (json!({"merchant": "a\u{0}b"}), "merchant"),
        (json!({"merchant": 12}), "merchant"),
        (json!({"description": "x".repeat(2001)}), "description"),
        (json!({"description": "\u{0}"}), "description"),
        (json!({"tags": ["a\u{0}"]}), "tags"),
        (json!({"tags": ["a;b"]}), "tags"),
        (json!({"tags": ["   "]}), "tags"),
        (json!({"tags": ["t".repeat(51)]}), "tags"),
        (
            json!({"tags": (0..21).map(|i| format!("tag{i}")).collect::<Vec<_>>()}),
            "tags",
        ),
        (json!({"tags": "team"}), "tags"),
        (json!({"tags": [1]}), "tags"),
        (json!({"category_id": unused_id()}), "category_id"),
        (json!({"category_id": 7}), "category_id"),
    ];
    for (extra, field) in cases {
        let case = format!("{}", extra).chars().take(120).collect::<String>();
        create(&app, &with(valid_body(), extra), case)
            .await
            .assert_invalid(&[field]);
    }
}

#[tokio::test]
async fn every_bad_field_is_named_at_once() {
    let app = spawn_app(AppOptions::default()).await;
    create(&app, &json!({}), "empty object")
        .await
        .assert_invalid(&["amount", "currency", "date"]);
    let body = json!({
        "amount": "1e3",
        "currency": "usd",
        "date": "2026-02-30",
        "merchant": "m".repeat(201),
        "colour": "red",
        "version": 1,
    });
    create(&app, &body, "six bad fields")
        .await
        .assert_invalid(&[
            "amount", "currency", "date", "merchant", "colour", "version",
        ]);
}

#[tokio::test]
async fn malformed_or_out_of_range_list_parameters_are_400() {
    let app = spawn_app(AppOptions::default()).await;
    for date in ["2026-01-01", "2026-01-02"] {
        app.create_expense(USER, &expense_body("1.00", "USD", date))
            .await;
    }
    let page = app.list(USER, &[("limit", "1")]).await;
    let cursor = page["next_cursor"].as_str().expect("a cursor").to_owned();
    let tampered = format!("{cursor}!");
    let cases: [&[(&str, &str)]; 20] = [
        &[("limit", "0")],
        &[("limit", "201")],
        &[("limit", "-1")],
        &[("limit", "1.5")],
        &[("limit", "ten")],
        &[("from", "2026-02-30")],
        &[("from", "2026-13-01")],
        &[("to", "yesterday")],
        &[("to", "2026-1-1")],
        &[("from", "2026-03-02"), ("to", "2026-03-01")],
        &[("min_amount", "5"), ("max_amount", "4.99")],
        &[("min_amount", "abc")],
        &[("max_amount", "-1")],
        &[("min_amount", "1e3")],
        &[("currency", "XAU")],
        &[("currency", "usd")],
        &[("currency", "ZZZ")],
        &[("cursor", "garbage")],
        &[("cursor", "")],
        &[("cursor", tampered.as_str())],
    ];
    for params in cases {
        let request = app.authed(Method::GET, "/v1/expenses", USER).query(params);
        send(request)
            .await
            .context(format!("{params:?}"))
            .problem(400);
    }
}

/// A valid create body except for a description padding it to `size` bytes.
fn body_of_size(size: usize) -> String {
    let frame = |padding: &str| {
        format!(
            r#"{{"amount":"1.00","currency":"USD","date":"2026-01-01","description":"{padding}"}}"#
        )
    };
    let overhead = frame("").len();
    let body = frame(&"a".repeat(size - overhead));
    assert_eq!(body.len(), size);
    body
}

#[tokio::test]
async fn a_body_over_1_mib_is_413() {
    let app = spawn_app(AppOptions::default()).await;
    app.send_body(
        Method::POST,
        "/v1/expenses",
        USER,
        Some(JSON),
        body_of_size(ONE_MIB + 1),
    )
    .await
    .context("1 MiB + 1 byte")
    .problem(413);
    // Exactly 1 MiB is read and judged on its fields: the description is too long.
    app.send_body(
        Method::POST,
        "/v1/expenses",
        USER,
        Some(JSON),
        body_of_size(ONE_MIB),
    )
    .await
    .context("exactly 1 MiB")
    .assert_invalid(&["description"]);
    assert!(
        app.list_all(USER, &[]).await.is_empty(),
        "nothing was created"
    );
}
