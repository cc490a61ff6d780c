//! RDS IAM database authentication: instead of a stored password, each new
//! connection presents a token signed with the function's AWS credentials
//! (`aws-sdk-rds`'s `AuthTokenGenerator`), valid for 15 minutes, sent with
//! the cleartext plugin over TLS (RDS Proxy requires both).
//!
//! A `mysql_async` pool takes its password when it is built, so the MySQL
//! backend rebuilds its pool with a fresh token before the old one expires
//! (see `TOKEN_REFRESH`). Connections already open stay valid: a token is
//! only checked when a connection is made.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_rds::auth_token::{AuthTokenGenerator, Config as TokenConfig};

use super::StoreError;

/// Tokens last 15 minutes; a pool older than this gets a new one.
pub const TOKEN_REFRESH: Duration = Duration::from_secs(10 * 60);

/// Where a new pool's password comes from.
#[async_trait]
pub trait PasswordSource: Send + Sync {
    async fn password(&self) -> Result<String, StoreError>;
}

/// Time, injectable so that tests can move it.
pub trait Clock: Send + Sync {
    fn now(&self) -> Instant;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// Fresh RDS IAM tokens for one host, port and database user.
pub struct RdsIamTokens {
    host: String,
    port: u16,
    user: String,
    /// Made on the first token, not at start: loading the SDK's settings
    /// then happens in the pool's warm-up task, off the path to a cold
    /// start's first response.
    signer: tokio::sync::OnceCell<Signer>,
}

struct Signer {
    generator: AuthTokenGenerator,
    sdk: SdkConfig,
}

impl Signer {
    fn new(host: &str, port: u16, user: &str, sdk: SdkConfig) -> Result<Signer, StoreError> {
        let mut config = TokenConfig::builder()
            .hostname(host)
            .port(u64::from(port))
            .username(user);
        if let Some(region) = sdk.region() {
            config = config.region(region.clone());
        }
        let config = config
            .build()
            .map_err(|e| StoreError::Internal(format!("RDS IAM token settings: {e}")))?;
        Ok(Signer {
            generator: AuthTokenGenerator::new(config),
            sdk,
        })
    }
}

impl RdsIamTokens {
    /// Credentials and region from the environment (the Lambda or pod
    /// role), read when the first token is made.
    pub fn from_environment(host: &str, port: u16, user: &str) -> RdsIamTokens {
        RdsIamTokens {
            host: host.to_owned(),
            port,
            user: user.to_owned(),
            signer: tokio::sync::OnceCell::new(),
        }
    }

    pub fn with_config(
        host: &str,
        port: u16,
        user: &str,
        sdk: SdkConfig,
    ) -> Result<RdsIamTokens, StoreError> {
        let signer = Signer::new(host, port, user, sdk)?;
        Ok(RdsIamTokens {
            signer: tokio::sync::OnceCell::new_with(Some(signer)),
            ..RdsIamTokens::from_environment(host, port, user)
        })
    }
}

#[async_trait]
impl PasswordSource for RdsIamTokens {
    async fn password(&self) -> Result<String, StoreError> {
        let signer = self
            .signer
            .get_or_try_init(|| async {
                let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
                Signer::new(&self.host, self.port, &self.user, sdk)
            })
            .await?;
        signer
            .generator
            .auth_token(&signer.sdk)
            .await
            .map(|token| token.to_string())
            // Without credentials no connection can be made: unavailable.
            .map_err(|e| StoreError::Unavailable(format!("cannot make an RDS IAM token: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_config::Region;
    use aws_credential_types::provider::SharedCredentialsProvider;
    use aws_credential_types::Credentials;

    #[tokio::test]
    async fn tokens_are_signed_offline_with_static_credentials() {
        // Explicit credentials and region: nothing is looked up remotely.
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .credentials_provider(SharedCredentialsProvider::new(Credentials::from_keys(
                "AKIDEXAMPLE",
                "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                None,
            )))
            .region(Region::new("us-east-1"))
            .load()
            .await;
        let tokens = RdsIamTokens::with_config(
            "proxy.proxy-abc.us-east-1.rds.amazonaws.com",
            3306,
            "expense_app",
            sdk,
        )
        .unwrap();
        let token = tokens.password().await.unwrap();
        assert!(
            token.starts_with("proxy.proxy-abc.us-east-1.rds.amazonaws.com:3306/?Action=connect&DBUser=expense_app&"),
            "{token}"
        );
        for part in [
            "X-Amz-Algorithm=AWS4-HMAC-SHA256",
            "X-Amz-Credential=AKIDEXAMPLE%2F",
            "%2Fus-east-1%2Frds-db%2Faws4_request",
            "X-Amz-Expires=900",
            "X-Amz-Signature=",
        ] {
            assert!(token.contains(part), "{part} missing from {token}");
        }
    }
}
