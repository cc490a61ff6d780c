//! Every setting of every binary (`server`, the Lambda `bootstrap`, its
//! jobs), read from the environment here and nowhere else: [`Config::from_env`]
//! reads each of [`VARIABLES`] once and checks it, so a bad value stops
//! the process at start with a [`ConfigError`] that names the variable.
//! The README's configuration table lists exactly [`VARIABLES`] (a test
//! checks both ways).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use crate::auth::AuthSettings;
use crate::cache::{CacheSettings, MAX_TTL};
use crate::store::mysql::MysqlSettings;

/// The variables an operator sets, in the README table's order.
pub const VARIABLES: &[&str] = &[
    "DATABASE_URL",
    "DATABASE_SQL_MODE",
    "DB_POOL_MAX",
    "DB_IAM_AUTH",
    "DB_CA_BUNDLE",
    "REDIS_URL",
    "REDIS_AUTH_SECRET_ARN",
    "REDIS_CA_BUNDLE",
    "CACHE_KEY_PREFIX",
    "CACHE_TTL_SECONDS",
    "JWT_SECRET",
    "JWT_JWKS_URL",
    "JWT_ISSUER",
    "JWT_AUDIENCE",
    "JWT_JWKS_MIN_REFRESH_SECONDS",
    "HOST",
    "PORT",
    "MIGRATE_ON_START",
    "SHUTDOWN_DELAY_SECONDS",
    "SHUTDOWN_TIMEOUT_SECONDS",
    "_HANDLER",
    "DB_MASTER_SECRET_ARN",
    "APP_DB_SECRET_ARN",
    "MIGRATOR_DB_SECRET_ARN",
    "DB_MASTER_USERNAME",
    "DB_MASTER_HOST",
    "LOG_FORMAT",
    "RUST_LOG",
];

/// Set by the platform, never by an operator: they only tell where the
/// process runs (the default log format, a Lambda runtime or a shell).
pub const PLATFORM_VARIABLES: &[&str] = &[
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_LAMBDA_FUNCTION_NAME",
    "KUBERNETES_SERVICE_HOST",
];

/// Why the configuration cannot be used.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{name} is not valid: {value:?} (expected {expected})")]
    Invalid {
        name: &'static str,
        value: String,
        expected: &'static str,
    },
    /// A secret that is too short; its value is never shown.
    #[error("{name} must be at least {min} characters")]
    TooShort { name: &'static str, min: usize },
    #[error("set {0} or {1}, not both")]
    Conflict(&'static str, &'static str),
    #[error("{name} needs {needs}")]
    Needs {
        name: &'static str,
        needs: &'static str,
    },
    #[error(
        "refusing to listen on {0} without token verification: set JWT_SECRET or JWT_JWKS_URL"
    )]
    OpenListener(IpAddr),
}

/// Where the data lives.
#[derive(Clone, Debug)]
pub enum DatabaseSettings {
    /// A file path, or `:memory:`.
    Sqlite(String),
    Mysql(MysqlSettings),
}

/// What kind of process reads the configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runtime {
    /// One request at a time per container: one database connection.
    Lambda,
    Server,
}

/// `server`'s own settings (`HOST`, `PORT`, `MIGRATE_ON_START`,
/// `SHUTDOWN_*`).
#[derive(Clone, Debug)]
pub struct ServerSettings {
    /// `None`: 0.0.0.0 when tokens are verified, else 127.0.0.1.
    pub host: Option<IpAddr>,
    /// 0 picks a free port.
    pub port: u16,
    pub migrate_on_start: bool,
    /// On SIGTERM: how long to keep serving while `/health` answers 503.
    pub shutdown_delay: Duration,
    /// Then: how long requests in flight may take.
    pub shutdown_timeout: Duration,
}

