//! Secrets read from AWS Secrets Manager, once per process (never logged).

use serde_json::Value;

/// The secret's text, or the named field when the secret is a JSON object
/// (Secrets Manager's usual `{"username": …, "password": …}` shape).
pub fn secret_field(secret: &str, fields: &[&str]) -> String {
    match serde_json::from_str::<Value>(secret) {
        Ok(Value::Object(map)) => fields
            .iter()
            .find_map(|f| map.get(*f).and_then(Value::as_str))
            .map(str::to_owned)
            .unwrap_or_default(),
        _ => secret.to_owned(),
    }
}

/// Why a secret could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("cannot read secret {arn}: {reason}")]
    Unreadable { arn: String, reason: String },
    #[error("secret {0} has no string value")]
    NotText(String),
    #[error("secret {0} holds no AUTH token")]
    NoToken(String),
    #[error("reading secret {0} timed out")]
    TimedOut(String),
}

/// Reads a secret's string value with the process's AWS credentials.
pub async fn read_secret(arn: &str) -> Result<String, SecretError> {
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let client = aws_sdk_secretsmanager::Client::new(&sdk);
    let value = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| SecretError::Unreadable {
            arn: arn.to_owned(),
            // The SDK's own text of it, with the service's error code.
            reason: aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string(),
        })?;
    value
        .secret_string()
        .map(str::to_owned)
        .ok_or_else(|| SecretError::NotText(arn.to_owned()))
}

/// The ElastiCache AUTH token: the secret's text or its `auth_token` /
/// `password` field.
pub async fn redis_auth_token(arn: &str) -> Result<String, SecretError> {
    let secret = read_secret(arn).await?;
    let token = secret_field(&secret, &["auth_token", "password"]);
    if token.is_empty() {
        return Err(SecretError::NoToken(arn.to_owned()));
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_plain_and_json_secrets() {
        assert_eq!(secret_field("s3cret", &["password"]), "s3cret");
        assert_eq!(
            secret_field(r#"{"username":"u","password":"p"}"#, &["password"]),
            "p"
        );
        assert_eq!(
            secret_field(r#"{"auth_token":"t"}"#, &["auth_token", "password"]),
            "t"
        );
        assert_eq!(secret_field(r#"{"other":"x"}"#, &["password"]), "");
    }
}
