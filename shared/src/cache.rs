//! Redis cache-aside. A ledger's entries are valid for one generation
//! number (`{prefix}u:{<ledger key>}:gen`), and every write in the ledger,
//! by any member, bumps it before it answers: a reader that fetched old
//! data can only store it under a generation nobody asks for any more, and
//! one INCR invalidates all of a ledger's entries at once, for every
//! member. (A personal ledger's key is its owner's `sub`: the namespace the
//! release before ledgers used for that user.) An entry
//! (`{prefix}u:{<ledger key>}:e:<name>`) holds
//! the generation it was computed at and the body, so a cached read is one
//! MGET of the generation and the entry: one round trip. Under
//! `/v1/ledgers/{id}` the same MGET also reads the caller's membership,
//! cached (`…:e:member:<user>`) under the generation of the ledger's
//! members (`…:members`), which every change of members moves before it
//! answers. Entries expire after at most 60 s.
//!
//! Within a process, concurrent misses of one entry at one generation are
//! computed once: the others wait for that computation (single flight).
//!
//! Redis is an optimisation only: every command has a 50 ms budget, and
//! any failure (down, refusing, silent) means "no cache" for that call.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::AsyncCommands;

use crate::secrets::SecretError;
use crate::start::StartError;

/// The longest an entry may live: the bound on stale reads when Redis
/// fails in the middle of an invalidation.
pub const MAX_TTL: Duration = Duration::from_secs(60);

#[derive(Clone, Debug)]
pub struct CacheSettings {
    pub url: String,
    /// `REDIS_AUTH_SECRET_ARN`: the AUTH token lives in Secrets Manager
    /// (ElastiCache with in-transit encryption), read once, by the first
    /// attempt to connect.
    pub auth_secret_arn: Option<String>,
    /// `REDIS_CA_BUNDLE`: PEM file of the CAs to trust for `rediss://`
    /// instead of the public roots (a self-managed Redis with a private CA;
    /// ElastiCache's certificates chain to the public roots).
    pub ca_bundle: Option<PathBuf>,
    /// Prepended to every key, so several deployments or test runs can
    /// share one Redis.
    pub key_prefix: String,
    pub ttl: Duration,
    pub command_timeout: Duration,
}

pub struct Cache {
    /// Computations of missing entries under way, by entry and generation.
    flights: Mutex<HashMap<String, Arc<Flight>>>,
    /// Made when first needed if its AUTH token is in Secrets Manager.
    client: Arc<tokio::sync::OnceCell<redis::Client>>,
    settings: CacheSettings,
    link: Arc<Link>,
}

/// The connection, shared with the background task that (re)makes it.
#[derive(Default)]
struct Link {
    manager: Mutex<Option<ConnectionManager>>,
    connecting: AtomicBool,
    last_attempt: Mutex<Option<Instant>>,
    /// Set, and waiters woken, when the process's first attempt to connect
    /// has ended (either way).
    first_attempt_ended: AtomicBool,
    first_attempt: tokio::sync::Notify,
}

/// A ledger's cache namespace at one generation, read before the database.
#[derive(Clone, Debug)]
pub struct Generation {
    namespace: String,
    number: u64,
}

/// What a read found in one round trip: the ledger's current generation
/// and, if one is stored for it, the entry's body.
#[derive(Debug)]
pub struct Lookup {
    pub generation: Generation,
    pub hit: Option<String>,
}

impl Lookup {
    /// What an MGET found: an entry of another generation is stale (or
    /// newer than the generation read): a miss either way.
    fn of(namespace: String, number: Option<u64>, entry: Option<String>) -> Lookup {
        let generation = Generation {
            namespace,
            number: number.unwrap_or(0),
        };
        let hit = entry.and_then(|stored| {
            let (at, body) = stored.split_once('|')?;
            (at == generation.number.to_string()).then(|| body.to_owned())
        });
        Lookup { generation, hit }
    }
}

/// One computation of a missing entry; `None` when it failed (each waiter
/// then computes for itself).
type Flight = tokio::sync::OnceCell<Option<bytes::Bytes>>;

