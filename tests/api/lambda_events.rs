//! The Lambda functions' handlers fed real ALB target-group events from
//! `events/`, decoded by `lambda_http::request::from_str` exactly as the
//! runtime does, against an in-memory SQLite store.

use serde_json::Value;
use shared::app::App;
use shared::auth::AuthSettings;
use shared::config::{Config, DatabaseSettings};
use shared::http::routes::{Operation, FALLBACK_FUNCTION, ROUTES};
use shared::http::Scope;

/// The secret the fixtures' tokens are signed with (events/README.md).
const FIXTURE_SECRET: &str = "events-fixture-secret";
/// The expense id written in the fixtures, replaced by a real one.
const FIXTURE_ID: &str = "0192f0c4-7a2e-7cc3-9a57-3f1f6f4f2a10";

async fn app() -> App {
    let config = Config {
        database: DatabaseSettings::Sqlite(":memory:".into()),
        cache: None,
        auth: Some(AuthSettings::Hs256 {
            secret: FIXTURE_SECRET.into(),
        }),
    };
    let app = App::build(&config).await.expect("app builds");
    app.store.migrate().await.expect("migrations apply");
    app
}

fn event_text(function: &str, id: Option<&str>) -> String {
    let path = format!("{}/../events/{function}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    match id {
        Some(id) => text.replace(FIXTURE_ID, id),
        None => text,
    }
}

fn scope_of(function: &str) -> Scope {
    if function == FALLBACK_FUNCTION {
        Scope::All
    } else {
        Scope::Only(Operation::for_function(function).expect("a function of the route table"))
    }
}

/// Runs `function`'s handler on its fixture; returns status, headers, body.
async fn invoke(app: &App, function: &str, id: Option<&str>) -> (u16, http::HeaderMap, Value) {
    invoke_as(app, function, function, id).await
}

async fn invoke_as(
    app: &App,
    function: &str,
    fixture: &str,
    id: Option<&str>,
) -> (u16, http::HeaderMap, Value) {
    let request = lambda_http::request::from_str(&event_text(fixture, id))
        .unwrap_or_else(|e| panic!("events/{fixture}.json does not decode: {e}"));
    let response = shared::lambda::handle(app, scope_of(function), request).await;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = match response.body() {
        lambda_http::Body::Empty => Value::Null,
        body => serde_json::from_slice(body.as_ref()).expect("a JSON body"),
    };
    (status, headers, body)
}

#[tokio::test]
async fn every_function_answers_its_alb_event() {
    let app = app().await;

    let (status, headers, created) = invoke(&app, "create-expense", None).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["amount"], "12.30");
    assert_eq!(created["merchant"], "Corner Café");
    let id = created["id"].as_str().expect("an id").to_owned();
    assert_eq!(headers["location"], format!("/v1/expenses/{id}").as_str());

    let (status, headers, got) = invoke(&app, "get-expense", Some(&id)).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got, created);
    assert_eq!(headers["etag"], "\"1\"");

    // Multi-value headers and query; q=caf%C3%A9 as the ALB passes it.
    let (status, _, page) = invoke(&app, "list-expenses", None).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1), "{page}");
    assert_eq!(page["items"][0]["id"], id.as_str());

    // Base64 body with If-Match "1".
    let (status, _, updated) = invoke(&app, "update-expense", Some(&id)).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["amount"], "15.00");
    assert_eq!(updated["version"], 2);
    let (status, _, stale) = invoke(&app, "update-expense", Some(&id)).await;
    assert_eq!(status, 412, "{stale}");

    let (status, _, _) = invoke(&app, "delete-expense", Some(&id)).await;
    assert_eq!(status, 204);
    let (status, _, _) = invoke(&app, "get-expense", Some(&id)).await;
    assert_eq!(status, 404);

    let (status, _, health) = invoke(&app, "health", None).await;
    assert_eq!(status, 200);
    assert_eq!(health["checks"]["database"], "ok");
    assert_eq!(health["checks"]["cache"], "disabled");

    let (status, _, doc) = invoke(&app, "openapi", None).await;
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.1.0");

    let (status, headers, problem) = invoke(&app, "fallback", None).await;
    assert_eq!(status, 404);
    assert_eq!(headers["content-type"], "application/problem+json");
    assert_eq!(problem["status"], 404);
}

#[tokio::test]
async fn a_function_refuses_another_operations_request() {
    let app = app().await;
    let (status, _, _) = invoke_as(&app, "get-expense", "create-expense", None).await;
    assert_eq!(status, 404);
    let (status, _, created) = invoke_as(&app, "fallback", "create-expense", None).await;
    assert_eq!(status, 201, "the fallback serves every route: {created}");
}

#[test]
fn every_function_has_an_event_fixture() {
    let functions = ROUTES
        .iter()
        .map(|r| r.function)
        .chain([FALLBACK_FUNCTION, shared::http::routes::MIGRATE_FUNCTION]);
    for function in functions {
        let text = event_text(function, None);
        serde_json::from_str::<Value>(&text)
            .unwrap_or_else(|e| panic!("events/{function}.json is not JSON: {e}"));
    }
}

#[tokio::test]
async fn a_function_will_not_start_without_token_verification() {
    let config = Config {
        database: DatabaseSettings::Sqlite(":memory:".into()),
        cache: None,
        auth: None,
    };
    let refused = App::build(&config)
        .await
        .err()
        .expect("no app without auth");
    assert!(refused.contains("JWT_SECRET"), "{refused}");
}
