//! MySQL (RDS MySQL 8.4 in production, MariaDB 10.11 in tests) through
//! `mysql_async`. TLS is used when the URL asks for it
//! (`?require_ssl=true`) and always with IAM authentication. Connecting is
//! bounded (2 s): a database that is down or silent makes requests fail
//! fast with `Unavailable` (503).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use mysql_async::prelude::Queryable;
use mysql_async::{
    Conn, IsolationLevel, Opts, OptsBuilder, Pool, PoolConstraints, PoolOpts, SslOpts, TxOpts,
    Value,
};

use super::backend::{Backend, Cell, Row, Tx};
use super::iam::{Clock, PasswordSource, SystemClock, TOKEN_REFRESH};
use super::migrate::MYSQL as MIGRATIONS;
use super::sql::{Dialect, Param};
use super::StoreError;

/// How to reach MySQL and how long to wait for it.
#[derive(Clone, Debug)]
pub struct MysqlSettings {
    pub url: String,
    /// Most connections this process opens (1 in a Lambda container).
    pub pool_max: usize,
    /// `sql_mode` to set on each connection (tests use MySQL 8's on MariaDB).
    pub sql_mode: Option<String>,
    pub connect_timeout: Duration,
    pub statement_timeout: Duration,
    /// `DB_IAM_AUTH=true`: passwords are RDS IAM tokens (cleartext over TLS).
    pub iam_auth: bool,
    /// `DB_CA_BUNDLE`: PEM file of more CAs to trust, besides the public
    /// roots and the Amazon RDS CAs (e.g. a self-managed MySQL's own CA).
    pub ca_bundle: Option<PathBuf>,
}

/// Amazon RDS's CA certificates: its regional roots (RSA2048, RSA4096 and
/// ECC384 "G1"), from the global bundle
/// (https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem),
/// without the certificates that have expired. A direct connection to an
/// RDS instance presents a certificate under one of them; RDS Proxy
/// presents an ACM certificate, which the public roots trust.
/// `scripts/update_rds_ca.sh` refreshes the file.
pub const RDS_CA_BUNDLE: &[u8] = include_bytes!("../../certs/rds-ca-bundle.pem");

/// TLS for every MySQL connection: certificates are verified against the
/// public roots (mysql_async's built-in webpki roots), the Amazon RDS CAs
/// and `extra_cas` (`DB_CA_BUNDLE`), and the host name must match.
pub fn tls_opts(extra_cas: Option<&Path>) -> SslOpts {
    let mut cas = vec![RDS_CA_BUNDLE.into()];
    if let Some(path) = extra_cas {
        cas.push(path.to_path_buf().into());
    }
    SslOpts::default().with_root_certs(cas)
}

impl MysqlSettings {
    /// Host, port and user of the URL (what an IAM token is signed for).
    pub fn endpoint(&self) -> Result<(String, u16, String), StoreError> {
        let opts = Opts::from_url(&self.url)
            .map_err(|e| StoreError::Internal(format!("invalid DATABASE_URL: {e}")))?;
        let user = opts.user().unwrap_or_default().to_owned();
        Ok((opts.ip_or_hostname().to_owned(), opts.tcp_port(), user))
    }
}

/// A pool and when it was built (its password's age, with IAM tokens).
struct BuiltPool {
    pool: Pool,
    built: Instant,
}

pub struct MysqlBackend {
    opts: OptsBuilder,
    pool: Mutex<Option<BuiltPool>>,
    /// Set with IAM authentication: each new pool gets a fresh token.
    passwords: Option<Arc<dyn PasswordSource>>,
    clock: Arc<dyn Clock>,
    /// One token refresh at a time.
    refreshing: tokio::sync::Mutex<()>,
    connect_timeout: Duration,
    /// When a connection was last taken: after a long pause (a frozen
    /// Lambda container, a quiet night) pooled connections may have been
    /// closed by the server or RDS Proxy, so they are checked first.
    last_used: Mutex<Instant>,
    /// Held by the warm-up while it connects: requests wait for its
    /// connection instead of opening a second one beside it.
    warming: Arc<tokio::sync::Mutex<()>>,
}

/// Idle time after which a pooled connection is pinged before use.
const IDLE_CHECK_AFTER: Duration = Duration::from_secs(30);

/// How long an idle connection stays open in the pool.
const KEEP_IDLE: Duration = Duration::from_secs(60);

