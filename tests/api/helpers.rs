//! The harness: a fresh MariaDB database and Redis key prefix per test, the
//! `server` binary started on a free port against them, tokens, and request
//! helpers that fail the test on any 5xx answer.
//!
//! Environment: `TEST_DATABASE_URL` (default `mysql://root@127.0.0.1:3306`)
//! and `TEST_REDIS_URL` (default `redis://127.0.0.1:6379`). When a test needs
//! one of them and it is unreachable, the test fails loudly: it never skips.
//! Only databases named `et_test_<pid>_<hex>` and Redis keys under this
//! app's own `et_test_<pid>_<hex>:` prefix are ever created or removed.

#![allow(dead_code)]

use std::collections::{BTreeSet, VecDeque};
use std::future::Future;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex, Once};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mysql_async::prelude::Queryable;
use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};

use crate::pki::{CertFiles, TestPki};

pub const DEFAULT_DATABASE_URL: &str = "mysql://root@127.0.0.1:3306";
pub const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";
/// MySQL 8's default `sql_mode`, so that MariaDB is as strict as production.
pub const SQL_MODE: &str = "ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,\
                        ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION";
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Lines of server output kept, printed when a test fails.
const LOG_TAIL: usize = 200;
/// Variables of the test's own environment the server may see; everything
/// else (a stray `DATABASE_URL`, `REDIS_URL`, `AWS_LAMBDA_*`…) is withheld.
const INHERITED_ENV: [&str; 5] = [
    "PATH",
    "HOME",
    "TMPDIR",
    "RUST_BACKTRACE",
    "LLVM_PROFILE_FILE",
];

pub const MERGE_PATCH: &str = "application/merge-patch+json";
pub const JSON: &str = "application/json";

// ---------------------------------------------------------------------------
// Names, time, environment

pub fn test_database_url() -> String {
    env_or("TEST_DATABASE_URL", DEFAULT_DATABASE_URL)
}

pub fn test_redis_url() -> String {
    env_or("TEST_REDIS_URL", DEFAULT_REDIS_URL)
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

/// `len` random lower-case hex digits.
pub fn random_hex(len: usize) -> String {
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut out = String::with_capacity(len + 16);
    while out.len() < len {
        // RandomState is seeded from the OS once per process and differs
        // per instance; the counter and the clock make every call unique.
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        hasher.write_u128(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos(),
        );
        out.push_str(&format!("{:016x}", hasher.finish()));
    }
    out.truncate(len);
    out
}

/// `et_test_<pid>_<hex>`: the only kind of name this suite creates.
pub fn unique_name() -> String {
    format!("et_test_{}_{}", std::process::id(), random_hex(12))
}

pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs() as i64
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free local port")
        .port()
}

/// Runs a future to completion on a fresh runtime in its own thread, so
/// that `Drop` impls can do async clean-up whether or not they run inside
/// the test's runtime.
fn run_on_side_runtime<F>(make: impl FnOnce() -> F + Send + 'static) -> F::Output
where
    F: Future,
    F::Output: Send + 'static,
{
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a clean-up runtime")
            .block_on(make())
    })
    .join()
    .expect("the clean-up thread panicked")
}

// ---------------------------------------------------------------------------
// MariaDB

/// A database of its own for one test, dropped with it.
pub struct TestDb {
    pub name: String,
    /// `DATABASE_URL` for the server: `TEST_DATABASE_URL` with this database.
    pub url: String,
    admin_url: String,
}

