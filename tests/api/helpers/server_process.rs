//! The `server` binary as a child process, and the options it starts with.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex, Once};
use std::time::Duration;

use serde_json::Value;

use super::*;

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

impl TestApp {
    /// The MariaDB database the server uses (`None` on SQLite), for tests
    /// that change rows behind its back.
    pub fn database_url(&self) -> Option<&str> {
        self._db.as_ref().map(|db| db.url.as_str())
    }

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
}
