//! TLS to the dependencies, as on AWS: MySQL (RDS Proxy or RDS, TLS
//! required) and Redis (ElastiCache with in-transit encryption and an AUTH
//! token). Each test runs a TLS-only server of its own whose certificate a
//! private CA signed; the app must verify it, so trusting that CA
//! (`DB_CA_BUNDLE`, `REDIS_CA_BUNDLE`) is what makes the connection work.

use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use reqwest::Method;
use serde_json::Value;

use crate::helpers::*;
use crate::mariadb_server::MariaDbServer;
use crate::pki::{path_str, TestPki};

const USER: &str = "tls-user";

#[tokio::test]
async fn mysql_over_tls_verifies_the_server_certificate() {
    let pki = TestPki::new();
    let db = MariaDbServer::start_tls(&pki).await;
    let mut root = db.connect("mysql").await.unwrap();
    root.query_drop("CREATE DATABASE expenses").await.unwrap();
    drop(root);
    // The server refuses plain connections (require_secure_transport), so
    // anything that works below went over TLS.
    let options = || {
        AppOptions::default()
            .sqlite()
            .no_cache()
            .env("DATABASE_URL", db.url("expenses"))
            .env("DATABASE_SQL_MODE", SQL_MODE)
    };

    let app = spawn_app(options().env("DB_CA_BUNDLE", path_str(&pki.files.ca))).await;
    let created = app
        .create_expense(USER, &expense_body("12.34", "EUR", "2026-11-28"))
        .await;
    assert_eq!(app.get_expense(USER, &id_of(&created)).await, created);
    let mut conn = db.connect("expenses").await.unwrap();
    let stored: Option<u64> = conn
        .query_first("SELECT COUNT(*) FROM expenses")
        .await
        .unwrap();
    assert_eq!(stored, Some(1), "the expense is in the TLS-only database");

    // Without the CA, the certificate is refused: 503, never a plain
    // connection, and nothing written.
    let untrusted = spawn_app(options().env("MIGRATE_ON_START", "false")).await;
    for (method, path) in [(Method::GET, "/health"), (Method::POST, "/v1/expenses")] {
        let response = untrusted
            .authed(method.clone(), path, USER)
            .json(&expense_body("1", "EUR", "2026-11-28"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 503, "{method} {path}");
        let body: Value = response.json().await.unwrap();
        if path == "/health" {
            assert_eq!(body["checks"]["database"], "unavailable", "{body}");
        }
    }
    let stored: Option<u64> = conn
        .query_first("SELECT COUNT(*) FROM expenses")
        .await
        .unwrap();
    assert_eq!(stored, Some(1));
}

/// Polls `/health` for up to `wait` until the cache check is `want`; the
/// connection to Redis is made in the background (one attempt a second).
async fn cache_check(app: &TestApp, want: &str, wait: Duration) -> Value {
    let deadline = Instant::now() + wait;
    loop {
        let health = app.health().await;
        if health["checks"]["cache"] == want || Instant::now() > deadline {
            return health;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn rediss_with_auth_caches_and_verifies_the_server_certificate() {
    let pki = TestPki::new();
    let password = random_hex(32);
    let redis = RedisServer::start_tls(&pki, &password).await;
    let ca = path_str(&pki.files.ca).to_owned();

    let app = spawn_app(
        AppOptions::default()
            .redis_url(&redis.url)
            .env("REDIS_CA_BUNDLE", &ca),
    )
    .await;
    let health = cache_check(&app, "ok", Duration::from_secs(10)).await;
    assert_eq!(health["checks"]["cache"], "ok", "{health}");
    let created = app
        .create_expense(USER, &expense_body("4.20", "USD", "2026-11-28"))
        .await;
    for _ in 0..3 {
        assert_eq!(app.get_expense(USER, &id_of(&created)).await, created);
    }
    let keys = redis_keys(&redis.admin_url(), &app.cache_prefix).await;
    assert!(!keys.is_empty(), "nothing cached over rediss://");

    // A wrong AUTH token, or a certificate the app does not trust: no
    // cache, and every request still answers from the database.
    let wrong_password = redis.url.replace(&password, "not-the-token");
    let refused = [
        (
            "wrong AUTH token",
            AppOptions::default()
                .redis_url(wrong_password)
                .env("REDIS_CA_BUNDLE", &ca),
        ),
        (
            "untrusted certificate",
            AppOptions::default().redis_url(&redis.url),
        ),
    ];
    for (what, options) in refused {
        let app = spawn_app(options).await;
        let created = app
            .create_expense(USER, &expense_body("1.00", "USD", "2026-11-28"))
            .await;
        for _ in 0..3 {
            assert_eq!(
                app.get_expense(USER, &id_of(&created)).await,
                created,
                "{what}"
            );
        }
        // Give a few background connection attempts time to (wrongly) succeed.
        let health = cache_check(&app, "ok", Duration::from_secs(4)).await;
        assert_eq!(health["checks"]["cache"], "unavailable", "{what}: {health}");
        let keys = redis_keys(&redis.admin_url(), &app.cache_prefix).await;
        assert!(keys.is_empty(), "{what}: cached anyway: {keys:?}");
    }
}