/// How long to wait between attempts to (re)connect.
const RECONNECT_BACKOFF: Duration = Duration::from_secs(1);

/// How long a write's invalidation waits for the process's first
/// connection (a cold start: Redis is up, only not yet connected to).
/// Skipping it would let other processes serve the old state for a TTL,
/// which API.md allows only when Redis fails.
const FIRST_CONNECT_WAIT: Duration = Duration::from_millis(500);

impl Cache {
    /// Checks the settings now; with `auth_secret_arn`, the AUTH token is
    /// read from Secrets Manager by the first attempt to connect, in the
    /// background, so a cold start's first response never waits for it.
    pub fn new(mut settings: CacheSettings) -> Result<Cache, StartError> {
        // The URL and the CA bundle are the operator's to fix: refuse to
        // start with bad ones.
        let client = make_client(&settings, None)?;
        settings.ttl = settings.ttl.clamp(Duration::from_secs(1), MAX_TTL);
        let made = match settings.auth_secret_arn {
            None => tokio::sync::OnceCell::new_with(Some(client)),
            Some(_) => tokio::sync::OnceCell::new(),
        };
        Ok(Cache {
            client: Arc::new(made),
            settings,
            link: Arc::default(),
            flights: Mutex::default(),
        })
    }

    /// The connection if one is up; otherwise starts connecting in the
    /// background (at most once per second) and answers `None` at once, so
    /// no request waits for Redis to come up.
    fn connection(&self) -> Option<ConnectionManager> {
        if let Some(manager) = lock(&self.link.manager).clone() {
            return Some(manager);
        }
        self.connect_in_background();
        None
    }

