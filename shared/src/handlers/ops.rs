//! Operations endpoints: the deep health check.

use http::StatusCode;
use serde_json::json;

use super::{json, HandlerResult};
use crate::app::App;
use crate::http::problem::ApiError;

/// `GET /health`: 200 when the database answers; the cache is reported
/// but never makes the service unhealthy (it only changes latency).
pub async fn health(app: &App) -> HandlerResult {
    if app.is_draining() {
        return Ok(unhealthy(
            "draining",
            json!({"database": "draining", "cache": "draining"}),
        ));
    }
    // Both at once: a cold start's first health check waits for the
    // slower of the two connections, not for their sum.
    let cache = async {
        match &app.cache {
            None => "disabled",
            Some(cache) if cache.ping().await => "ok",
            Some(_) => "unavailable",
        }
    };
    let (database, cache) = tokio::join!(app.store.ping(), cache);
    match database {
        Ok(()) => json(
            StatusCode::OK,
            &json!({"status": "ok", "checks": {"database": "ok", "cache": cache}}),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "health check: database unavailable");
            Ok(unhealthy(
                "unavailable",
                json!({"database": "unavailable", "cache": cache}),
            ))
        }
    }
}

/// A 503 problem (its `status` stays the number, as RFC 9457 says) that
/// also carries the health state and the checks operators read.
fn unhealthy(health: &str, checks: serde_json::Value) -> http::Response<bytes::Bytes> {
    let cause = format!("health: {health}");
    let mut response = ApiError::Unavailable(cause).into_response();
    let mut body: serde_json::Value = serde_json::from_slice(response.body()).unwrap_or_default();
    body["health"] = json!(health);
    body["checks"] = checks;
    *response.body_mut() = body.to_string().into();
    response
}