/// The migrate job's first step on RDS: creating the database users as the
/// master user (`DB_MASTER_SECRET_ARN` and the rest; see `jobs`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProvisionSettings {
    pub master_secret_arn: String,
    pub app_secret_arn: String,
    pub migrator_secret_arn: String,
    /// Instead of the master secret's `username`.
    pub master_username: Option<String>,
    /// The RDS instance, instead of where `DATABASE_URL` points.
    pub master_host: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Text,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogSettings {
    pub format: LogFormat,
    /// `RUST_LOG`'s filter; `None`: `info`.
    pub filter: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub database: DatabaseSettings,
    pub cache: Option<CacheSettings>,
    /// `None`: nothing configured (only a loopback server may then run,
    /// with a secret it makes up).
    pub auth: Option<AuthSettings>,
    pub server: ServerSettings,
    /// `Some` when `DB_MASTER_SECRET_ARN` is set.
    pub provision: Option<ProvisionSettings>,
    pub log: LogSettings,
    /// `_HANDLER` (Lambda sets it from the function's `Handler`): which job
    /// the `bootstrap` binary does; `None` serves every route.
    pub handler: Option<String>,
    /// Whether a Lambda runtime API is there to take invocations from
    /// (`AWS_LAMBDA_RUNTIME_API`); otherwise `bootstrap` runs from a shell.
    pub lambda_runtime: bool,
}

/// The embedded default when `DATABASE_URL` is unset.
pub const DEFAULT_SQLITE_PATH: &str = "data/expenses.db";

/// Time budgets of DESIGN.md.
pub const DB_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
pub const DB_STATEMENT_TIMEOUT: Duration = Duration::from_secs(5);
pub const CACHE_COMMAND_TIMEOUT: Duration = Duration::from_millis(50);

/// The shortest `JWT_SECRET` accepted.
pub const MIN_JWT_SECRET_CHARS: usize = 16;

/// The environment as a lookup: blank values count as unset.
struct Env<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl Env<'_> {
    fn text(&self, name: &'static str) -> Option<String> {
        (self.lookup)(name).filter(|v| !v.trim().is_empty())
    }

    fn parsed<T: std::str::FromStr>(
        &self,
        name: &'static str,
        expected: &'static str,
    ) -> Result<Option<T>, ConfigError> {
        self.text(name)
            .map(|value| {
                value.trim().parse::<T>().map_err(|_| ConfigError::Invalid {
                    name,
                    value,
                    expected,
                })
            })
            .transpose()
    }

    fn seconds(&self, name: &'static str, default: u64) -> Result<Duration, ConfigError> {
        Ok(Duration::from_secs(
            self.parsed(name, "a whole number of seconds")?
                .unwrap_or(default),
        ))
    }

    fn flag(&self, name: &'static str, default: bool) -> Result<bool, ConfigError> {
        Ok(self.parsed(name, "true or false")?.unwrap_or(default))
    }

    fn is_set(&self, name: &'static str) -> bool {
        (self.lookup)(name).is_some()
    }
}

impl Config {
    /// Reads the process's environment.
    pub fn from_env(runtime: Runtime) -> Result<Config, ConfigError> {
        Config::from_lookup(runtime, &|name| std::env::var(name).ok())
    }

    /// Reads the configuration from `lookup` (the environment, or a test's
    /// map): each of [`VARIABLES`] and [`PLATFORM_VARIABLES`], nothing else.
    pub fn from_lookup(
        runtime: Runtime,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let env = Env { lookup };
        Ok(Config {
            database: database(&env, runtime)?,
            cache: cache(&env)?,
            auth: auth(&env)?,
            server: ServerSettings {
                host: env.parsed("HOST", "an IP address")?,
                port: env.parsed("PORT", "a port number")?.unwrap_or(8080),
                migrate_on_start: env.flag("MIGRATE_ON_START", true)?,
                shutdown_delay: env.seconds("SHUTDOWN_DELAY_SECONDS", 0)?,
                shutdown_timeout: env.seconds("SHUTDOWN_TIMEOUT_SECONDS", 20)?,
            },
            provision: provision(&env)?,
            log: LogSettings {
                format: match env.text("LOG_FORMAT").as_deref().map(str::trim) {
                    Some("json") => LogFormat::Json,
                    Some("text") => LogFormat::Text,
                    Some(other) => {
                        return Err(ConfigError::Invalid {
                            name: "LOG_FORMAT",
                            value: other.into(),
                            expected: "json or text",
                        })
                    }
                    // People read a terminal; machines read Lambda's and
                    // Kubernetes' logs.
                    None if env.is_set("AWS_LAMBDA_FUNCTION_NAME")
                        || env.is_set("KUBERNETES_SERVICE_HOST") =>
                    {
                        LogFormat::Json
                    }
                    None => LogFormat::Text,
                },
                filter: env.text("RUST_LOG"),
            },
            handler: env.text("_HANDLER").map(|h| h.trim().to_owned()),
            lambda_runtime: env.is_set("AWS_LAMBDA_RUNTIME_API"),
        })
    }

