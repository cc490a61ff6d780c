//! The jobs that are not HTTP requests: preparing the database for a
//! release (the `migrate` Lambda handler and `server migrate`) and the
//! periodic purge of expired idempotency keys and of deleted ledgers' data
//! (the `purge-idempotency` handler and the server's own timer).
//!
//! Preparing the database:
//! 1. On RDS (when `DB_MASTER_SECRET_ARN` is set): as the master user,
//!    create the database and the users `expense_app` (data only) and
//!    `expense_migrator` (schema), with the passwords from their Secrets
//!    Manager secrets (`APP_DB_SECRET_ARN`, `MIGRATOR_DB_SECRET_ARN`).
//!    The master user connects where DATABASE_URL points (RDS Proxy, which
//!    has the master secret as one of its logins) over TLS, with an IAM
//!    token when `DB_IAM_AUTH=true`, else the secret's password;
//!    `DB_MASTER_HOST` may name the RDS instance instead (its certificate
//!    is checked against the bundled Amazon RDS CAs).
//! 2. Apply pending migrations to `DATABASE_URL` under the migration lock
//!    (on AWS: as `expense_migrator` through RDS Proxy with an IAM token).

use mysql_async::OptsBuilder;

use crate::config::{Config, DatabaseSettings};
use crate::provision::{provision_users, DbUser};
use crate::secrets::{read_secret, secret_field};
use crate::start::StartError;
use crate::store::iam::{PasswordSource, RdsIamTokens};
use crate::store::mysql::tls_opts;

async fn user_from_secret(arn: &str) -> Result<DbUser, StartError> {
    let secret = read_secret(arn).await?;
    Ok(DbUser {
        name: secret_field(&secret, &["username"]),
        password: secret_field(&secret, &["password"]),
    })
}

/// Step 1, when configured.
async fn provision(config: &Config) -> Result<(), StartError> {
    let Some(provision) = &config.provision else {
        return Ok(());
    };
    let DatabaseSettings::Mysql(settings) = &config.database else {
        return Err(StartError::ProvisionWithoutMysql);
    };
    let database = mysql_async::Opts::from_url(&settings.url)?
        .db_name()
        .ok_or(StartError::NoDatabaseName)?
        .to_owned();
    let master = user_from_secret(&provision.master_secret_arn).await?;
    let master_name = provision.master_username.clone().unwrap_or(master.name);
    let app = user_from_secret(&provision.app_secret_arn).await?;
    let migrator = user_from_secret(&provision.migrator_secret_arn).await?;
    let (proxy_host, port, _) = settings.endpoint()?;
    let host = provision.master_host.clone().unwrap_or(proxy_host);
    let password = if settings.iam_auth {
        let tokens = RdsIamTokens::from_environment(&host, port, &master_name);
        tokens.password().await?
    } else {
        master.password
    };
    let opts = OptsBuilder::default()
        .ip_or_hostname(host)
        .tcp_port(port)
        .user(Some(master_name))
        .pass(Some(password))
        .ssl_opts(tls_opts(settings.ca_bundle.as_deref()))
        .enable_cleartext_plugin(settings.iam_auth);
    Ok(provision_users(opts.into(), &database, &app, &migrator).await?)
}

/// Provisions the users (on RDS) and applies pending migrations; returns
/// how many were applied.
pub async fn prepare_database(config: &Config) -> Result<usize, StartError> {
    provision(config).await?;
    crate::app::migrate(config).await
}

/// What one run of the periodic purge removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Purged {
    /// Expired idempotency records.
    pub purged: u64,
    /// Rows of deleted ledgers (their data, members, invitations, and the
    /// ledgers themselves).
    pub ledger_rows: u64,
}

/// The periodic purge: expired idempotency keys, then what deleted ledgers
/// held, both in bounded batches.
pub async fn purge(store: &dyn crate::store::Store) -> Result<Purged, crate::store::StoreError> {
    Ok(Purged {
        purged: store.purge_idempotency(crate::domain::now_micros()).await?,
        ledger_rows: store.purge_deleted_ledgers().await?,
    })
}
