//! Bearer tokens for the test users.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use super::*;

pub fn hs256_token(secret: &[u8], claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .expect("an HS256 token")
}

/// The claims of a valid token for `user`: `sub` and an `exp` an hour away.
pub fn claims_for(user: &str) -> Value {
    json!({ "sub": user, "exp": unix_now() + 3600 })
}