impl TestDb {
    pub async fn create() -> TestDb {
        let admin_url = test_database_url();
        let name = unique_name();
        let mut conn = mysql_connect(&admin_url).await;
        // The server's default character set, not a binary collation: the
        // server's migrations must choose collations themselves.
        conn.query_drop(format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
            .await
            .unwrap_or_else(|e| panic!("cannot create test database {name} at {admin_url}: {e}"));
        let _ = conn.disconnect().await;
        let url = url_with_database(&admin_url, &name);
        TestDb {
            name,
            url,
            admin_url,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (url, name) = (self.admin_url.clone(), self.name.clone());
        let dropped = run_on_side_runtime(move || async move {
            let opts = mysql_async::Opts::from_url(&url).map_err(|e| e.to_string())?;
            let mut conn = mysql_async::Conn::new(opts)
                .await
                .map_err(|e| e.to_string())?;
            // A connection of this test left inside a transaction holds
            // metadata locks that DROP DATABASE would wait for without end
            // (lock_wait_timeout defaults to a year): wait a while, then end
            // this test's own connections and drop it, reporting the leak.
            conn.query_drop("SET SESSION lock_wait_timeout = 30")
                .await
                .map_err(|e| e.to_string())?;
            let drop_it = format!("DROP DATABASE IF EXISTS `{name}`");
            let leak = match conn.query_drop(&drop_it).await {
                Ok(()) => None,
                Err(e) => {
                    let holders: Vec<u64> = conn
                        .exec(
                            "SELECT id FROM information_schema.processlist \
                             WHERE db = ? AND id <> CONNECTION_ID()",
                            (&name,),
                        )
                        .await
                        .map_err(|e| e.to_string())?;
                    for id in &holders {
                        let _ = conn.query_drop(format!("KILL CONNECTION {id}")).await;
                    }
                    conn.query_drop(&drop_it).await.map_err(|e| e.to_string())?;
                    Some(format!(
                        "{e}; ended {} connections of the test",
                        holders.len()
                    ))
                }
            };
            conn.disconnect().await.map_err(|e| e.to_string())?;
            leak.map_or(Ok(()), Err)
        });
        if let Err(e) = dropped {
            eprintln!("could not drop test database {}: {e}", self.name);
        }
    }
}

async fn mysql_connect(url: &str) -> mysql_async::Conn {
    let opts = mysql_async::Opts::from_url(url)
        .unwrap_or_else(|e| panic!("TEST_DATABASE_URL={url:?} is not a MySQL URL: {e}"));
    mysql_async::Conn::new(opts).await.unwrap_or_else(|e| {
        panic!(
            "MariaDB is unreachable at {url} ({e}): start it, or point TEST_DATABASE_URL at \
             one; these tests never skip"
        )
    })
}

/// `base` (a server URL, maybe with a path and query) naming `database`.
fn url_with_database(base: &str, database: &str) -> String {
    let mut url = reqwest::Url::parse(base)
        .unwrap_or_else(|e| panic!("TEST_DATABASE_URL={base:?} is not a URL: {e}"));
    url.set_path(&format!("/{database}"));
    url.to_string()
}

// ---------------------------------------------------------------------------
// Redis

pub async fn redis_connection(url: &str) -> redis::aio::MultiplexedConnection {
    let connected = tokio::time::timeout(Duration::from_secs(5), try_redis_connection(url))
        .await
        .unwrap_or_else(|_| panic!("Redis at {url} did not answer within 5 s"));
    connected.unwrap_or_else(|e| {
        panic!(
            "Redis is unreachable at {url} ({e}): start it, or point TEST_REDIS_URL at one; \
             these tests never skip"
        )
    })
}

async fn try_redis_connection(url: &str) -> redis::RedisResult<redis::aio::MultiplexedConnection> {
    let client = redis::Client::open(url)?;
    let mut con = client.get_multiplexed_async_connection().await?;
    redis::cmd("PING").query_async::<String>(&mut con).await?;
    Ok(con)
}

async fn scan_keys(
    con: &mut redis::aio::MultiplexedConnection,
    prefix: &str,
) -> redis::RedisResult<Vec<String>> {
    let mut keys = Vec::new();
    let mut cursor: u64 = 0;
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{prefix}*"))
            .arg("COUNT")
            .arg(1000)
            .query_async(con)
            .await?;
        keys.extend(batch);
        if next == 0 {
            return Ok(keys);
        }
        cursor = next;
    }
}

/// Every key of the Redis at `url` that starts with `prefix`.
pub async fn redis_keys(url: &str, prefix: &str) -> Vec<String> {
    let mut con = redis_connection(url).await;
    scan_keys(&mut con, prefix)
        .await
        .unwrap_or_else(|e| panic!("SCAN on {url} failed: {e}"))
}

/// One section of `INFO`, as text.
pub async fn redis_info(url: &str, section: &str) -> String {
    let mut con = redis_connection(url).await;
    redis::cmd("INFO")
        .arg(section)
        .query_async(&mut con)
        .await
        .unwrap_or_else(|e| panic!("INFO {section} on {url} failed: {e}"))
}

/// One numeric field of `INFO stats`, e.g. `keyspace_hits`.
pub async fn redis_stat(url: &str, name: &str) -> u64 {
    let info = redis_info(url, "stats").await;
    info.lines()
        .find_map(|line| line.trim().strip_prefix(&format!("{name}:")))
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("INFO stats of {url} has no numeric {name}: {info}"))
}

/// The keys one app wrote to the shared Redis, deleted when dropped.
pub struct RedisPrefix {
    url: String,
    prefix: String,
}

impl RedisPrefix {
    /// A new unique prefix (ending in `:`) on the shared Redis.
    pub fn unique() -> RedisPrefix {
        RedisPrefix {
            url: test_redis_url(),
            prefix: format!("{}:", unique_name()),
        }
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }
}

impl Drop for RedisPrefix {
    fn drop(&mut self) {
        let (url, prefix) = (self.url.clone(), self.prefix.clone());
        let deleted = run_on_side_runtime(move || async move {
            let mut con = try_redis_connection(&url).await?;
            let keys = scan_keys(&mut con, &prefix).await?;
            for chunk in keys.chunks(500) {
                redis::cmd("DEL")
                    .arg(chunk)
                    .query_async::<()>(&mut con)
                    .await?;
            }
            Ok::<(), redis::RedisError>(())
        });
        if let Err(e) = deleted {
            eprintln!("could not delete Redis keys {}*: {e}", self.prefix);
        }
    }
}