    /// Where `server` listens: `HOST` and `PORT`, with the rule that
    /// without token verification only a loopback address is allowed.
    pub fn listen_address(&self) -> Result<SocketAddr, ConfigError> {
        let verified = self.auth.is_some();
        let ip = self.server.host.unwrap_or(if verified {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        } else {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        });
        if !verified && !ip.is_loopback() {
            return Err(ConfigError::OpenListener(ip));
        }
        Ok(SocketAddr::new(ip, self.server.port))
    }
}

/// `DATABASE_URL` forms: `mysql://…`, `sqlite:///abs/path.db`,
/// `sqlite://relative.db`, `sqlite::memory:`.
fn database(env: &Env, runtime: Runtime) -> Result<DatabaseSettings, ConfigError> {
    let Some(url) = env.text("DATABASE_URL") else {
        return Ok(DatabaseSettings::Sqlite(DEFAULT_SQLITE_PATH.into()));
    };
    let url = url.trim();
    if url == "sqlite::memory:" || url == "sqlite://:memory:" {
        return Ok(DatabaseSettings::Sqlite(":memory:".into()));
    }
    match url.strip_prefix("sqlite://") {
        Some(path) if !path.is_empty() => return Ok(DatabaseSettings::Sqlite(path.into())),
        _ if !url.starts_with("mysql://") => {
            return Err(ConfigError::Invalid {
                name: "DATABASE_URL",
                value: url.into(),
                expected: "mysql://…, sqlite://PATH or sqlite::memory:",
            })
        }
        _ => {}
    }
    let pool_default = match runtime {
        Runtime::Lambda => 1,
        Runtime::Server => 10,
    };
    Ok(DatabaseSettings::Mysql(MysqlSettings {
        url: url.into(),
        pool_max: env
            .parsed("DB_POOL_MAX", "a number of connections")?
            .unwrap_or(pool_default),
        sql_mode: env.text("DATABASE_SQL_MODE"),
        connect_timeout: DB_CONNECT_TIMEOUT,
        statement_timeout: DB_STATEMENT_TIMEOUT,
        iam_auth: env.flag("DB_IAM_AUTH", false)?,
        ca_bundle: env.text("DB_CA_BUNDLE").map(Into::into),
    }))
}

fn cache(env: &Env) -> Result<Option<CacheSettings>, ConfigError> {
    let Some(url) = env.text("REDIS_URL") else {
        return Ok(None);
    };
    Ok(Some(CacheSettings {
        url,
        auth_secret_arn: env.text("REDIS_AUTH_SECRET_ARN"),
        ca_bundle: env.text("REDIS_CA_BUNDLE").map(Into::into),
        key_prefix: env.text("CACHE_KEY_PREFIX").unwrap_or_else(|| "et:".into()),
        ttl: env.seconds("CACHE_TTL_SECONDS", MAX_TTL.as_secs())?,
        command_timeout: CACHE_COMMAND_TIMEOUT,
    }))
}

