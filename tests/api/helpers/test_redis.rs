//! Redis: the shared server under a key prefix per test, and servers of a test's own.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::pki::{CertFiles, TestPki};

use super::*;

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
    pub(super) url: String,
    pub(super) prefix: String,
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
