//! Dependencies failing under a running server, and hostile concurrency:
//! MariaDB stopped and started again, Redis killed and restarted under a
//! steady loop, racing conditional writes, absurdly nested JSON. Each test
//! runs its own MariaDB or Redis on a spare port; the shared ones are never
//! stopped.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use serde_json::json;

use crate::helpers::{spawn_app, AppOptions, RedisServer, SQL_MODE};
use crate::mariadb_server::MariaDbServer;

/// A generous bound: the timeouts exist; speed is measured elsewhere.
const BOUND: Duration = Duration::from_secs(10);

#[tokio::test]
async fn a_mariadb_outage_answers_503_quickly_and_loses_nothing() {
    let mut db = MariaDbServer::start().await;
    let mut root = db.connect("mysql").await.unwrap();
    root.query_drop("CREATE DATABASE expenses").await.unwrap();
    drop(root);
    let app = spawn_app(
        AppOptions::default()
            .sqlite()
            .no_cache()
            .env("DATABASE_URL", db.url("expenses"))
            .env("DATABASE_SQL_MODE", SQL_MODE),
    )
    .await;
    let mut acknowledged = Vec::new();
    for i in 0..20 {
        let created = app
            .create_expense(
                "survivor",
                &json!({"amount": format!("{i}.50"), "currency": "EUR", "date": "2026-11-28"}),
            )
            .await;
        acknowledged.push(created["id"].as_str().unwrap().to_owned());
    }

    db.stop();
    let mut slowest = Duration::ZERO;
    for (method, path) in [
        ("GET", "/v1/expenses"),
        ("POST", "/v1/expenses"),
        ("GET", "/health"),
    ] {
        let started = Instant::now();
        let response = app
            .authed(method.parse().unwrap(), path, "survivor")
            .header("content-type", "application/json")
            .body(r#"{"amount":"1","currency":"EUR","date":"2026-11-28"}"#)
            .send()
            .await
            .unwrap();
        let took = started.elapsed();
        slowest = slowest.max(took);
        assert!(took < BOUND, "{method} {path} took {took:?}");
        assert_eq!(response.status(), 503, "{method} {path}");
        assert!(response.headers().contains_key("retry-after"));
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        let body: serde_json::Value = response.json().await.unwrap();
        if path == "/health" {
            assert_eq!(body["checks"]["database"], "unavailable", "{body}");
        }
    }
    println!("time to 503 with MariaDB down: at most {slowest:?}");

    // Back again: the same server process recovers on its own.
    db.resume().await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while app.get("/health", "survivor").await.status != 200 {
        assert!(
            Instant::now() < deadline,
            "no recovery within 30 s of MariaDB's return"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for id in &acknowledged {
        app.get(&format!("/v1/expenses/{id}"), "survivor")
            .await
            .assert_status(200);
    }
    let page = app
        .get("/v1/expenses?limit=200", "survivor")
        .await
        .expect_json(200);
    assert_eq!(
        page["items"].as_array().unwrap().len(),
        acknowledged.len(),
        "every acknowledged write survived"
    );
}

#[tokio::test]
async fn redis_dying_and_returning_under_load_fails_nothing_and_serves_nothing_stale() {
    let mut redis = RedisServer::start().await;
    let app = spawn_app(AppOptions::default().sqlite().redis_url(redis.url.clone())).await;
    let created = app
        .create_expense(
            "looper",
            &json!({"amount": "1", "currency": "EUR", "date": "2026-11-28", "merchant": "v0"}),
        )
        .await;
    let path = format!("/v1/expenses/{}", created["id"].as_str().unwrap());
    for i in 1..=300 {
        if i == 100 {
            redis.kill();
        }
        if i == 200 {
            redis.restart().await;
        }
        let merchant = format!("v{i}");
        app.patch(&path, "looper", &json!({"merchant": merchant}), None)
            .await
            .assert_status(200);
        let got = app.get(&path, "looper").await.expect_json(200);
        assert_eq!(got["merchant"], merchant.as_str(), "read {i} is stale");
        let page = app.get("/v1/expenses", "looper").await.expect_json(200);
        assert_eq!(
            page["items"][0]["merchant"],
            merchant.as_str(),
            "list {i} is stale"
        );
    }
}

#[tokio::test]
async fn racing_conditional_patches_win_once_per_version() {
    let app = spawn_app(AppOptions::default()).await;
    let created = app
        .create_expense(
            "racer",
            &json!({"amount": "1", "currency": "EUR", "date": "2026-11-28"}),
        )
        .await;
    let path = format!("/v1/expenses/{}", created["id"].as_str().unwrap());
    let app = std::sync::Arc::new(app);
    let tasks: Vec<_> = (0..12)
        .map(|task| {
            let (app, path) = (app.clone(), path.clone());
            tokio::spawn(async move {
                let (mut won, mut refused) = (Vec::new(), 0);
                for round in 0..6 {
                    let current = app.get(&path, "racer").await.expect_json(200);
                    let etag = format!("\"{}\"", current["version"]);
                    let body = json!({"description": format!("task {task} round {round}")});
                    let response = app.patch(&path, "racer", &body, Some(&etag)).await;
                    match response.status {
                        200 => won.push(response.json()["version"].as_i64().unwrap()),
                        412 => refused += 1,
                        other => panic!("PATCH answered {other}: {}", response.body),
                    }
                }
                (won, refused)
            })
        })
        .collect();
    let mut versions = Vec::new();
    let mut refusals = 0;
    for task in tasks {
        let (won, refused) = task.await.unwrap();
        versions.extend(won);
        refusals += refused;
    }
    let unique: BTreeSet<i64> = versions.iter().copied().collect();
    assert_eq!(
        unique.len(),
        versions.len(),
        "two writers won the same version: {versions:?}"
    );
    let last = app.get(&path, "racer").await.expect_json(200)["version"]
        .as_i64()
        .unwrap();
    assert_eq!(
        last,
        1 + versions.len() as i64,
        "the version counts the successful writes"
    );
    assert_eq!(
        unique,
        (2..=last).collect::<BTreeSet<i64>>(),
        "every version was won exactly once"
    );
    assert!(
        refusals > 0,
        "the race never happened; raise the task count"
    );
}

#[tokio::test]
async fn deeply_nested_json_is_a_400_not_a_crash() {
    let app = spawn_app(AppOptions::default().sqlite().no_cache()).await;
    let deep = format!("{}{}", "[".repeat(200_000), "]".repeat(200_000));
    let response = app
        .authed("POST".parse().unwrap(), "/v1/expenses", "nester")
        .header("content-type", "application/json")
        .body(deep)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    app.get("/v1/expenses", "nester").await.assert_status(200);
}

#[tokio::test]
async fn every_response_carries_nosniff_and_no_store() {
    let app = spawn_app(AppOptions::default().sqlite().no_cache()).await;
    let created = app
        .create_expense(
            "headers",
            &json!({"amount": "1", "currency": "EUR", "date": "2026-11-28"}),
        )
        .await;
    let id = created["id"].as_str().unwrap();
    let responses = [
        app.get(&format!("/v1/expenses/{id}"), "headers").await,
        app.get("/v1/expenses", "headers").await,
        app.get("/v1/expenses?limit=0", "headers").await,
        app.get("/v1/nowhere", "headers").await,
        app.get("/health", "headers").await,
        app.post_json("/v1/expenses", "headers", &json!({"amount": 1}))
            .await,
    ];
    for response in &responses {
        assert_eq!(
            response.header("x-content-type-options"),
            Some("nosniff"),
            "{}",
            response.what
        );
        assert_eq!(
            response.header("cache-control"),
            Some("no-store"),
            "{}",
            response.what
        );
    }
}

#[tokio::test]
async fn pages_never_repeat_an_expense_while_others_are_created_and_deleted_concurrently() {
    let app = std::sync::Arc::new(spawn_app(AppOptions::default()).await);
    let mut existing = BTreeSet::new();
    for i in 0..150 {
        let date = format!("2026-{:02}-{:02}", 1 + i % 12, 1 + i % 28);
        let created = app
            .create_expense(
                "walker",
                &json!({"amount": "1", "currency": "EUR", "date": date}),
            )
            .await;
        existing.insert(created["id"].as_str().unwrap().to_owned());
    }
    // Churn: a task creating and deleting expenses while the walk runs.
    let churn = {
        let app = app.clone();
        tokio::spawn(async move {
            for i in 0..200 {
                let date = format!("2026-{:02}-{:02}", 1 + i % 12, 1 + (i * 7) % 28);
                let created = app
                    .create_expense(
                        "walker",
                        &json!({"amount": "2", "currency": "EUR", "date": date}),
                    )
                    .await;
                if i % 2 == 0 {
                    let path = format!("/v1/expenses/{}", created["id"].as_str().unwrap());
                    app.delete(&path, "walker", None).await.assert_status(204);
                }
            }
        })
    };
    let mut seen = BTreeSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/expenses?limit=9&cursor={c}"),
            None => "/v1/expenses?limit=9".to_owned(),
        };
        let page = app.get(&path, "walker").await.expect_json(200);
        for item in page["items"].as_array().unwrap() {
            let id = item["id"].as_str().unwrap().to_owned();
            assert!(seen.insert(id.clone()), "{id} returned twice");
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    churn.await.unwrap();
    assert!(
        existing.is_subset(&seen),
        "an expense that existed throughout was skipped"
    );
}
