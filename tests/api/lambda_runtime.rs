//! The real `bootstrap` binary (every Lambda function's artifact) run
//! against a Lambda Runtime API of this test's own, as `provided.al2023`
//! runs it: `_HANDLER` chooses the job; a function that receives another
//! operation's request answers 404 and never runs it; an unknown handler
//! does not start. The database is a fresh MariaDB one.

use std::collections::VecDeque;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::routing::{get, post};
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::helpers::{test_redis_url, RedisPrefix, TestDb};

const FIXTURE_SECRET: &str = "events-fixture-secret";

/// The binary beside the test executable's `deps/` folder (cargo builds
/// every workspace binary for the test run).
fn bootstrap_binary() -> std::path::PathBuf {
    let test_exe = std::env::current_exe().expect("the test executable");
    let dir = test_exe
        .parent()
        .and_then(|d| d.parent())
        .expect("target/<profile>");
    let path = dir.join("bootstrap");
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --workspace --bins` first (scripts/test.sh does)",
        path.display()
    );
    path
}

#[derive(Clone)]
struct Runtime {
    events: Arc<Mutex<VecDeque<(String, String)>>>,
    answers: mpsc::UnboundedSender<(String, Value)>,
}

async fn next(State(rt): State<Runtime>) -> (HeaderMap, String) {
    loop {
        let event = rt.events.lock().unwrap().pop_front();
        if let Some((id, body)) = event {
            let mut headers = HeaderMap::new();
            let deadline = (crate::helpers::unix_now() + 30) * 1000;
            headers.insert(
                "lambda-runtime-aws-request-id",
                HeaderValue::from_str(&id).unwrap(),
            );
            headers.insert("lambda-runtime-deadline-ms", HeaderValue::from(deadline));
            headers.insert(
                "lambda-runtime-invoked-function-arn",
                HeaderValue::from_static("arn:aws:lambda:us-east-1:123456789012:function:test"),
            );
            headers.insert(
                "lambda-runtime-trace-id",
                HeaderValue::from_static("Root=1-0-0"),
            );
            return (headers, body);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn answer(State(rt): State<Runtime>, Path((id, kind)): Path<(String, String)>, body: String) {
    let value = serde_json::from_str(&body).unwrap_or(Value::String(body));
    let _ = rt.answers.send((format!("{id}/{kind}"), value));
}

async fn init_error(State(rt): State<Runtime>, body: String) {
    let _ = rt.answers.send(("init/error".into(), Value::String(body)));
}

/// One function process: its runtime API, the events it will get and the
/// answers it gave.
struct Function {
    runtime: Runtime,
    answers: mpsc::UnboundedReceiver<(String, Value)>,
    child: std::process::Child,
    seq: usize,
}

impl Function {
    async fn start(handler: &str, database_url: &str) -> Function {
        Function::start_with(handler, database_url, &[]).await
    }

    /// As `start`, with more environment variables.
    async fn start_with(handler: &str, database_url: &str, env: &[(&str, &str)]) -> Function {
        let (tx, rx) = mpsc::unbounded_channel();
        let runtime = Runtime {
            events: Arc::default(),
            answers: tx,
        };
        let api = axum::Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/{kind}", post(answer))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(runtime.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, api).await });
        let child = std::process::Command::new(bootstrap_binary())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
            .env("_HANDLER", handler)
            .env("AWS_LAMBDA_FUNCTION_NAME", format!("test-{handler}"))
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "stream")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "group")
            .env("DATABASE_URL", database_url)
            .env("DATABASE_SQL_MODE", crate::helpers::SQL_MODE)
            .env("JWT_SECRET", FIXTURE_SECRET)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("bootstrap starts");
        Function {
            runtime,
            answers: rx,
            child,
            seq: 0,
        }
    }

    /// Invokes the function with `event`; its answer.
    async fn invoke(&mut self, event: String) -> Value {
        self.seq += 1;
        let id = format!("req-{}", self.seq);
        self.runtime
            .events
            .lock()
            .unwrap()
            .push_back((id.clone(), event));
        let (key, value) = tokio::time::timeout(Duration::from_secs(30), self.answers.recv())
            .await
            .expect("an answer within 30 s")
            .expect("the runtime API is up");
        assert_eq!(key, format!("{id}/response"), "{value}");
        value
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn fixture(function: &str) -> String {
    let path = format!("{}/../events/{function}.json", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn status(answer: &Value) -> u64 {
    answer["statusCode"]
        .as_u64()
        .unwrap_or_else(|| panic!("no statusCode: {answer}"))
}

#[tokio::test]
async fn each_handler_does_its_own_job_only() {
    let db = TestDb::create().await;

    let mut migrate = Function::start("migrate", &db.url).await;
    let applied = migrate.invoke("{}".into()).await;
    assert!(applied["applied"].as_u64().unwrap() >= 1, "{applied}");

    let mut health = Function::start("health", &db.url).await;
    let answer = health.invoke(fixture("health")).await;
    assert_eq!(status(&answer), 200, "{answer}");

    // get-expense must not create an expense from a create-expense event.
    let mut get = Function::start("get-expense", &db.url).await;
    let answer = get.invoke(fixture("create-expense")).await;
    assert_eq!(status(&answer), 404, "{answer}");

    let mut fallback = Function::start("fallback", &db.url).await;
    let listed = fallback.invoke(fixture("list-expenses")).await;
    assert_eq!(status(&listed), 200, "{listed}");
    let body: Value = serde_json::from_str(listed["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        body["items"],
        json!([]),
        "the misrouted request wrote nothing"
    );
    let created = fallback.invoke(fixture("create-expense")).await;
    assert_eq!(
        status(&created),
        201,
        "the fallback serves every route: {created}"
    );

    // The deployment's last step: the migrate function's backfill finds
    // the expense just created.
    let backfilled = migrate.invoke(r#"{"backfill": true}"#.into()).await;
    assert_eq!(
        (
            &backfilled["backfilled_users"],
            &backfilled["backfilled_months"]
        ),
        (&json!(1), &json!(1)),
        "{backfilled}"
    );

    let mut purge = Function::start("purge-idempotency", &db.url).await;
    let purged = purge.invoke("{}".into()).await;
    assert_eq!(purged["purged"], 0, "{purged}");
}

#[tokio::test]
async fn an_unknown_handler_does_not_start() {
    let db = TestDb::create().await;
    let mut function = Function::start("no-such-function", &db.url).await;
    let mut waited = Duration::ZERO;
    let exit = loop {
        if let Some(exit) = function.child.try_wait().unwrap() {
            break exit;
        }
        assert!(waited < Duration::from_secs(30), "still running after 30 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += Duration::from_millis(50);
    };
    assert!(!exit.success());
}

/// A TCP proxy to `target` that holds each new connection for `delay`
/// before it passes anything: a Redis that is up but slow to connect to.
async fn slow_to_connect(target: String, delay: Duration) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("redis://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let target = target.clone();
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                if let Ok(mut server) = tokio::net::TcpStream::connect(&target).await {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                }
            });
        }
    });
    (url, task)
}

/// A write from a function that has only just started, before its Redis
/// connection is up, still invalidates what other functions cached: the
/// caller reads its write at once (API.md, "Consistency and the cache").
#[tokio::test]
async fn a_cold_function_s_first_write_invalidates_the_cache() {
    let db = TestDb::create().await;
    Function::start("migrate", &db.url)
        .await
        .invoke("{}".into())
        .await;
    let keys = RedisPrefix::unique();
    let redis = test_redis_url();
    // `redis://host:port[/db]`: the proxy goes to host:port, keeping the db.
    let rest = redis
        .strip_prefix("redis://")
        .expect("a redis:// TEST_REDIS_URL");
    let (redis_address, database) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let shared = [
        ("CACHE_KEY_PREFIX", keys.prefix()),
        ("REDIS_URL", redis.as_str()),
    ];
    let list_event = fixture("get-expense").replace(
        "/v1/expenses/0192f0c4-7a2e-7cc3-9a57-3f1f6f4f2a10",
        "/v1/expenses",
    );
    let mut reader = Function::start_with("list-expenses", &db.url, &shared).await;
    let listed = |answer: Value| -> Value {
        assert_eq!(status(&answer), 200, "{answer}");
        serde_json::from_str::<Value>(answer["body"].as_str().unwrap()).unwrap()["items"].clone()
    };
    // The reader's Redis connection comes up; then its empty list is cached.
    let mut cached = false;
    for _ in 0..50 {
        assert_eq!(listed(reader.invoke(list_event.clone()).await), json!([]));
        let found = crate::helpers::redis_keys(&redis, keys.prefix()).await;
        if found.iter().any(|k| !k.ends_with(":gen")) {
            cached = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(cached, "the reader never cached its list");

    let (proxy_url, proxy) =
        slow_to_connect(redis_address.to_owned(), Duration::from_millis(200)).await;
    let slow_url = format!("{proxy_url}{database}");
    let writer_env = [
        ("CACHE_KEY_PREFIX", keys.prefix()),
        ("REDIS_URL", slow_url.as_str()),
    ];
    let mut writer = Function::start_with("create-expense", &db.url, &writer_env).await;
    let created = writer.invoke(fixture("create-expense")).await;
    assert_eq!(status(&created), 201, "{created}");
    let id =
        serde_json::from_str::<Value>(created["body"].as_str().unwrap()).unwrap()["id"].clone();

    let items = listed(reader.invoke(list_event).await);
    assert_eq!(
        items
            .as_array()
            .map(|i| i.iter().map(|e| e["id"].clone()).collect::<Vec<_>>()),
        Some(vec![id]),
        "the list read right after the write must show it"
    );
    proxy.abort();
}
