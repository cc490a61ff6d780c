//! Why a process could not start, or a one-off job (migrate, backfill,
//! purge, token) could not run: each cause its own variant, so the message
//! says what to fix.

use std::net::SocketAddr;

use crate::config::ConfigError;
use crate::http::routes::{FALLBACK_FUNCTION, MIGRATE_FUNCTION, PURGE_FUNCTION};
use crate::secrets::SecretError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("unknown handler {0:?}: set the function's Handler to a function name of routes.json, {FALLBACK_FUNCTION}, {MIGRATE_FUNCTION} or {PURGE_FUNCTION}")]
    UnknownHandler(String),
    #[error("token verification is not configured: set JWT_SECRET or JWT_JWKS_URL")]
    NoTokenVerification,
    #[error("this build has no SQLite (Lambda builds use MySQL only): set DATABASE_URL to a mysql:// URL, or build with the sqlite feature")]
    NoSqlite,
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("DATABASE_URL: {0}")]
    DatabaseUrl(#[from] mysql_async::UrlError),
    #[error("DATABASE_URL names no database")]
    NoDatabaseName,
    #[error("DB_MASTER_SECRET_ARN needs a mysql:// DATABASE_URL")]
    ProvisionWithoutMysql,
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("REDIS_URL: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("{name} {path}: {source}")]
    File {
        name: &'static str,
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("the JWKS client: {0}")]
    JwksClient(#[from] reqwest::Error),
    #[error("minting a token: {0}")]
    Token(#[from] jsonwebtoken::errors::Error),
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error("serving: {0}")]
    Serve(std::io::Error),
    #[error("{0}")]
    Usage(&'static str),
}