/// An idle connection older than this is closed, not reused (well under
/// the servers' default `wait_timeout` of 8 hours).
const REUSE_IDLE_FOR: Duration = Duration::from_secs(600);

/// The client's packet bound: MySQL 8.4's default `max_allowed_packet`.
const MAX_PACKET: usize = 64 * 1024 * 1024;

/// The lock that serialises migrations across processes.
const MIGRATION_LOCK: &str = "expense_tracker.migrations";

fn params(list: Vec<Param>) -> mysql_async::Params {
    let values: Vec<Value> = list
        .into_iter()
        .map(|p| match p {
            Param::Text(s) => Value::Bytes(s.into_bytes()),
            Param::Bytes(b) => Value::Bytes(b),
            Param::Int(n) => Value::Int(n),
            Param::Null => Value::NULL,
        })
        .collect();
    if values.is_empty() {
        mysql_async::Params::Empty
    } else {
        mysql_async::Params::Positional(values)
    }
}

fn row(row: mysql_async::Row) -> Row {
    row.unwrap()
        .into_iter()
        .map(|value| match value {
            Value::NULL => Cell::Null,
            Value::Bytes(b) => Cell::Bytes(b),
            Value::Int(n) => Cell::Int(n),
            Value::UInt(n) => i64::try_from(n).map_or(Cell::Null, Cell::Int),
            other => Cell::Text(other.as_sql(true)),
        })
        .collect()
}

/// Sorts driver errors into "the database is not there", the conflicts
/// the logic handles, and the rest.
fn classify(e: mysql_async::Error) -> StoreError {
    match &e {
        mysql_async::Error::Io(_) | mysql_async::Error::Driver(_) => {
            StoreError::Unavailable(e.to_string())
        }
        mysql_async::Error::Server(server) => match server.code {
            // Duplicate key.
            1062 => StoreError::Conflict,
            // Foreign key failure: the category vanished under us.
            1452 => StoreError::UnknownCategory,
            // Lock wait timeout, deadlock: worth running again.
            1205 | 1213 => StoreError::Transient(e.to_string()),
            // Too many connections, shutdown, query interrupted, read-only
            // (failover), connection killed.
            1040 | 1053 | 1290 | 1317 | 1836 | 1927 => StoreError::Unavailable(e.to_string()),
            _ => StoreError::Internal(e.to_string()),
        },
        _ => StoreError::Internal(e.to_string()),
    }
}

impl MysqlBackend {
    /// Builds the pool with the URL's password; no connection is made until
    /// the first request, so a process starts even while the database is
    /// down.
    pub fn new(settings: &MysqlSettings) -> Result<MysqlBackend, StoreError> {
        let backend = MysqlBackend::prepare(settings, None, Arc::new(SystemClock))?;
        *backend.pool.lock().unwrap_or_else(|p| p.into_inner()) = Some(BuiltPool {
            pool: Pool::new(backend.opts.clone()),
            built: backend.clock.now(),
        });
        Ok(backend)
    }

    /// A backend whose pools take their password from `passwords` (RDS IAM
    /// tokens), rebuilt every `TOKEN_REFRESH` by `clock`.
    pub fn with_passwords(
        settings: &MysqlSettings,
        passwords: Arc<dyn PasswordSource>,
        clock: Arc<dyn Clock>,
    ) -> Result<MysqlBackend, StoreError> {
        MysqlBackend::prepare(settings, Some(passwords), clock)
    }