/// A `redis-server` of the test's own on a free port, killed when dropped.
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    tls: Option<RedisTls>,
    /// The URL for the app.
    pub url: String,
}

/// A TLS-only server's certificate files and AUTH password.
#[derive(Clone)]
struct RedisTls {
    files: CertFiles,
    password: String,
}

impl RedisServer {
    pub async fn start() -> RedisServer {
        RedisServer::start_on(free_port(), None).await
    }

    /// A server that speaks TLS only, presenting `pki`'s server certificate,
    /// and requires `password` (AUTH), as ElastiCache with in-transit
    /// encryption does; `url` is `rediss://:<password>@127.0.0.1:<port>`.
    pub async fn start_tls(pki: &TestPki, password: &str) -> RedisServer {
        let tls = RedisTls {
            files: pki.files.clone(),
            password: password.to_owned(),
        };
        RedisServer::start_on(free_port(), Some(tls)).await
    }

    /// The URL for the test's own connections (`redis_keys`, …): with TLS,
    /// certificate checks off, since it is the app's checks under test.
    pub fn admin_url(&self) -> String {
        match self.tls {
            Some(_) => format!("{}/#insecure", self.url),
            None => self.url.clone(),
        }
    }

    /// Starts a fresh (empty) server on the port this one used.
    pub async fn restart(&mut self) {
        self.kill();
        *self = RedisServer::start_on(self.port, self.tls.clone()).await;
    }

