//! The `server` binary itself: start-up rules, the token subcommand, and
//! answers when the database is unreachable.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::Method;

use crate::helpers::{free_port, spawn_app, AppOptions};

/// A generous bound: these tests check that timeouts exist, not speed.
const BOUND: Duration = Duration::from_secs(10);

fn server_command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_server"));
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdin(Stdio::null());
    command
}

#[test]
fn refuses_to_listen_beyond_loopback_without_token_verification() {
    let output = server_command()
        .env("HOST", "0.0.0.0")
        .env("PORT", "0")
        .env("DATABASE_URL", "sqlite::memory:")
        .output()
        .expect("the server binary runs");
    assert!(!output.status.success(), "it must refuse to start");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("refusing"), "{stderr}");
}

/// Every subcommand reads the one configuration first: a bad value stops
/// it before it touches anything, with the variable named on stderr.
#[test]
fn a_bad_setting_stops_every_subcommand_naming_the_variable() {
    let cases = [
        ("PORT", "http", "PORT is not valid: \"http\""),
        ("MIGRATE_ON_START", "no", "MIGRATE_ON_START is not valid"),
        ("LOG_FORMAT", "yaml", "LOG_FORMAT is not valid"),
        (
            "JWT_SECRET",
            "short",
            "JWT_SECRET must be at least 16 characters",
        ),
        (
            "DATABASE_URL",
            "postgres://h/db",
            "DATABASE_URL is not valid",
        ),
    ];
    for (name, value, message) in cases {
        for subcommand in [&["serve"][..], &["migrate"], &["token", "--user", "u"]] {
            let output = server_command()
                .env("DATABASE_URL", "sqlite::memory:")
                .env(name, value)
                .args(subcommand)
                .output()
                .expect("the server binary runs");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(
                output.status.code(),
                Some(1),
                "{name}={value} {subcommand:?}: {stderr}"
            );
            assert!(stderr.starts_with("server: "), "{stderr}");
            assert!(
                stderr.contains(message),
                "{name}={value} {subcommand:?}: {stderr}"
            );
            assert!(
                !stderr.contains(value) || name != "JWT_SECRET",
                "the secret is shown: {stderr}"
            );
        }
    }
}

#[tokio::test]
async fn without_configuration_it_prints_a_working_demo_token() {
    let app = spawn_app(
        AppOptions::default()
            .sqlite()
            .no_cache()
            .without_jwt_secret(),
    )
    .await;
    let output = app.output();
    let token_line = output
        .iter()
        .position(|l| l.starts_with("Token for user demo-user"))
        .and_then(|i| output.get(i + 1))
        .unwrap_or_else(|| panic!("no demo token in {output:#?}"));
    let response = app
        .client
        .get(app.url("/v1/expenses"))
        .bearer_auth(token_line.trim())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn the_token_subcommand_mints_tokens_the_server_accepts() {
    let secret = "a-local-secret-of-enough-length";
    let minted = server_command()
        .args(["token", "--user", "alice", "--hours", "1"])
        .env("JWT_SECRET", secret)
        .output()
        .expect("the server binary runs");
    assert!(
        minted.status.success(),
        "{}",
        String::from_utf8_lossy(&minted.stderr)
    );
    let token = String::from_utf8(minted.stdout).unwrap();
    let app = spawn_app(
        AppOptions::default()
            .sqlite()
            .no_cache()
            .without_jwt_secret()
            .env("JWT_SECRET", secret),
    )
    .await;
    let response = app
        .client
        .get(app.url("/v1/expenses"))
        .bearer_auth(token.trim())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

/// Every kind of request answers 503 problem+json with `Retry-After`,
/// within the bound, when MySQL is at `database_url` but not answering.
async fn assert_unavailable(database_url: String) {
    let app = spawn_app(
        AppOptions::default()
            .no_cache()
            .env("DATABASE_URL", database_url)
            .env("MIGRATE_ON_START", "false"),
    )
    .await;
    let requests = [
        (Method::GET, "/v1/expenses"),
        (
            Method::GET,
            "/v1/expenses/0192f0c4-7a2e-7cc3-9a57-3f1f6f4f2a10",
        ),
        (Method::POST, "/v1/expenses"),
        (Method::GET, "/health"),
    ];
    for (method, path) in requests {
        let started = Instant::now();
        let response = app
            .authed(method.clone(), path, "alice")
            .header("content-type", "application/json")
            .body(r#"{"amount":"1","currency":"USD","date":"2026-01-01"}"#)
            .send()
            .await
            .unwrap();
        assert!(
            started.elapsed() < BOUND,
            "{method} {path} took {:?}",
            started.elapsed()
        );
        assert_eq!(response.status(), 503, "{method} {path}");
        assert!(
            response.headers().contains_key("retry-after"),
            "{method} {path}"
        );
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        let body: serde_json::Value = response.json().await.unwrap();
        if path == "/health" {
            assert_eq!(body["checks"]["database"], "unavailable", "{body}");
        }
        let text = body.to_string().to_lowercase();
        assert!(
            !text.contains("mysql") && !text.contains("refused"),
            "no internals: {body}"
        );
    }
}

#[tokio::test]
async fn a_refusing_database_answers_503_quickly() {
    assert_unavailable(format!("mysql://root@127.0.0.1:{}/nothing", free_port())).await;
}

#[tokio::test]
async fn a_database_that_never_answers_answers_503_within_the_budget() {
    // Accepts connections and never says a word.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    assert_unavailable(format!("mysql://root@127.0.0.1:{port}/nothing")).await;
    silent.abort();
}