fn auth(env: &Env) -> Result<Option<AuthSettings>, ConfigError> {
    Ok(match (env.text("JWT_SECRET"), env.text("JWT_JWKS_URL")) {
        (Some(_), Some(_)) => return Err(ConfigError::Conflict("JWT_SECRET", "JWT_JWKS_URL")),
        (Some(secret), None) if secret.chars().count() < MIN_JWT_SECRET_CHARS => {
            return Err(ConfigError::TooShort {
                name: "JWT_SECRET",
                min: MIN_JWT_SECRET_CHARS,
            })
        }
        (Some(secret), None) => Some(AuthSettings::Hs256 { secret }),
        (None, Some(url)) => Some(AuthSettings::Jwks {
            url,
            issuer: env.text("JWT_ISSUER"),
            audience: env.text("JWT_AUDIENCE"),
            min_refresh: env.seconds("JWT_JWKS_MIN_REFRESH_SECONDS", 10)?,
        }),
        (None, None) => None,
    })
}

fn provision(env: &Env) -> Result<Option<ProvisionSettings>, ConfigError> {
    let Some(master_secret_arn) = env.text("DB_MASTER_SECRET_ARN") else {
        return Ok(None);
    };
    let needs = || ConfigError::Needs {
        name: "DB_MASTER_SECRET_ARN",
        needs: "APP_DB_SECRET_ARN and MIGRATOR_DB_SECRET_ARN",
    };
    Ok(Some(ProvisionSettings {
        master_secret_arn,
        app_secret_arn: env.text("APP_DB_SECRET_ARN").ok_or_else(needs)?,
        migrator_secret_arn: env.text("MIGRATOR_DB_SECRET_ARN").ok_or_else(needs)?,
        master_username: env.text("DB_MASTER_USERNAME"),
        master_host: env.text("DB_MASTER_HOST"),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::collections::{BTreeSet, HashMap};

    fn read(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(Runtime::Server, &|name| vars.get(name).cloned())
    }

    fn sqlite(url: &str) -> String {
        match read(&[("DATABASE_URL", url)]).unwrap().database {
            DatabaseSettings::Sqlite(path) => path,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reads_database_urls() {
        assert_eq!(sqlite(""), DEFAULT_SQLITE_PATH);
        assert_eq!(sqlite("sqlite::memory:"), ":memory:");
        assert_eq!(sqlite("sqlite:///tmp/x.db"), "/tmp/x.db");
        assert_eq!(sqlite("sqlite://rel/x.db"), "rel/x.db");
        let lambda = Config::from_lookup(Runtime::Lambda, &|name| {
            (name == "DATABASE_URL").then(|| "mysql://root@127.0.0.1/db".to_owned())
        });
        match lambda.unwrap().database {
            DatabaseSettings::Mysql(m) => assert_eq!(m.pool_max, 1),
            other => panic!("{other:?}"),
        }
        for bad in ["postgres://x", "sqlite://"] {
            assert!(matches!(
                read(&[("DATABASE_URL", bad)]),
                Err(ConfigError::Invalid {
                    name: "DATABASE_URL",
                    ..
                })
            ));
        }
    }

    #[test]
    fn every_bad_value_names_its_variable() {
        let cases = [
            (
                "PORT",
                "http",
                "PORT is not valid: \"http\" (expected a port number)",
            ),
            (
                "HOST",
                "localhost",
                "HOST is not valid: \"localhost\" (expected an IP address)",
            ),
            (
                "MIGRATE_ON_START",
                "no",
                "MIGRATE_ON_START is not valid: \"no\" (expected true or false)",
            ),
            (
                "SHUTDOWN_DELAY_SECONDS",
                "5s",
                "SHUTDOWN_DELAY_SECONDS is not valid: \"5s\" (expected a whole number of seconds)",
            ),
            (
                "LOG_FORMAT",
                "yaml",
                "LOG_FORMAT is not valid: \"yaml\" (expected json or text)",
            ),
            (
                "JWT_SECRET",
                "short",
                "JWT_SECRET must be at least 16 characters",
            ),
        ];
        for (name, value, message) in cases {
            let error = read(&[(name, value)]).unwrap_err();
            assert_eq!(error.to_string(), message);
        }
        let both = read(&[
            ("JWT_SECRET", "0123456789abcdef"),
            ("JWT_JWKS_URL", "https://x"),
        ]);
        assert_eq!(
            both.unwrap_err(),
            ConfigError::Conflict("JWT_SECRET", "JWT_JWKS_URL")
        );
        let half = read(&[
            ("DB_MASTER_SECRET_ARN", "arn:m"),
            ("APP_DB_SECRET_ARN", "arn:a"),
        ]);
        assert!(matches!(half, Err(ConfigError::Needs { .. })));
    }

    #[test]
    fn defaults_and_the_loopback_rule() {
        let config = read(&[]).unwrap();
        assert!(config.auth.is_none() && config.cache.is_none() && config.provision.is_none());
        assert!(config.server.migrate_on_start);
        assert_eq!(config.server.shutdown_timeout, Duration::from_secs(20));
        assert_eq!(config.log.format, LogFormat::Text);
        assert_eq!(
            config.listen_address().unwrap().to_string(),
            "127.0.0.1:8080"
        );
        let open = read(&[("HOST", "0.0.0.0")]).unwrap();
        assert!(matches!(
            open.listen_address(),
            Err(ConfigError::OpenListener(_))
        ));
        let verified = read(&[("JWT_SECRET", "0123456789abcdef"), ("PORT", "0")]).unwrap();
        assert_eq!(verified.listen_address().unwrap().to_string(), "0.0.0.0:0");
        let in_lambda = read(&[
            ("AWS_LAMBDA_FUNCTION_NAME", "f"),
            ("_HANDLER", " get-expense "),
        ]);
        let in_lambda = in_lambda.unwrap();
        assert_eq!(in_lambda.log.format, LogFormat::Json);
        assert_eq!(in_lambda.handler.as_deref(), Some("get-expense"));
    }

    /// Every name the reader asks for is one of ours or the platform's, and
    /// each of ours is asked for (with every optional part configured).
    #[test]
    fn reads_exactly_the_listed_variables() {
        let asked = RefCell::new(BTreeSet::new());
        let everything = |name: &str| -> Option<String> {
            asked.borrow_mut().insert(name.to_owned());
            Some(
                match name {
                    "DATABASE_URL" => "mysql://u@h/db",
                    "REDIS_URL" => "redis://h",
                    "JWT_SECRET" => return None,
                    "JWT_JWKS_URL" => "https://h/jwks",
                    "HOST" => "127.0.0.1",
                    "DB_IAM_AUTH" | "MIGRATE_ON_START" => "true",
                    "LOG_FORMAT" => "json",
                    n if n.ends_with("_SECONDS") || n == "PORT" || n == "DB_POOL_MAX" => "1",
                    _ => "x",
                }
                .to_owned(),
            )
        };
        Config::from_lookup(Runtime::Server, &everything).unwrap();
        let asked = asked.into_inner();
        let known: BTreeSet<String> = VARIABLES
            .iter()
            .chain(PLATFORM_VARIABLES)
            .map(|s| s.to_string())
            .collect();
        let unlisted: Vec<_> = asked.difference(&known).collect();
        assert!(unlisted.is_empty(), "read but not listed: {unlisted:?}");
        let unread: Vec<_> = VARIABLES.iter().filter(|v| !asked.contains(**v)).collect();
        assert!(unread.is_empty(), "listed but never read: {unread:?}");
    }

    /// The README's configuration table names exactly [`VARIABLES`].
    #[test]
    fn the_readme_table_lists_every_variable() {
        let readme = include_str!("../../README.md");
        let table: Vec<String> = readme
            .lines()
            .skip_while(|line| *line != "## Configuration")
            .skip_while(|line| !line.starts_with('|'))
            // The header row and the rule under it.
            .skip(2)
            .take_while(|line| line.starts_with('|'))
            .flat_map(|line| {
                let first = line.split('|').nth(1).unwrap_or_default();
                first
                    .split('`')
                    .skip(1)
                    .step_by(2)
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(table, VARIABLES, "README.md's configuration table");
    }
}