    fn prepare(
        settings: &MysqlSettings,
        passwords: Option<Arc<dyn PasswordSource>>,
        clock: Arc<dyn Clock>,
    ) -> Result<MysqlBackend, StoreError> {
        let opts = Opts::from_url(&settings.url)
            .map_err(|e| StoreError::Internal(format!("invalid DATABASE_URL: {e}")))?;
        let constraints = PoolConstraints::new(0, settings.pool_max.max(1))
            .ok_or_else(|| StoreError::Internal("invalid pool size".into()))?;
        // READ COMMITTED: InnoDB then locks only the rows a statement
        // touches, not the gaps between them (REPEATABLE READ's next-key
        // locks made concurrent creates, updates and category deletions
        // deadlock). No transaction here relies on a repeatable snapshot:
        // each reads what it then writes under the row's lock, or with a
        // locking read.
        let mut init = vec!["SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED".to_owned()];
        init.extend(
            settings
                .sql_mode
                .iter()
                .map(|mode| format!("SET SESSION sql_mode = '{}'", mode.replace('\'', ""))),
        );
        let tls_required = opts.ssl_opts().is_some() || settings.iam_auth;
        let pool_opts = PoolOpts::default()
            .with_constraints(constraints)
            // mysql_async's default (0) closes every connection the moment
            // it comes back: each request would pay a new handshake.
            .with_inactive_connection_ttl(KEEP_IDLE)
            // No COM_RESET_CONNECTION round trip on every return, and the
            // prepared statements stay cached. Nothing needs the reset: the
            // only session state is `init`'s, and a transaction left open
            // is rolled back before the connection is reused.
            .with_reset_connection(false);
        let mut builder = OptsBuilder::from_opts(opts)
            .pool_opts(pool_opts)
            // Given, so a new connection need not ask for them (one round
            // trip less per handshake). Both only bound the client: the
            // packet size our largest statement (a 1 MiB import) stays far
            // under, and how long an idle connection may still be reused.
            .max_allowed_packet(Some(MAX_PACKET))
            .wait_timeout(Some(REUSE_IDLE_FOR.as_secs() as usize))
            .prefer_socket(false)
            // Affected rows = matched rows, as SQLite counts them.
            .client_found_rows(true)
            .init(init);
        if tls_required {
            builder = builder.ssl_opts(tls_opts(settings.ca_bundle.as_deref()));
        }
        if settings.iam_auth {
            // Tokens travel as cleartext passwords: only ever over TLS.
            builder = builder.enable_cleartext_plugin(true);
        }
        Ok(MysqlBackend {
            opts: builder,
            pool: Mutex::new(None),
            passwords,
            clock,
            refreshing: tokio::sync::Mutex::new(()),
            connect_timeout: settings.connect_timeout,
            last_used: Mutex::new(Instant::now()),
            warming: Arc::default(),
        })
    }

    /// Check the pool's connection first (see `conn`); the transaction
    /// then takes that same, most recently returned, connection.
    ///
    /// The start runs in a task of its own, and the time budget only stops
    /// waiting for it: cancelling `start_transaction` between sending
    /// START TRANSACTION and reading its answer would return the connection
    /// to the pool with the server's transaction open (mysql_async does not
    /// know of it yet, so nothing rolls it back), holding metadata locks and
    /// swallowing the next autocommit statements. Left to finish, a late
    /// transaction is dropped unused, which rolls it back.
    async fn start(&self, opts: TxOpts) -> Result<Box<dyn Tx>, StoreError> {
        drop(self.conn().await?);
        let pool = self.current_pool().await?;
        let starting = tokio::spawn(async move { pool.start_transaction(opts).await });
        let tx = tokio::time::timeout(self.connect_timeout, starting)
            .await
            .map_err(|_| StoreError::Unavailable("timed out connecting to MySQL".into()))?
            .map_err(|e| StoreError::Internal(format!("starting a transaction: {e}")))?
            .map_err(classify)?;
        Ok(Box::new(MysqlTx(tx)))
    }

    /// The pool to use now: with IAM tokens, a new one once the current
    /// one's token is `TOKEN_REFRESH` old (the old pool closes when its
    /// connections come back).
    pub async fn current_pool(&self) -> Result<Pool, StoreError> {
        let fresh = |slot: &Option<BuiltPool>| {
            slot.as_ref()
                .filter(|b| {
                    self.passwords.is_none()
                        || self.clock.now().duration_since(b.built) < TOKEN_REFRESH
                })
                .map(|b| b.pool.clone())
        };
        if let Some(pool) = fresh(&self.pool.lock().unwrap_or_else(|p| p.into_inner())) {
            return Ok(pool);
        }
        let _turn = self.refreshing.lock().await;
        if let Some(pool) = fresh(&self.pool.lock().unwrap_or_else(|p| p.into_inner())) {
            return Ok(pool);
        }
        let Some(passwords) = &self.passwords else {
            return Err(StoreError::Internal("the MySQL pool is missing".into()));
        };
        let password = passwords.password().await?;
        let pool = Pool::new(self.opts.clone().pass(Some(password)));
        let old = self
            .pool
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .replace(BuiltPool {
                pool: pool.clone(),
                built: self.clock.now(),
            });
        if let Some(old) = old {
            tokio::spawn(async move {
                let _ = old.pool.disconnect().await;
            });
        }
        Ok(pool)
    }

