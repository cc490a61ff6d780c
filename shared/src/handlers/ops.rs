//! Operations endpoints: the deep health check.

use http::StatusCode;
use serde_json::json;

use super::{json, HandlerResult};
use crate::app::App;
use crate::http::problem::ApiError;

/// `GET /health`: 200 when the database answers; the cache is reported
/// but never makes the service unhealthy (it only changes latency).
pub async fn health(app: &App) -> HandlerResult {
    let database = app.store.ping().await;
    let cache = match &app.cache {
        None => "disabled",
        Some(cache) if cache.ping().await => "ok",
        Some(_) => "unavailable",
    };
    match database {
        Ok(()) => json(
            StatusCode::OK,
            &json!({"status": "ok", "checks": {"database": "ok", "cache": cache}}),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "health check: database unavailable");
            let mut response = ApiError::Unavailable(e.to_string()).into_response();
            // Operators read the checks too, so add them to the problem.
            let mut body: serde_json::Value =
                serde_json::from_slice(response.body()).unwrap_or_default();
            body["status"] = json!("unavailable");
            body["checks"] = json!({"database": "unavailable", "cache": cache});
            *response.body_mut() = body.to_string().into();
            Ok(response)
        }
    }
}
