//! The Lambda functions' handlers fed real ALB target-group events from
//! `events/`, decoded by `lambda_http::request::from_str` exactly as the
//! runtime does, against an in-memory SQLite store.

use serde_json::Value;
use shared::app::App;
use shared::config::{Config, Runtime};
use shared::http::routes::{FALLBACK_FUNCTION, MIGRATE_FUNCTION, PURGE_FUNCTION, ROUTES};
use shared::http::Scope;
use shared::lambda::Handler;
use shared::start::StartError;

/// The secret the fixtures' tokens are signed with (events/README.md).
const FIXTURE_SECRET: &str = "events-fixture-secret";
/// The expense, category and ledger ids written in the fixtures, replaced
/// by real ones.
const FIXTURE_IDS: [&str; 3] = [
    "0192f0c4-7a2e-7cc3-9a57-3f1f6f4f2a10",
    "0192f0c4-7a2e-7cc3-9a57-3f1f6f4f2a20",
    "0192f0c4-7a2e-7cc3-9a57-3f1f6f4f2a30",
];

async fn app() -> App {
    let config = Config::from_lookup(Runtime::Lambda, &|name| match name {
        "DATABASE_URL" => Some("sqlite::memory:".into()),
        "JWT_SECRET" => Some(FIXTURE_SECRET.into()),
        _ => None,
    })
    .expect("the fixtures' configuration");
    let app = App::build(&config).await.expect("app builds");
    app.store.migrate().await.expect("migrations apply");
    app
}

fn event_text(function: &str, id: Option<&str>) -> String {
    let path = format!("{}/../events/{function}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    match id {
        Some(id) => FIXTURE_IDS
            .iter()
            .fold(text, |text, fixture| text.replace(fixture, id)),
        None => text,
    }
}

