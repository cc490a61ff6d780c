//! The `App`: configuration, store, cache and token verifier, built once
//! per process (outside any handler) and shared by every request, so a
//! warm Lambda container reuses its connections.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::Bytes;

use crate::auth::Verifier;
use crate::cache::Cache;
use crate::config::{Config, DatabaseSettings};
use crate::start::StartError;
use crate::store::{DynStore, SqlStore};

pub struct App {
    pub store: DynStore,
    pub cache: Option<Cache>,
    pub verifier: Verifier,
    /// The OpenAPI document, rendered on its first request, not at start:
    /// most functions never serve it.
    openapi: std::sync::OnceLock<Bytes>,
    /// Set when the process is shutting down: `/health` then answers 503
    /// so load balancers stop sending new requests.
    draining: AtomicBool,
}

impl App {
    /// Builds the app. Token verification must be configured by now (the
    /// server makes up a secret for loopback-only runs before calling this).
    pub async fn build(config: &Config) -> Result<App, StartError> {
        // One TLS crypto provider for the whole process (MySQL, Redis,
        // JWKS): two linked providers would make rustls refuse to choose.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let auth = config
            .auth
            .as_ref()
            .ok_or(StartError::NoTokenVerification)?;
        let store = open_store(&config.database).await?;
        // The database connects while the rest is set up and the first
        // event is fetched.
        store.warm_up();
        let cache = match &config.cache {
            None => None,
            Some(settings) => Some(Cache::new(settings.clone())?),
        };
        if let Some(cache) = &cache {
            // Start connecting now, so the first requests find it ready.
            cache.ping().await;
        }
        Ok(App {
            store,
            cache,
            verifier: Verifier::new(auth)?,
            openapi: std::sync::OnceLock::new(),
            draining: AtomicBool::new(false),
        })
    }

    pub fn openapi(&self) -> Bytes {
        self.openapi
            .get_or_init(|| Bytes::from(crate::openapi::document().to_string()))
            .clone()
    }

    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::Release);
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }
}

pub async fn open_store(settings: &DatabaseSettings) -> Result<DynStore, StartError> {
    Ok(match settings {
        #[cfg(feature = "sqlite")]
        DatabaseSettings::Sqlite(path) => {
            Arc::new(SqlStore::sqlite(path, crate::config::DB_STATEMENT_TIMEOUT)?)
        }
        #[cfg(not(feature = "sqlite"))]
        DatabaseSettings::Sqlite(_) => return Err(StartError::NoSqlite),
        DatabaseSettings::Mysql(mysql) => Arc::new(SqlStore::mysql(mysql).await?),
    })
}

/// Recomputes the report rollups and the tag rows' dates, then switches
/// reports and tag pages to them: the last step of a deployment
/// (`server backfill`, or the `migrate` function invoked with
/// `{"backfill": true}`).
pub async fn backfill(config: &Config) -> Result<crate::store::Backfill, StartError> {
    let store = open_store(&config.database).await?;
    Ok(store.backfill().await?)
}

/// Applies pending migrations to the configured database: what the
/// `migrate` function and `server` (on start) run.
pub async fn migrate(config: &Config) -> Result<usize, StartError> {
    let store = open_store(&config.database).await?;
    Ok(store.migrate().await?)
}
