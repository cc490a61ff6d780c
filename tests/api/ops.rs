//! Operations endpoints, served without a token: `GET /health` and
//! `GET /openapi.json`.

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn health_checks_the_database_and_the_cache() {
    let app = spawn_app(AppOptions::default()).await;
    assert_eq!(
        app.health().await,
        json!({"status": "ok", "checks": {"database": "ok", "cache": "ok"}})
    );
}

#[tokio::test]
async fn health_says_the_cache_is_disabled_without_redis() {
    for (what, options) in [
        ("MariaDB", AppOptions::default().no_cache()),
        ("SQLite", AppOptions::default().sqlite().no_cache()),
    ] {
        let app = spawn_app(options).await;
        assert_eq!(
            app.health().await,
            json!({"status": "ok", "checks": {"database": "ok", "cache": "disabled"}}),
            "{what} without REDIS_URL"
        );
    }
}

#[tokio::test]
async fn the_openapi_document_describes_the_expense_routes() {
    let app = spawn_app(AppOptions::default().sqlite().no_cache()).await;
    let document = send(app.request(Method::GET, "/openapi.json"))
        .await
        .expect_json(200);
    let version = document["openapi"].as_str().unwrap_or_default();
    assert!(
        version.starts_with("3.1"),
        "OpenAPI 3.1 is required, got {version:?}"
    );
    let paths = &document["paths"];
    for (path, methods) in [
        ("/v1/expenses", &["get", "post"][..]),
        ("/v1/expenses/{id}", &["get", "patch", "delete"][..]),
    ] {
        for method in methods {
            assert!(
                paths[path][method].is_object(),
                "the OpenAPI document lacks {method} {path}"
            );
        }
    }
}