    async fn start_on(port: u16, tls: Option<RedisTls>) -> RedisServer {
        let mut command = Command::new("redis-server");
        command
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(std::env::temp_dir());
        let url = match &tls {
            None => {
                command.args(["--port", &port.to_string()]);
                format!("redis://127.0.0.1:{port}")
            }
            Some(tls) => {
                command
                    .args(["--port", "0", "--tls-port", &port.to_string()])
                    .arg("--tls-cert-file")
                    .arg(&tls.files.cert)
                    .arg("--tls-key-file")
                    .arg(&tls.files.key)
                    .arg("--tls-ca-cert-file")
                    .arg(&tls.files.ca)
                    .args(["--tls-auth-clients", "no"])
                    .args(["--requirepass", &tls.password]);
                format!("rediss://:{}@127.0.0.1:{port}", tls.password)
            }
        };
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start redis-server (is it installed?): {e}"));
        let server = RedisServer {
            child: Some(child),
            port,
            tls,
            url,
        };
        let admin_url = server.admin_url();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let attempt =
                tokio::time::timeout(Duration::from_secs(1), try_redis_connection(&admin_url));
            let error = match attempt.await {
                Ok(Ok(_)) => return server,
                Ok(Err(e)) => e.to_string(),
                Err(_) => "no answer within 1 s".to_owned(),
            };
            assert!(
                Instant::now() < deadline,
                "redis-server on port {port} did not answer PING within 10 s: {error}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Kills the server at once (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

// ---------------------------------------------------------------------------
// The server process

/// The running `server` binary, killed when dropped; its output is kept
/// and printed if the test is failing.
struct ServerProcess {
    child: Child,
    log: Arc<Mutex<VecDeque<String>>>,
}

impl ServerProcess {
    /// Starts the binary and waits for its `listening on http://…` line;
    /// returns it with the base URL.
    async fn start(env: Vec<(String, String)>) -> (ServerProcess, String) {
        let mut command = Command::new(env!("CARGO_BIN_EXE_server"));
        command.env_clear();
        for name in INHERITED_ENV {
            if let Some(value) = std::env::var_os(name) {
                command.env(name, value);
            }
        }
        command
            .envs(env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the server binary: {e}"));
        let log = Arc::new(Mutex::new(VecDeque::new()));
        let (ready, listening) = mpsc::channel();
        drain(
            child.stdout.take().expect("piped stdout"),
            log.clone(),
            Some(ready),
        );
        drain(
            child.stderr.take().expect("piped stderr"),
            log.clone(),
            None,
        );
        let mut server = ServerProcess { child, log };
        let waited = tokio::task::spawn_blocking(move || listening.recv_timeout(STARTUP_TIMEOUT))
            .await
            .expect("the start-up waiter");
        match waited {
            Ok(base_url) => (server, base_url),
            Err(e) => {
                let status = server.child.try_wait();
                panic!(
                    "the server did not print `listening on http://…` ({e:?}; exit status \
                     {status:?}); its output follows"
                )
            }
        }
    }
}

/// Reads `stream` line by line until it closes, so the child never blocks
/// on a full pipe; keeps the last lines; reports the listening URL.
fn drain(
    stream: impl Read + Send + 'static,
    log: Arc<Mutex<VecDeque<String>>>,
    mut ready: Option<mpsc::Sender<String>>,
) {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut raw = Vec::new();
        loop {
            raw.clear();
            match reader.read_until(b'\n', &mut raw) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let line = String::from_utf8_lossy(&raw).trim_end().to_owned();
            if let Some(url) = line.trim().strip_prefix("listening on ") {
                if url.starts_with("http://") {
                    if let Some(ready) = ready.take() {
                        let _ = ready.send(url.trim_end_matches('/').to_owned());
                    }
                }
            }
            let mut log = log.lock().unwrap_or_else(|e| e.into_inner());
            if log.len() == LOG_TAIL {
                log.pop_front();
            }
            log.push_back(line);
        }
    });
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
            let lines: Vec<&str> = log.iter().map(String::as_str).collect();
            eprintln!(
                "---- server output (last {} lines) ----\n{}\n---- end of server output ----",
                lines.len(),
                lines.join("\n")
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Spawning an app

#[derive(Clone, Debug)]
enum Database {
    MariaDb,
    Sqlite,
}

#[derive(Clone, Debug)]
enum Cache {
    /// `TEST_REDIS_URL`, with this app's keys deleted afterwards.
    SharedRedis,
    Disabled,
    /// Any URL: a private `redis-server`, a dead port, a black hole.
    Url(String),
}

/// How to start the server. The default: MariaDB, the shared Redis, HS256
/// tokens with a random secret.
#[derive(Clone, Debug)]
pub struct AppOptions {
    database: Database,
    cache: Cache,
    jwt_secret: bool,
    env: Vec<(String, String)>,
}

impl Default for AppOptions {
    fn default() -> AppOptions {
        AppOptions {
            database: Database::MariaDb,
            cache: Cache::SharedRedis,
            jwt_secret: true,
            env: Vec::new(),
        }
    }
}

impl AppOptions {
    /// An in-memory SQLite database instead of MariaDB.
    pub fn sqlite(mut self) -> AppOptions {
        self.database = Database::Sqlite;
        self
    }

    /// No `REDIS_URL` at all.
    pub fn no_cache(mut self) -> AppOptions {
        self.cache = Cache::Disabled;
        self
    }

    /// `REDIS_URL` set to `url`, which this harness neither checks nor cleans.
    pub fn redis_url(mut self, url: impl Into<String>) -> AppOptions {
        self.cache = Cache::Url(url.into());
        self
    }

    /// No `JWT_SECRET`: the test configures token verification itself.
    pub fn without_jwt_secret(mut self) -> AppOptions {
        self.jwt_secret = false;
        self
    }

    /// One more environment variable for the server.
    pub fn env(mut self, name: &str, value: impl Into<String>) -> AppOptions {
        self.env.push((name.to_owned(), value.into()));
        self
    }
}

/// A running server and everything it owns. Fields drop in order: the
/// process is killed before its database and cache keys are removed.
pub struct TestApp {
    server: ServerProcess,
    _db: Option<TestDb>,
    _redis_prefix: Option<RedisPrefix>,
    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub base_url: String,
    pub client: reqwest::Client,
    /// This app's `CACHE_KEY_PREFIX`.
    pub cache_prefix: String,
    jwt_secret: Option<String>,
}

pub async fn spawn_app(options: AppOptions) -> TestApp {
    let db = match options.database {
        Database::MariaDb => Some(TestDb::create().await),
        Database::Sqlite => None,
    };
    let cache_prefix = format!("{}:", unique_name());
    let (redis_url, redis_prefix) = match options.cache {
        Cache::SharedRedis => {
            let url = test_redis_url();
            drop(redis_connection(&url).await);
            let prefix = RedisPrefix {
                url: url.clone(),
                prefix: cache_prefix.clone(),
            };
            (Some(url), Some(prefix))
        }
        Cache::Disabled => (None, None),
        Cache::Url(url) => (Some(url), None),
    };
    let jwt_secret = options.jwt_secret.then(|| random_hex(64));

    let mut env: Vec<(String, String)> = vec![
        ("HOST".into(), "127.0.0.1".into()),
        ("PORT".into(), "0".into()),
        ("CACHE_KEY_PREFIX".into(), cache_prefix.clone()),
        ("RUST_LOG".into(), "warn".into()),
        ("LOG_FORMAT".into(), "json".into()),
    ];
    match &db {
        Some(db) => {
            env.push(("DATABASE_URL".into(), db.url.clone()));
            env.push(("DATABASE_SQL_MODE".into(), SQL_MODE.into()));
        }
        None => env.push(("DATABASE_URL".into(), "sqlite::memory:".into())),
    }
    if let Some(url) = redis_url {
        env.push(("REDIS_URL".into(), url));
    }
    if let Some(secret) = &jwt_secret {
        env.push(("JWT_SECRET".into(), secret.clone()));
    }
    env.extend(options.env);

    let (server, base_url) = ServerProcess::start(env).await;
    TestApp {
        server,
        _db: db,
        _redis_prefix: redis_prefix,
        base_url,
        client: http_client(),
        cache_prefix,
        jwt_secret,
    }
}

/// A client that never follows redirects, ignores proxy settings and gives
/// up after 30 s.
pub fn http_client() -> reqwest::Client {
    static CRYPTO: Once = Once::new();
    CRYPTO.call_once(|| {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    });
    reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .expect("a reqwest client")
}

// ---------------------------------------------------------------------------
// Tokens

pub fn hs256_token(secret: &[u8], claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .expect("an HS256 token")
}

/// The claims of a valid token for `user`: `sub` and an `exp` an hour away.
pub fn claims_for(user: &str) -> Value {
    json!({ "sub": user, "exp": unix_now() + 3600 })
}

// ---------------------------------------------------------------------------
// Requests and responses

impl TestApp {
    /// Sends SIGTERM to the server process.
    pub fn terminate(&self) {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.server.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -TERM failed");
    }

    /// Waits (polling, up to `limit`) for the server to exit on its own.
    pub async fn wait_for_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let started = std::time::Instant::now();
        while started.elapsed() < limit {
            if let Ok(Some(status)) = self.server.child.try_wait() {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }

    /// What the server has printed so far (its last lines).
    pub fn output(&self) -> Vec<String> {
        let log = self.server.log.lock().unwrap_or_else(|e| e.into_inner());
        log.iter().cloned().collect()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// A valid HS256 token for `user`.
    pub fn token(&self, user: &str) -> String {
        self.sign(&claims_for(user))
    }

    /// `claims` signed with this app's `JWT_SECRET`.
    pub fn sign(&self, claims: &Value) -> String {
        let secret = self
            .jwt_secret
            .as_deref()
            .expect("this app was started without JWT_SECRET");
        hs256_token(secret.as_bytes(), claims)
    }

    /// A request without credentials.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path))
    }

    /// A request with a valid token for `user`.
    pub fn authed(&self, method: Method, path: &str, user: &str) -> RequestBuilder {
        self.request(method, path).bearer_auth(self.token(user))
    }

    pub async fn get(&self, path: &str, user: &str) -> Resp {
        send(self.authed(Method::GET, path, user)).await
    }

    pub async fn post_json(&self, path: &str, user: &str, body: &Value) -> Resp {
        self.send_body(Method::POST, path, user, Some(JSON), body.to_string())
            .await
    }

    /// A request with any body and `Content-Type` (none when `None`).
    pub async fn send_body(
        &self,
        method: Method,
        path: &str,
        user: &str,
        content_type: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> Resp {
        let mut request = self.authed(method, path, user).body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        send(request).await
    }

    /// A JSON merge patch; `if_match` is the raw header, e.g. `etag(2)`.
    pub async fn patch(
        &self,
        path: &str,
        user: &str,
        body: &Value,
        if_match: Option<&str>,
    ) -> Resp {
        self.patch_as(MERGE_PATCH, path, user, body, if_match).await
    }

    pub async fn patch_as(
        &self,
        content_type: &str,
        path: &str,
        user: &str,
        body: &Value,
        if_match: Option<&str>,
    ) -> Resp {
        let mut request = self
            .authed(Method::PATCH, path, user)
            .header("content-type", content_type)
            .body(body.to_string());
        if let Some(tag) = if_match {
            request = request.header("if-match", tag);
        }
        send(request).await
    }

    pub async fn delete(&self, path: &str, user: &str, if_match: Option<&str>) -> Resp {
        let mut request = self.authed(Method::DELETE, path, user);
        if let Some(tag) = if_match {
            request = request.header("if-match", tag);
        }
        send(request).await
    }

    /// Creates an expense, asserting 201; returns the body.
    pub async fn create_expense(&self, user: &str, body: &Value) -> Value {
        self.post_json("/v1/expenses", user, body)
            .await
            .context(format!("creating {body}"))
            .expect_json(201)
    }

    /// Reads an expense, asserting 200; returns the body.
    pub async fn get_expense(&self, user: &str, id: &str) -> Value {
        self.get(&expense_path(id), user).await.expect_json(200)
    }

    /// `GET /health` without a token, asserting 200; returns the body.
    pub async fn health(&self) -> Value {
        send(self.request(Method::GET, "/health"))
            .await
            .expect_json(200)
    }

    /// One page of `GET /v1/expenses`, asserting 200 and the page's shape.
    pub async fn list(&self, user: &str, params: &[(&str, &str)]) -> Value {
        let request = self.authed(Method::GET, "/v1/expenses", user).query(params);
        let resp = send(request).await;
        let page = resp.expect_json(200);
        assert!(
            page["items"].is_array(),
            "{}: `items` is not an array: {page}",
            resp.what
        );
        assert!(
            page["next_cursor"].is_null() || page["next_cursor"].is_string(),
            "{}: `next_cursor` must be a string or null: {page}",
            resp.what
        );
        page
    }

    /// Every item of `GET /v1/expenses` with `params`, following cursors.
    pub async fn list_all(&self, user: &str, params: &[(&str, &str)]) -> Vec<Value> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..10_000 {
            let mut query = params.to_vec();
            if let Some(cursor) = &cursor {
                query.push(("cursor", cursor.as_str()));
            }
            let page = self.list(user, &query).await;
            items.extend(page["items"].as_array().into_iter().flatten().cloned());
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return items,
            }
        }
        panic!("listing {params:?} for {user} did not end after 10000 pages");
    }
}

/// A response, read whole.
pub struct Resp {
    /// Method and path of the request, plus any context a test added.
    pub what: String,
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

/// Sends `request` and reads the whole response. Any 5xx fails the test:
/// no request of this suite may cause a server error.
pub async fn send(request: RequestBuilder) -> Resp {
    let (client, request) = request.build_split();
    let request = request.expect("a well-formed request");
    let url = request.url();
    let what = format!(
        "{} {}{}",
        request.method(),
        url.path(),
        url.query().map(|q| format!("?{q}")).unwrap_or_default()
    );
    let response = client
        .execute(request)
        .await
        .unwrap_or_else(|e| panic!("{what}: no response: {e}"));
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .text()
        .await
        .unwrap_or_else(|e| panic!("{what}: unreadable body: {e}"));
    assert!(
        status < 500,
        "{what} answered {status} with {body}: no request of this suite may cause a server error"
    );
    Resp {
        what,
        status,
        headers,
        body,
    }
}

impl Resp {
    /// Adds `context` to every assertion message about this response.
    pub fn context(mut self, context: impl std::fmt::Display) -> Resp {
        self.what = format!("{} [{context}]", self.what);
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| {
            panic!("{}: the body is not JSON ({e}): {:?}", self.what, self.body)
        })
    }

    pub fn assert_status(&self, status: u16) -> &Resp {
        assert_eq!(
            self.status, status,
            "{}: expected status {status}, got {} with body {}",
            self.what, self.status, self.body
        );
        self
    }

    /// Asserts `status` and a JSON content type; returns the body.
    pub fn expect_json(&self, status: u16) -> Value {
        self.assert_status(status);
        let content_type = self.header("content-type").unwrap_or("");
        assert!(
            content_type.starts_with("application/json"),
            "{}: expected Content-Type application/json, got {content_type:?}",
            self.what
        );
        self.json()
    }

    /// Asserts an RFC 9457 problem with `status`; returns its body.
    pub fn problem(&self, status: u16) -> Value {
        self.assert_status(status);
        let content_type = self.header("content-type").unwrap_or("");
        assert!(
            content_type.starts_with("application/problem+json"),
            "{}: a {status} must be application/problem+json, got Content-Type {content_type:?}",
            self.what
        );
        let problem = self.json();
        for member in ["type", "title", "detail"] {
            assert!(
                problem[member].as_str().is_some_and(|s| !s.is_empty()),
                "{}: the problem lacks a non-empty string `{member}`: {problem}",
                self.what
            );
        }
        assert_eq!(
            problem["status"], status,
            "{}: the problem's `status` must be {status}: {problem}",
            self.what
        );
        problem
    }

    /// Asserts a 422 whose `errors` name exactly `fields` (an entry such as
    /// `tags[3]` counts as `tags`).
    pub fn assert_invalid(&self, fields: &[&str]) {
        let problem = self.problem(422);
        let errors = problem["errors"].as_array().unwrap_or_else(|| {
            panic!(
                "{}: a 422 must carry an `errors` array: {problem}",
                self.what
            )
        });
        let mut named = BTreeSet::new();
        for error in errors {
            let field = error["field"].as_str();
            assert!(
                field.is_some() && error["message"].as_str().is_some_and(|m| !m.is_empty()),
                "{}: every error needs a string `field` and a non-empty `message`: {error}",
                self.what
            );
            let field = field.unwrap_or_default();
            named.insert(field.split(['[', '.']).next().unwrap_or(field).to_owned());
        }
        let expected: BTreeSet<String> = fields.iter().map(|f| f.to_string()).collect();
        assert_eq!(
            named, expected,
            "{}: the 422 must name exactly the bad fields; it said {problem}",
            self.what
        );
    }

    /// Asserts a 401 problem with a `WWW-Authenticate: Bearer…` header.
    pub fn assert_unauthorized(&self) {
        self.problem(401);
        let challenge = self.header("www-authenticate").unwrap_or("");
        assert!(
            challenge.starts_with("Bearer"),
            "{}: a 401 needs `WWW-Authenticate: Bearer`, got {challenge:?}",
            self.what
        );
    }
}

// ---------------------------------------------------------------------------
// Expense values

pub fn expense_path(id: &str) -> String {
    format!("/v1/expenses/{id}")
}

/// The smallest valid create body.
pub fn expense_body(amount: &str, currency: &str, date: &str) -> Value {
    json!({ "amount": amount, "currency": currency, "date": date })
}

/// `base` with the members of `extra` added or replaced.
pub fn with(mut base: Value, extra: Value) -> Value {
    let target = base.as_object_mut().expect("`with` extends a JSON object");
    for (key, value) in extra.as_object().expect("`with` takes a JSON object") {
        target.insert(key.clone(), value.clone());
    }
    base
}

/// The `ETag` / `If-Match` value of `version`: `"3"`, quotes included.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

pub fn id_of(expense: &Value) -> String {
    expense["id"]
        .as_str()
        .unwrap_or_else(|| panic!("expense without a string id: {expense}"))
        .to_owned()
}

pub fn ids(items: &[Value]) -> Vec<String> {
    items.iter().map(id_of).collect()
}

/// A fresh, well-formed id that no server has made: a missing resource.
pub fn unused_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Asserts an RFC 3339 timestamp in UTC written with `Z`.
pub fn assert_utc_timestamp(value: &Value, what: &str) {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("{what} must be a string, got {value}"));
    assert!(
        text.ends_with('Z'),
        "{what} must be UTC ending in Z: {text}"
    );
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("{what} is not RFC 3339 ({e}): {text}"));
}

// ---------------------------------------------------------------------------
// Categories, budgets, reports

/// Query parameters as the request helpers take them.
pub type Query<'a> = &'a [(&'a str, &'a str)];

pub fn category_path(id: &str) -> String {
    format!("/v1/categories/{id}")
}

pub fn budget_path(category_id: &str) -> String {
    format!("/v1/budgets/{category_id}")
}

/// The string member `member` of `value`, e.g. a budget's `category_id`.
pub fn str_of(value: &Value, member: &str) -> String {
    value[member]
        .as_str()
        .unwrap_or_else(|| panic!("no string `{member}` in {value}"))
        .to_owned()
}

impl TestApp {
    pub async fn put_json(&self, path: &str, user: &str, body: &Value) -> Resp {
        self.send_body(Method::PUT, path, user, Some(JSON), body.to_string())
            .await
    }

    /// Creates a category named `name` without a colour, asserting 201;
    /// returns the body.
    pub async fn create_category(&self, user: &str, name: &str) -> Value {
        self.post_json("/v1/categories", user, &json!({ "name": name }))
            .await
            .context(format!("creating category {name:?}"))
            .expect_json(201)
    }

    /// `GET /v1/categories`, asserting 200; returns the items.
    pub async fn categories(&self, user: &str) -> Vec<Value> {
        let resp = self.get("/v1/categories", user).await;
        let body = resp.expect_json(200);
        body["items"]
            .as_array()
            .unwrap_or_else(|| panic!("{}: `items` is not an array: {body}", resp.what))
            .clone()
    }

    /// Creates or replaces the budget of `category_id`, asserting 200;
    /// returns the body.
    pub async fn put_budget(
        &self,
        user: &str,
        category_id: &str,
        amount: &str,
        currency: &str,
    ) -> Value {
        self.put_json(
            &budget_path(category_id),
            user,
            &json!({ "amount": amount, "currency": currency }),
        )
        .await
        .context(format!("budget {amount} {currency}"))
        .expect_json(200)
    }

    /// `GET /v1/budgets` for `month` (the default month when `None`),
    /// asserting 200; returns the body.
    pub async fn budgets(&self, user: &str, month: Option<&str>) -> Value {
        let mut request = self.authed(Method::GET, "/v1/budgets", user);
        if let Some(month) = month {
            request = request.query(&[("month", month)]);
        }
        send(request).await.expect_json(200)
    }

    /// `GET /v1/reports/summary` with `params`, asserting 200; returns the
    /// body.
    pub async fn summary(&self, user: &str, params: &[(&str, &str)]) -> Value {
        let request = self
            .authed(Method::GET, "/v1/reports/summary", user)
            .query(params);
        send(request).await.expect_json(200)
    }

    // -----------------------------------------------------------------------
    // CSV

    /// `POST /v1/expenses/import` with `Content-Type: text/csv`.
    pub async fn import_csv(&self, user: &str, body: impl Into<reqwest::Body>) -> Resp {
        self.send_body(
            Method::POST,
            "/v1/expenses/import",
            user,
            Some("text/csv"),
            body,
        )
        .await
    }

    /// Imports `body`, asserting 201 `{"imported": rows}`.
    pub async fn import_csv_ok(&self, user: &str, body: impl Into<reqwest::Body>, rows: usize) {
        let resp = self.import_csv(user, body).await;
        assert_eq!(
            resp.expect_json(201),
            json!({ "imported": rows }),
            "{}: the import must report {rows} rows",
            resp.what
        );
    }

    /// One `GET` of `path` (an export URL path with its query), asserting
    /// 200 and `text/csv`.
    pub async fn export_part(&self, user: &str, path: &str) -> Resp {
        let resp = send(self.authed(Method::GET, path, user)).await;
        resp.assert_status(200);
        let content_type = resp.header("content-type").unwrap_or("");
        assert!(
            content_type.starts_with("text/csv"),
            "{}: an export is text/csv, got Content-Type {content_type:?}",
            resp.what
        );
        resp
    }

    /// Every part of `GET /v1/expenses/export` with `params`, following the
    /// `Link: <…>; rel="next"` headers.
    pub async fn export_parts(&self, user: &str, params: &[(&str, &str)]) -> Vec<Resp> {
        let mut query = form_urlencoded::Serializer::new(String::new());
        query.extend_pairs(params);
        let mut path = format!("/v1/expenses/export?{}", query.finish());
        let mut parts = Vec::new();
        for _ in 0..1000 {
            let part = self.export_part(user, &path).await;
            let next = next_link(&part);
            parts.push(part);
            match next {
                Some(next) => path = next,
                None => return parts,
            }
        }
        panic!("exporting {params:?} for {user} did not end after 1000 parts");
    }

    /// The whole export with `params` in one part, parsed: the header row
    /// first.
    pub async fn export_rows(&self, user: &str, params: &[(&str, &str)]) -> Vec<Vec<String>> {
        let parts = self.export_parts(user, params).await;
        assert_eq!(
            parts.len(),
            1,
            "a small export comes in one part, got {}",
            parts.len()
        );
        parse_csv(&parts[0].body)
    }
}

/// The target of a `Link: <target>; rel="next"` header, if any.
pub fn next_link(resp: &Resp) -> Option<String> {
    let mut found = None;
    for value in resp.headers.get_all("link") {
        let value = value
            .to_str()
            .unwrap_or_else(|e| panic!("{}: a Link header is not ASCII: {e}", resp.what));
        for link in value.split(',') {
            let (target, params) = link.split_once(';').unwrap_or((link, ""));
            let is_next = params.split(';').any(|p| {
                let p = p.trim().to_ascii_lowercase();
                p == "rel=\"next\"" || p == "rel=next"
            });
            if is_next {
                let target = target.trim();
                let target = target
                    .strip_prefix('<')
                    .and_then(|t| t.strip_suffix('>'))
                    .unwrap_or_else(|| panic!("{}: malformed Link {value:?}", resp.what));
                assert!(
                    found.is_none(),
                    "{}: more than one rel=\"next\" link",
                    resp.what
                );
                found = Some(target.to_owned());
            }
        }
    }
    found
}

/// The export's header row.
pub const CSV_HEADER: &str = "id,date,amount,currency,category,merchant,description,tags";

/// Parses RFC 4180 CSV (CRLF or LF line ends, quoted fields with `""`)
/// into records; blank lines are skipped. Panics on malformed quoting.
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    // Whether the current record has begun (a quote or a comma counts).
    let mut started = false;
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => {
                    quoted = false;
                    assert!(
                        matches!(chars.peek(), None | Some(',' | '\r' | '\n')),
                        "text after a closing quote in CSV: {text:?}"
                    );
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' => {
                assert!(
                    field.is_empty(),
                    "a quote inside an unquoted CSV field: {text:?}"
                );
                quoted = true;
                started = true;
            }
            ',' => {
                record.push(std::mem::take(&mut field));
                started = true;
            }
            '\r' | '\n' => {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                if started || !field.is_empty() {
                    record.push(std::mem::take(&mut field));
                    records.push(std::mem::take(&mut record));
                }
                started = false;
            }
            _ => {
                field.push(c);
                started = true;
            }
        }
    }
    assert!(!quoted, "an unterminated quoted CSV field: {text:?}");
    if started || !field.is_empty() {
        record.push(field);
        records.push(record);
    }
    records
}

/// One CSV record, CRLF-terminated, quoting the cells that need it.
pub fn csv_record(cells: &[&str]) -> String {
    let quoted: Vec<String> = cells
        .iter()
        .map(|cell| {
            if cell.contains([',', '"', '\r', '\n']) {
                format!("\"{}\"", cell.replace('"', "\"\""))
            } else {
                (*cell).to_owned()
            }
        })
        .collect();
    format!("{}\r\n", quoted.join(","))
}

impl Resp {
    /// Asserts a 405 problem whose `Allow` header lists exactly `allowed`
    /// (HEAD and OPTIONS aside).
    pub fn assert_method_not_allowed(&self, allowed: &[&str]) {
        self.problem(405);
        let allow: BTreeSet<String> = self
            .header("allow")
            .unwrap_or_else(|| panic!("{}: a 405 needs an Allow header", self.what))
            .split(',')
            .map(|m| m.trim().to_ascii_uppercase())
            .filter(|m| m != "HEAD" && m != "OPTIONS")
            .collect();
        let expected: BTreeSet<String> = allowed.iter().map(|m| m.to_string()).collect();
        assert_eq!(allow, expected, "{}: the Allow header", self.what);
    }
}