    async fn pooled(&self) -> Result<Conn, StoreError> {
        drop(self.warming.lock().await);
        let pool = self.current_pool().await?;
        match tokio::time::timeout(self.connect_timeout, pool.get_conn()).await {
            Ok(result) => result.map_err(classify),
            Err(_) => Err(StoreError::Unavailable(
                "timed out connecting to MySQL".into(),
            )),
        }
    }

    /// A live connection from the pool.
    async fn conn(&self) -> Result<Conn, StoreError> {
        let idle = {
            let mut last = self.last_used.lock().unwrap_or_else(|p| p.into_inner());
            let idle = last.elapsed() > IDLE_CHECK_AFTER;
            *last = Instant::now();
            idle
        };
        let mut conn = self.pooled().await?;
        if idle {
            let alive = tokio::time::timeout(Duration::from_secs(1), conn.ping())
                .await
                .is_ok_and(|pinged| pinged.is_ok());
            if !alive {
                // A broken connection is dropped, not returned to the pool.
                drop(conn);
                conn = self.pooled().await?;
            }
        }
        Ok(conn)
    }
}

struct MysqlTx(mysql_async::Transaction<'static>);

#[async_trait]
impl Tx for MysqlTx {
    async fn exec(&mut self, sql: &str, list: Vec<Param>) -> Result<u64, StoreError> {
        self.0
            .exec_drop(sql, params(list))
            .await
            .map_err(classify)?;
        Ok(self.0.affected_rows())
    }

    async fn query(&mut self, sql: &str, list: Vec<Param>) -> Result<Vec<Row>, StoreError> {
        let rows: Vec<mysql_async::Row> = self.0.exec(sql, params(list)).await.map_err(classify)?;
        Ok(rows.into_iter().map(row).collect())
    }

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        self.0.commit().await.map_err(classify)
    }
}

#[async_trait]
impl Backend for MysqlBackend {
    fn dialect(&self) -> Dialect {
        Dialect::Mysql
    }

    fn warm_up(self: Arc<Self>) {
        let Ok(turn) = Arc::clone(&self.warming).try_lock_owned() else {
            return;
        };
        tokio::spawn(async move {
            let pool = self.current_pool().await;
            if let Ok(pool) = pool {
                // Back to the pool when dropped; a failure is the first
                // request's to report.
                let _ = tokio::time::timeout(self.connect_timeout, pool.get_conn()).await;
            }
            drop(turn);
        });
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.conn().await?.ping().await.map_err(classify)
    }

    async fn migrate(&self) -> Result<usize, StoreError> {
        let mut conn = self.conn().await?;
        let locked: Option<i64> = conn
            .exec_first("SELECT GET_LOCK(?, 60)", (MIGRATION_LOCK,))
            .await
            .map_err(classify)?;
        if locked != Some(1) {
            return Err(StoreError::Unavailable(
                "another process holds the migration lock".into(),
            ));
        }
        let result = apply_migrations(&mut conn).await;
        let released = conn
            .exec_drop("SELECT RELEASE_LOCK(?)", (MIGRATION_LOCK,))
            .await
            .map_err(classify);
        let applied = result?;
        released?;
        Ok(applied)
    }

    async fn begin(&self) -> Result<Box<dyn Tx>, StoreError> {
        self.start(TxOpts::default()).await
    }

    async fn begin_range_locking(&self) -> Result<Box<dyn Tx>, StoreError> {
        // For this transaction only: the session stays READ COMMITTED.
        let mut opts = TxOpts::default();
        opts.with_isolation_level(IsolationLevel::RepeatableRead);
        self.start(opts).await
    }

    async fn query(&self, sql: &str, list: Vec<Param>) -> Result<Vec<Row>, StoreError> {
        let mut conn = self.conn().await?;
        let rows: Vec<mysql_async::Row> = conn.exec(sql, params(list)).await.map_err(classify)?;
        Ok(rows.into_iter().map(row).collect())
    }

    async fn exec(&self, sql: &str, list: Vec<Param>) -> Result<u64, StoreError> {
        let mut conn = self.conn().await?;
        conn.exec_drop(sql, params(list)).await.map_err(classify)?;
        Ok(conn.affected_rows())
    }
}

