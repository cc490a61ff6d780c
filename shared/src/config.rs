//! Configuration from the environment (the README's table lists it all).

use std::time::Duration;

use crate::auth::AuthSettings;
use crate::cache::{CacheSettings, MAX_TTL};
use crate::store::mysql::MysqlSettings;

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

#[derive(Clone, Debug)]
pub struct Config {
    pub database: DatabaseSettings,
    pub cache: Option<CacheSettings>,
    /// `None`: nothing configured (only a loopback server may then run,
    /// with a secret it makes up).
    pub auth: Option<AuthSettings>,
}

/// The embedded default when `DATABASE_URL` is unset.
pub const DEFAULT_SQLITE_PATH: &str = "data/expenses.db";

/// Time budgets of DESIGN.md.
pub const DB_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
pub const DB_STATEMENT_TIMEOUT: Duration = Duration::from_secs(5);
pub const CACHE_COMMAND_TIMEOUT: Duration = Duration::from_millis(50);

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn parse_var<T: std::str::FromStr>(name: &str) -> Result<Option<T>, String> {
    var(name)
        .map(|v| {
            v.trim()
                .parse::<T>()
                .map_err(|_| format!("{name} is not valid: {v:?}"))
        })
        .transpose()
}

/// Reads `DATABASE_URL` forms: `mysql://…`, `sqlite:///abs/path.db`,
/// `sqlite://relative.db`, `sqlite::memory:`.
pub fn database_from_url(url: Option<&str>, runtime: Runtime) -> Result<DatabaseSettings, String> {
    let Some(url) = url else {
        return Ok(DatabaseSettings::Sqlite(DEFAULT_SQLITE_PATH.into()));
    };
    if url == "sqlite::memory:" || url == "sqlite://:memory:" {
        return Ok(DatabaseSettings::Sqlite(":memory:".into()));
    }
    if let Some(path) = url.strip_prefix("sqlite://") {
        if path.is_empty() {
            return Err("DATABASE_URL sqlite:// needs a path".into());
        }
        return Ok(DatabaseSettings::Sqlite(path.into()));
    }
    if url.starts_with("mysql://") {
        let pool_default = match runtime {
            Runtime::Lambda => 1,
            Runtime::Server => 10,
        };
        return Ok(DatabaseSettings::Mysql(MysqlSettings {
            url: url.into(),
            pool_max: parse_var("DB_POOL_MAX")?.unwrap_or(pool_default),
            sql_mode: var("DATABASE_SQL_MODE"),
            connect_timeout: DB_CONNECT_TIMEOUT,
            statement_timeout: DB_STATEMENT_TIMEOUT,
            iam_auth: parse_var::<bool>("DB_IAM_AUTH")?.unwrap_or(false),
            ca_bundle: var("DB_CA_BUNDLE").map(Into::into),
        }));
    }
    Err("DATABASE_URL must start with mysql:// or sqlite:".into())
}

impl Config {
    pub fn from_env(runtime: Runtime) -> Result<Config, String> {
        let database = database_from_url(var("DATABASE_URL").as_deref(), runtime)?;
        let cache = var("REDIS_URL").map(|url| -> Result<CacheSettings, String> {
            let ttl = parse_var::<u64>("CACHE_TTL_SECONDS")?.unwrap_or(MAX_TTL.as_secs());
            Ok(CacheSettings {
                url,
                auth_secret_arn: var("REDIS_AUTH_SECRET_ARN"),
                ca_bundle: var("REDIS_CA_BUNDLE").map(Into::into),
                key_prefix: var("CACHE_KEY_PREFIX").unwrap_or_else(|| "et:".into()),
                ttl: Duration::from_secs(ttl),
                command_timeout: CACHE_COMMAND_TIMEOUT,
            })
        });
        let auth = match (var("JWT_SECRET"), var("JWT_JWKS_URL")) {
            (Some(_), Some(_)) => return Err("set JWT_SECRET or JWT_JWKS_URL, not both".into()),
            (Some(secret), None) => Some(AuthSettings::Hs256 { secret }),
            (None, Some(url)) => Some(AuthSettings::Jwks {
                url,
                issuer: var("JWT_ISSUER"),
                audience: var("JWT_AUDIENCE"),
                min_refresh: Duration::from_secs(
                    parse_var("JWT_JWKS_MIN_REFRESH_SECONDS")?.unwrap_or(10),
                ),
            }),
            (None, None) => None,
        };
        Ok(Config {
            database,
            cache: cache.transpose()?,
            auth,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_database_urls() {
        let sqlite = |url: Option<&str>| match database_from_url(url, Runtime::Server).unwrap() {
            DatabaseSettings::Sqlite(path) => path,
            other => panic!("{other:?}"),
        };
        assert_eq!(sqlite(None), DEFAULT_SQLITE_PATH);
        assert_eq!(sqlite(Some("sqlite::memory:")), ":memory:");
        assert_eq!(sqlite(Some("sqlite:///tmp/x.db")), "/tmp/x.db");
        assert_eq!(sqlite(Some("sqlite://rel/x.db")), "rel/x.db");
        match database_from_url(Some("mysql://root@127.0.0.1/db"), Runtime::Lambda).unwrap() {
            DatabaseSettings::Mysql(m) => assert_eq!(m.pool_max, 1),
            other => panic!("{other:?}"),
        }
        assert!(database_from_url(Some("postgres://x"), Runtime::Server).is_err());
    }
}