    fn connect_in_background(&self) {
        {
            let mut last = lock(&self.link.last_attempt);
            if last.is_some_and(|t| t.elapsed() < RECONNECT_BACKOFF) {
                return;
            }
            *last = Some(Instant::now());
        }
        if self.link.connecting.swap(true, Ordering::AcqRel) {
            return;
        }
        let client = Arc::clone(&self.client);
        let settings = self.settings.clone();
        let timeout = self.settings.command_timeout;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_secs(2));
        let link = Arc::clone(&self.link);
        // Connecting must not hold up the request: a task does it.
        tokio::spawn(async move {
            let made = match client_for(&client, &settings).await {
                Ok(client) => match tokio::time::timeout(
                    Duration::from_secs(2),
                    ConnectionManager::new_with_config(client, config),
                )
                .await
                {
                    Ok(Ok(manager)) => Ok(manager),
                    Ok(Err(e)) => Err(format!("cannot connect to Redis: {e}")),
                    Err(_) => Err("connecting to Redis timed out".to_owned()),
                },
                Err(e) => Err(e.to_string()),
            };
            match made {
                Ok(manager) => *lock(&link.manager) = Some(manager),
                Err(e) => tracing::warn!(error = %e, "no cache; serving from the database"),
            }
            link.connecting.store(false, Ordering::Release);
            if !link.first_attempt_ended.swap(true, Ordering::AcqRel) {
                link.first_attempt.notify_waiters();
            }
        });
    }

    /// The connection for a write's invalidation: as `connection`, but
    /// while the process's first attempt to connect is under way it waits
    /// for that attempt (at most `FIRST_CONNECT_WAIT`).
    async fn connection_for_write(&self) -> Option<ConnectionManager> {
        if let Some(manager) = self.connection() {
            return Some(manager);
        }
        // Created before the check, so the wake-up cannot be missed.
        let ended = self.link.first_attempt.notified();
        if !self.link.first_attempt_ended.load(Ordering::Acquire) {
            let _ = tokio::time::timeout(FIRST_CONNECT_WAIT, ended).await;
        }
        lock(&self.link.manager).clone()
    }

    /// Reads the ledger's current generation and the entry `name` in one
    /// MGET (both keys share the ledger's hash slot). `None` means "don't use
    /// the cache for this request".
    pub async fn lookup(&self, ledger_key: &str, name: &str) -> Option<Lookup> {
        let namespace = self.namespace(ledger_key);
        let mut conn = self.connection()?;
        let (number, entry): (Option<u64>, Option<String>) = self
            .bounded(
                "MGET generation and entry",
                conn.mget(&[format!("{namespace}:gen"), entry_key(&namespace, name)]),
            )
            .await?;
        Some(Lookup::of(namespace, number, entry))
    }

    /// As `lookup`, and in the same MGET the ledger's members' generation
    /// and `user`'s membership entry: a read under `/v1/ledgers/{id}`
    /// learns the caller's standing and its body in one round trip. Member
    /// entries have a generation of their own (`{…}:members`), moved by
    /// every change of members rather than by every write of data.
    pub async fn lookup_with_member(
        &self,
        ledger_key: &str,
        user: &str,
        name: &str,
    ) -> Option<(Lookup, Lookup)> {
        let namespace = self.namespace(ledger_key);
        let member = member_entry(user);
        let mut conn = self.connection()?;
        type Found = (Option<u64>, Option<u64>, Option<String>, Option<String>);
        let (number, members, standing, entry): Found = self
            .bounded(
                "MGET generations, membership and entry",
                conn.mget(&[
                    format!("{namespace}:gen"),
                    format!("{namespace}:members"),
                    entry_key(&namespace, &member),
                    entry_key(&namespace, name),
                ]),
            )
            .await?;
        Some((
            Lookup::of(namespace.clone(), number, entry),
            Lookup::of(namespace, members, standing),
        ))
    }

    /// Stores `user`'s membership entry, read from the database after the
    /// members' generation was: a change of members in between moved it,
    /// so what is stored here is never read.
    pub async fn put_member(&self, members: &Generation, user: &str, value: &str) {
        self.put(members, &member_entry(user), value).await;
    }

    pub async fn put(&self, generation: &Generation, name: &str, value: &str) {
        let Some(mut conn) = self.connection() else {
            return;
        };
        let ttl = self.settings.ttl.as_secs();
        let _: Option<()> = self
            .bounded(
                "SET",
                conn.set_ex(
                    entry_key(&generation.namespace, name),
                    format!("{}|{value}", generation.number),
                    ttl,
                ),
            )
            .await;
    }

    /// Computes a missing entry once per process however many requests
    /// miss it at the same generation at once: the first runs `compute`,
    /// the others wait for its result (or, if it fails, compute for
    /// themselves). A request that read a newer generation never joins a
    /// computation begun under an older one.
    pub async fn compute_once<F, Fut, E>(
        &self,
        generation: &Generation,
        name: &str,
        compute: F,
    ) -> Result<bytes::Bytes, E>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<bytes::Bytes, E>>,
    {
        let key = format!(
            "{}|{}",
            generation.number,
            entry_key(&generation.namespace, name)
        );
        let flight = Arc::clone(lock(&self.flights).entry(key.clone()).or_default());
        let mut compute = Some(compute);
        let mut failure = None;
        let shared = {
            let (compute, failure) = (&mut compute, &mut failure);
            flight
                .get_or_init(|| async move {
                    let run = compute.take()?;
                    match run().await {
                        Ok(body) => Some(body),
                        Err(e) => {
                            *failure = Some(e);
                            None
                        }
                    }
                })
                .await
                .clone()
        };
        {
            let mut flights = lock(&self.flights);
            if flights.get(&key).is_some_and(|f| Arc::ptr_eq(f, &flight)) {
                flights.remove(&key);
            }
        }
        if let Some(e) = failure {
            return Err(e);
        }
        match (shared, compute) {
            (Some(body), _) => Ok(body),
            // The computation this request waited for failed: its own.
            (None, Some(run)) => run().await,
            (None, None) => unreachable!("a failed computation keeps its error"),
        }
    }

    /// Moves the ledger to a new generation: every entry cached so far
    /// stops being read. Called after each write, before it answers.
    pub async fn invalidate(&self, ledger_key: &str) {
        self.bump(ledger_key, "gen").await;
    }

    /// Moves the ledger's members to a new generation: every membership
    /// cached so far stops being read. Called after each change of members
    /// (a role, a removal, the ledger's deletion), before it answers.
    pub async fn invalidate_members(&self, ledger_key: &str) {
        self.bump(ledger_key, "members").await;
    }

    async fn bump(&self, ledger_key: &str, generation: &str) {
        let key = format!("{}:{generation}", self.namespace(ledger_key));
        let bumped: Option<u64> = match self.connection_for_write().await {
            Some(mut conn) => self.bounded("INCR generation", conn.incr(&key, 1)).await,
            None => None,
        };
        if bumped.is_none() {
            tracing::warn!(
                "cache invalidation failed; stale entries expire within {} s",
                self.settings.ttl.as_secs()
            );
        }
    }

    /// Whether Redis answers a PING in time: the health check.
    pub async fn ping(&self) -> bool {
        let Some(mut conn) = self.connection() else {
            return false;
        };
        let pong: Option<String> = self
            .bounded("PING", redis::cmd("PING").query_async(&mut conn))
            .await;
        pong.is_some()
    }

    async fn bounded<T>(
        &self,
        what: &str,
        command: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Option<T> {
        match tokio::time::timeout(self.settings.command_timeout, command).await {
            Ok(Ok(value)) => Some(value),
            Ok(Err(e)) => {
                tracing::warn!(command = what, error = %e, "cache command failed; using the database");
                None
            }
            Err(_) => {
                tracing::warn!(
                    command = what,
                    "cache command timed out; using the database"
                );
                None
            }
        }
    }

    /// `{prefix}u:{<ledger key>}`: the braces make every key of one ledger
    /// hash to the same slot on a Redis cluster; the key is encoded so that
    /// no `sub` can reach into another ledger's keys.
    fn namespace(&self, ledger_key: &str) -> String {
        format!(
            "{}u:{{{}}}",
            self.settings.key_prefix,
            URL_SAFE_NO_PAD.encode(ledger_key)
        )
    }
}