/// The scope the `bootstrap` binary serves when `_HANDLER` is `function`.
fn scope_of(function: &str) -> Scope {
    match Handler::named(Some(function)) {
        Ok(Handler::Requests(scope)) => scope,
        other => panic!("{function} is no request function: {other:?}"),
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
    let is_json = headers
        .get("content-type")
        .is_some_and(|v| v.to_str().unwrap_or("").contains("json"));
    let body = match response.body() {
        lambda_http::Body::Empty => Value::Null,
        body if is_json => serde_json::from_slice(body.as_ref()).expect("a JSON body"),
        body => Value::String(String::from_utf8_lossy(body.as_ref()).into_owned()),
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
async fn the_category_budget_report_and_csv_functions_answer_their_events() {
    let app = app().await;

    let (status, headers, category) = invoke(&app, "create-category", None).await;
    assert_eq!(status, 201, "{category}");
    let id = category["id"].as_str().unwrap().to_owned();
    assert_eq!(headers["location"], format!("/v1/categories/{id}").as_str());
    let (status, _, got) = invoke(&app, "get-category", Some(&id)).await;
    assert_eq!((status, &got), (200, &category));
    let (status, _, list) = invoke(&app, "list-categories", None).await;
    assert_eq!((status, &list["items"][0]), (200, &category));
    let (status, _, budget) = invoke(&app, "put-budget", Some(&id)).await;
    assert_eq!(
        (status, budget["amount"].as_str()),
        (200, Some("400.00")),
        "{budget}"
    );

    // Base64 CSV body with an Idempotency-Key (the second time is a
    // replay); its "Food" rows land in the category above.
    let (status, headers, imported) = invoke(&app, "import-expenses", None).await;
    assert_eq!(
        (status, &imported),
        (201, &serde_json::json!({"imported": 2}))
    );
    assert!(!headers.contains_key("idempotent-replayed"));
    let (status, headers, replayed) = invoke(&app, "import-expenses", None).await;
    assert_eq!((status, &replayed), (201, &imported));
    assert_eq!(headers["idempotent-replayed"], "true");

    let (status, headers, csv) = invoke(&app, "export-expenses", None).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    let csv = csv.as_str().unwrap();
    assert!(
        csv.starts_with("id,date,amount,currency,category,merchant,description,tags\r\n"),
        "{csv}"
    );
    assert!(
        csv.contains(",2026-11-27,8.50,USD,Food,Bakery,\"Croissants, two\",team\r\n"),
        "{csv}"
    );
    assert!(!csv.contains("JPY"), "the event filters USD: {csv}");

    let (status, _, month) = invoke(&app, "list-budgets", None).await;
    assert_eq!(status, 200, "{month}");
    assert_eq!(month["items"][0]["spent"], "8.50", "{month}");

    let (status, _, summary) = invoke(&app, "summary-report", None).await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(summary["groups"][0]["total"], "8.50", "{summary}");

    let (status, _, renamed) = invoke(&app, "update-category", Some(&id)).await;
    assert_eq!((status, renamed["name"].as_str()), (200, Some("Groceries")));
    let (status, _, _) = invoke(&app, "delete-budget", Some(&id)).await;
    assert_eq!(status, 204);
    let (status, _, _) = invoke(&app, "delete-category", Some(&id)).await;
    assert_eq!(status, 204);
    let (status, _, _) = invoke(&app, "get-category", Some(&id)).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_function_refuses_another_operations_request() {
    let app = app().await;
    let (status, _, _) = invoke_as(&app, "get-expense", "create-expense", None).await;
    assert_eq!(status, 404);
    let (status, _, created) = invoke_as(&app, "fallback", "create-expense", None).await;
    assert_eq!(status, 201, "the fallback serves every route: {created}");
}

/// A ledger-scoped event reaches the function of its route: a ledger made
/// from create-ledger's fixture, then create-expense-in-ledger's (with that
/// ledger's id) through the create-expense function.
#[tokio::test]
async fn a_ledger_scoped_event_reaches_its_route_s_function() {
    let app = app().await;
    let (status, _, ledger) = invoke(&app, "create-ledger", None).await;
    assert_eq!(status, 201, "{ledger}");
    let ledger_id = ledger["id"].as_str().expect("an id").to_owned();
    let fixture = "create-expense-in-ledger";
    let (status, headers, created) =
        invoke_as(&app, "create-expense", fixture, Some(&ledger_id)).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["created_by"], "events-user");
    let id = created["id"].as_str().expect("an id");
    assert_eq!(
        headers["location"],
        format!("/v1/ledgers/{ledger_id}/expenses/{id}").as_str()
    );
    // In that ledger, not in the personal one (whose list fixture would
    // match it: USD, "café").
    let (status, _, page) = invoke(&app, "list-expenses", None).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["items"], serde_json::json!([]), "{page}");
    // As it is, the fixture names no ledger of the caller's.
    let (status, _, missing) = invoke_as(&app, "create-expense", fixture, None).await;
    assert_eq!(status, 404, "{missing}");
    // Another function serves only its own route.
    let (status, _, _) = invoke_as(&app, "get-expense", fixture, Some(&ledger_id)).await;
    assert_eq!(status, 404);
}

#[test]
fn every_function_has_an_event_fixture() {
    let functions = ROUTES.iter().map(|r| r.function).chain([
        FALLBACK_FUNCTION,
        MIGRATE_FUNCTION,
        PURGE_FUNCTION,
    ]);
    for function in functions {
        let text = event_text(function, None);
        serde_json::from_str::<Value>(&text)
            .unwrap_or_else(|e| panic!("events/{function}.json is not JSON: {e}"));
    }
}

#[tokio::test]
async fn a_function_will_not_start_without_token_verification() {
    let config = Config::from_lookup(Runtime::Lambda, &|name| {
        (name == "DATABASE_URL").then(|| "sqlite::memory:".to_owned())
    })
    .expect("a configuration without token settings");
    let refused = App::build(&config)
        .await
        .err()
        .expect("no app without auth");
    assert!(
        matches!(refused, StartError::NoTokenVerification),
        "{refused}"
    );
    assert!(refused.to_string().contains("JWT_SECRET"), "{refused}");
}
