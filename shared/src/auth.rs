//! Bearer tokens → `UserId`. HS256 with a shared secret (local runs and
//! tests), or RS256 against an OIDC issuer's JWKS (production), fetched in
//! the background at start (a cold start never waits for the issuer; the
//! first token waits for that fetch) and again, rate-limited, when a token
//! names an unknown `kid`, so key rotation never locks users out.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use crate::domain::UserId;
use crate::start::StartError;

/// How tokens are checked.
#[derive(Clone, Debug)]
pub enum AuthSettings {
    Hs256 {
        secret: String,
    },
    Jwks {
        url: String,
        issuer: Option<String>,
        audience: Option<String>,
        /// Least time between two fetches triggered by unknown `kid`s.
        min_refresh: Duration,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("missing bearer token")]
    Missing,
    #[error("invalid token: {0}")]
    Invalid(String),
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
}

pub struct Verifier {
    kind: VerifierKind,
    validation: Validation,
}

enum VerifierKind {
    Hs256(DecodingKey),
    Jwks(Arc<JwksKeys>),
}

struct JwksKeys {
    url: String,
    http: reqwest::Client,
    min_refresh: Duration,
    keys: tokio::sync::RwLock<HashMap<String, DecodingKey>>,
    last_fetch: Mutex<Option<Instant>>,
    /// One fetch at a time; others wait for its result.
    fetching: Arc<tokio::sync::Mutex<()>>,
}

fn validation(algorithm: Algorithm, issuer: Option<&str>, audience: Option<&str>) -> Validation {
    let mut v = Validation::new(algorithm);
    v.set_required_spec_claims(&["exp", "sub"]);
    v.validate_nbf = true;
    v.leeway = 30;
    match audience {
        Some(aud) => v.set_audience(&[aud]),
        None => v.validate_aud = false,
    }
    if let Some(iss) = issuer {
        v.set_issuer(&[iss]);
    }
    v
}

impl Verifier {
    /// Builds the verifier; for a JWKS, starts fetching the key set in the
    /// background (needs a Tokio runtime). A failure is logged; a token
    /// then fetches again, rate-limited as for an unknown `kid`.
    pub fn new(settings: &AuthSettings) -> Result<Verifier, StartError> {
        match settings {
            // Its length was checked with the configuration.
            AuthSettings::Hs256 { secret } => Ok(Verifier {
                kind: VerifierKind::Hs256(DecodingKey::from_secret(secret.as_bytes())),
                validation: validation(Algorithm::HS256, None, None),
            }),
            AuthSettings::Jwks {
                url,
                issuer,
                audience,
                min_refresh,
            } => {
                let http = reqwest::Client::builder()
                    .timeout(Duration::from_secs(5))
                    .build()?;
                let keys = Arc::new(JwksKeys {
                    url: url.clone(),
                    http,
                    min_refresh: *min_refresh,
                    keys: Default::default(),
                    last_fetch: Mutex::new(None),
                    fetching: Default::default(),
                });
                // Taken before the task starts, so the first token waits
                // for this fetch instead of starting a second one (the
                // mutex was made above: no one else can hold it yet).
                let turn = Arc::clone(&keys.fetching)
                    .try_lock_owned()
                    .expect("a new mutex is free");
                let loading = Arc::clone(&keys);
                tokio::spawn(async move {
                    if let Err(e) = loading.fetch().await {
                        tracing::warn!(error = %e, "cannot load the JWKS at start; retrying on demand");
                    }
                    drop(turn);
                });
                Ok(Verifier {
                    kind: VerifierKind::Jwks(keys),
                    validation: validation(
                        Algorithm::RS256,
                        issuer.as_deref(),
                        audience.as_deref(),
                    ),
                })
            }
        }
    }