/// An entry's key: one per name, whatever the generation (the value says
/// which generation it belongs to).
fn entry_key(namespace: &str, name: &str) -> String {
    format!("{namespace}:e:{name}")
}

/// The name of `user`'s membership entry (encoded: a `sub` may hold any
/// character; no body's name starts with `member:`).
fn member_entry(user: &str) -> String {
    format!("member:{}", URL_SAFE_NO_PAD.encode(user))
}

/// The Redis client for `settings`, with `auth_token` as its password
/// when the URL has none.
fn make_client(
    settings: &CacheSettings,
    auth_token: Option<&str>,
) -> Result<redis::Client, StartError> {
    use redis::IntoConnectionInfo;
    let mut info = settings.url.as_str().into_connection_info()?;
    if let Some(token) = auth_token {
        let redis = info.redis_settings().clone().set_password(token);
        info = info.set_redis_settings(redis);
    }
    match &settings.ca_bundle {
        None => redis::Client::open(info),
        Some(path) => {
            let root_cert = std::fs::read(path).map_err(|source| StartError::File {
                name: "REDIS_CA_BUNDLE",
                path: path.clone(),
                source,
            })?;
            let certificates = redis::TlsCertificates {
                client_tls: None,
                root_cert: Some(root_cert),
            };
            redis::Client::build_with_tls(info, certificates)
        }
    }
    .map_err(StartError::from)
}

/// How long reading the AUTH token from Secrets Manager may take.
const SECRET_WAIT: Duration = Duration::from_secs(5);

/// The client, made on first use when its token is in Secrets Manager (a
/// failure is tried again on the next attempt to connect).
async fn client_for(
    made: &tokio::sync::OnceCell<redis::Client>,
    settings: &CacheSettings,
) -> Result<redis::Client, StartError> {
    made.get_or_try_init(|| async {
        let token = match &settings.auth_secret_arn {
            None => None,
            Some(arn) => Some(
                tokio::time::timeout(SECRET_WAIT, crate::secrets::redis_auth_token(arn))
                    .await
                    .map_err(|_| SecretError::TimedOut(arn.clone()))??,
            ),
        };
        make_client(settings, token.as_deref())
    })
    .await
    .cloned()
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