async fn apply_migrations(conn: &mut Conn) -> Result<usize, StoreError> {
    conn.query_drop(
        "CREATE TABLE IF NOT EXISTS schema_migrations (\
         version BIGINT NOT NULL PRIMARY KEY, name VARCHAR(200) NOT NULL, applied_at BIGINT NOT NULL\
         ) ENGINE=InnoDB",
    )
    .await
    .map_err(classify)?;
    let done: Vec<i64> = conn
        .query("SELECT version FROM schema_migrations")
        .await
        .map_err(classify)?;
    let mut applied = 0;
    for migration in MIGRATIONS.iter().filter(|m| !done.contains(&m.version)) {
        // MySQL commits DDL implicitly; the lock, not a transaction, keeps
        // two processes from applying the same migration.
        for statement in migration.statements() {
            conn.query_drop(statement).await.map_err(classify)?;
        }
        conn.exec_drop(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
            (
                migration.version,
                migration.name,
                crate::domain::now_micros(),
            ),
        )
        .await
        .map_err(classify)?;
        applied += 1;
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Counts the tokens it hands out.
    #[derive(Default)]
    struct CountingTokens(AtomicUsize);

    #[async_trait]
    impl PasswordSource for CountingTokens {
        async fn password(&self) -> Result<String, StoreError> {
            Ok(format!("token-{}", self.0.fetch_add(1, Ordering::SeqCst)))
        }
    }

    /// A clock the test moves by hand.
    struct ManualClock(Mutex<Instant>);

    impl Clock for ManualClock {
        fn now(&self) -> Instant {
            *self.0.lock().unwrap()
        }
    }

    #[test]
    fn the_rds_bundle_holds_amazon_rds_roots_that_rustls_accepts() {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::CertificateDer;
        let certs: Vec<CertificateDer> = CertificateDer::pem_slice_iter(RDS_CA_BUNDLE)
            .collect::<Result<_, _>>()
            .expect("the bundle is PEM");
        let named = |cert: &CertificateDer, name: &[u8]| {
            cert.windows(name.len()).any(|window| window == name)
        };
        let mut roots = rustls::RootCertStore::empty();
        for cert in &certs {
            assert!(named(cert, b"Amazon RDS"), "not an Amazon RDS CA");
            roots
                .add(cert.clone())
                .expect("a trust anchor rustls accepts");
        }
        // The region this project deploys to: RSA2048, RSA4096 and ECC384.
        let us_east_1 = certs
            .iter()
            .filter(|cert| named(cert, b"Amazon RDS us-east-1 Root CA"))
            .count();
        assert_eq!(us_east_1, 3);
        assert!(roots.len() > 60, "every region's roots: {}", roots.len());
    }

    #[tokio::test]
    async fn iam_pools_are_rebuilt_with_a_fresh_token_before_it_expires() {
        let settings = MysqlSettings {
            url: "mysql://expense_app@proxy.example:3306/expenses".into(),
            pool_max: 1,
            sql_mode: None,
            connect_timeout: Duration::from_secs(2),
            statement_timeout: Duration::from_secs(5),
            iam_auth: true,
            ca_bundle: None,
        };
        let tokens = Arc::new(CountingTokens::default());
        let clock = Arc::new(ManualClock(Mutex::new(Instant::now())));
        let backend =
            MysqlBackend::with_passwords(&settings, tokens.clone(), clock.clone()).unwrap();
        let issued = || tokens.0.load(Ordering::SeqCst);

        backend.current_pool().await.unwrap();
        assert_eq!(issued(), 1, "the first pool gets a token");
        *clock.0.lock().unwrap() += Duration::from_secs(9 * 60);
        backend.current_pool().await.unwrap();
        assert_eq!(issued(), 1, "a 9-minute-old token is still used");
        *clock.0.lock().unwrap() += Duration::from_secs(2 * 60);
        backend.current_pool().await.unwrap();
        assert_eq!(issued(), 2, "at 11 minutes a new pool gets a new token");
        backend.current_pool().await.unwrap();
        assert_eq!(issued(), 2);
        // IAM always means TLS and the cleartext plugin.
        let opts = Opts::from(backend.opts.clone());
        assert!(opts.ssl_opts().is_some() && opts.enable_cleartext_plugin());
    }
}