    /// Checks an `Authorization` header value.
    pub async fn verify(&self, authorization: Option<&str>) -> Result<UserId, AuthError> {
        let token = authorization
            .and_then(|value| {
                let (scheme, token) = value.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .filter(|t| !t.is_empty())
            .ok_or(AuthError::Missing)?;
        let claims: Claims = match &self.kind {
            VerifierKind::Hs256(key) => decode(token, key, &self.validation),
            VerifierKind::Jwks(keys) => {
                let header = decode_header(token).map_err(|e| AuthError::Invalid(e.to_string()))?;
                let kid = header
                    .kid
                    .ok_or_else(|| AuthError::Invalid("token has no kid".into()))?;
                let key = keys.key(&kid).await?;
                decode(token, &key, &self.validation)
            }
        }
        .map_err(|e| AuthError::Invalid(e.to_string()))?
        .claims;
        UserId::parse(&claims.sub).ok_or_else(|| AuthError::Invalid("unusable sub".into()))
    }
}

impl JwksKeys {
    async fn key(&self, kid: &str) -> Result<DecodingKey, AuthError> {
        if let Some(key) = self.keys.read().await.get(kid) {
            return Ok(key.clone());
        }
        // Unknown kid: perhaps the issuer rotated its keys. Fetch again,
        // but not more often than `min_refresh`, so forged kids cannot
        // make us hammer the issuer.
        let _turn = self.fetching.lock().await;
        if let Some(key) = self.keys.read().await.get(kid) {
            return Ok(key.clone());
        }
        let recently = self
            .last_fetch
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some_and(|t| t.elapsed() < self.min_refresh);
        if !recently {
            if let Err(e) = self.fetch().await {
                tracing::warn!(error = %e, "JWKS refresh failed");
            }
        }
        self.keys
            .read()
            .await
            .get(kid)
            .cloned()
            .ok_or_else(|| AuthError::Invalid("unknown signing key".into()))
    }

    async fn fetch(&self) -> Result<(), reqwest::Error> {
        *self.last_fetch.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
        let set: JwkSet = self
            .http
            .get(&self.url)
            .send()
            .await
            .and_then(|r| r.error_for_status())?
            .json()
            .await?;
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            let (Some(kid), Ok(key)) = (jwk.common.key_id.clone(), DecodingKey::from_jwk(jwk))
            else {
                continue;
            };
            keys.insert(kid, key);
        }
        *self.keys.write().await = keys;
        Ok(())
    }
}

/// Mints an HS256 token for local use (`server token`), valid `ttl`.
pub fn mint_hs256(secret: &str, user: &str, ttl: Duration) -> Result<String, StartError> {
    #[derive(serde::Serialize)]
    struct Minted<'a> {
        sub: &'a str,
        iat: i64,
        exp: i64,
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = Minted {
        sub: user,
        iat: now,
        exp: now + ttl.as_secs() as i64,
    };
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .map_err(StartError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "unit-test-secret-0123456789";

    async fn hs() -> Verifier {
        Verifier::new(&AuthSettings::Hs256 {
            secret: SECRET.into(),
        })
        .unwrap()
    }

    fn token(claims: serde_json::Value, secret: &str) -> String {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    }

    fn now() -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp()
    }

    #[tokio::test]
    async fn accepts_good_tokens_and_rejects_bad_ones() {
        let v = hs().await;
        let good = mint_hs256(SECRET, "alice", Duration::from_secs(60)).unwrap();
        assert_eq!(
            v.verify(Some(&format!("Bearer {good}")))
                .await
                .unwrap()
                .as_str(),
            "alice"
        );
        assert_eq!(
            v.verify(Some(&format!("bearer  {good}")))
                .await
                .unwrap()
                .as_str(),
            "alice"
        );
        assert!(matches!(v.verify(None).await, Err(AuthError::Missing)));
        assert!(v.verify(Some(&format!("Basic {good}"))).await.is_err());
        assert!(v.verify(Some("Bearer not.a.token")).await.is_err());
        let other = mint_hs256(
            "another-secret-0123456789",
            "alice",
            Duration::from_secs(60),
        )
        .unwrap();
        assert!(v.verify(Some(&format!("Bearer {other}"))).await.is_err());
        let expired = token(serde_json::json!({"sub": "a", "exp": now() - 3600}), SECRET);
        assert!(v.verify(Some(&format!("Bearer {expired}"))).await.is_err());
        let no_exp = token(serde_json::json!({"sub": "a"}), SECRET);
        assert!(v.verify(Some(&format!("Bearer {no_exp}"))).await.is_err());
        let no_sub = token(serde_json::json!({"exp": now() + 60}), SECRET);
        assert!(v.verify(Some(&format!("Bearer {no_sub}"))).await.is_err());
        let future = token(
            serde_json::json!({"sub": "a", "exp": now() + 7200, "nbf": now() + 3600}),
            SECRET,
        );
        assert!(v.verify(Some(&format!("Bearer {future}"))).await.is_err());
        let empty_sub = token(serde_json::json!({"sub": "", "exp": now() + 60}), SECRET);
        assert!(v
            .verify(Some(&format!("Bearer {empty_sub}")))
            .await
            .is_err());
    }
}
