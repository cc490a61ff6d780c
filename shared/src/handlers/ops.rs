//! Operations endpoints: the deep health check.

use http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use super::{json, HandlerResult};
use crate::app::App;
use crate::http::problem::ApiError;

/// The answer of a healthy server.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Health)]
pub struct Healthy {
    #[schema(inline)]
    status: Up,
    #[schema(inline)]
    checks: HealthyChecks,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct HealthyChecks {
    #[schema(inline)]
    database: Up,
    #[schema(inline)]
    cache: Cache,
}

#[derive(Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
enum Up {
    Ok,
}

/// The cache never makes the service unhealthy; it only changes latency.
#[derive(Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
enum Cache {
    Ok,
    Unavailable,
    Disabled,
}

/// problem+json with the health state and the checks operators read.
#[derive(Serialize, ToSchema)]
pub struct Unhealthy {
    #[serde(rename = "type")]
    #[schema(format = "uri")]
    kind: String,
    title: &'static str,
    #[schema(minimum = 503, maximum = 503)]
    status: u16,
    detail: String,
    #[schema(inline)]
    health: Down,
    #[schema(inline)]
    checks: UnhealthyChecks,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct UnhealthyChecks {
    #[schema(inline)]
    database: Down,
    #[schema(inline)]
    cache: CacheWhileDown,
}

#[derive(Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
enum Down {
    Unavailable,
    Draining,
}

#[derive(Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
enum CacheWhileDown {
    Ok,
    Unavailable,
    Disabled,
    Draining,
}

impl From<Cache> for CacheWhileDown {
    fn from(cache: Cache) -> CacheWhileDown {
        match cache {
            Cache::Ok => CacheWhileDown::Ok,
            Cache::Unavailable => CacheWhileDown::Unavailable,
            Cache::Disabled => CacheWhileDown::Disabled,
        }
    }
}

/// `GET /health`: 200 when the database answers; the cache is reported
/// but never makes the service unhealthy (it only changes latency).
pub async fn health(app: &App) -> HandlerResult {
    if app.is_draining() {
        return Ok(unhealthy(UnhealthyChecks {
            database: Down::Draining,
            cache: CacheWhileDown::Draining,
        }));
    }
    // Both at once: a cold start's first health check waits for the
    // slower of the two connections, not for their sum.
    let cache = async {
        match &app.cache {
            None => Cache::Disabled,
            Some(cache) if cache.ping().await => Cache::Ok,
            Some(_) => Cache::Unavailable,
        }
    };
    let (database, cache) = tokio::join!(app.store.ping(), cache);
    match database {
        Ok(()) => json(
            StatusCode::OK,
            &Healthy {
                status: Up::Ok,
                checks: HealthyChecks {
                    database: Up::Ok,
                    cache,
                },
            },
        ),
        Err(e) => {
            tracing::warn!(error = %e, "health check: database unavailable");
            Ok(unhealthy(UnhealthyChecks {
                database: Down::Unavailable,
                cache: cache.into(),
            }))
        }
    }
}

/// A 503 problem (its `status` stays the number, as RFC 9457 says) that
/// also carries the health state and the checks operators read.
fn unhealthy(checks: UnhealthyChecks) -> http::Response<bytes::Bytes> {
    let health = checks.database;
    let error = ApiError::Unavailable(format!("health: {}", health.name()));
    let problem = error.problem();
    let body = Unhealthy {
        kind: problem.kind,
        title: problem.title,
        status: problem.status,
        detail: problem.detail,
        health,
        checks,
    };
    let mut response = error.into_response();
    *response.body_mut() = serde_json::to_vec(&body).unwrap_or_default().into();
    response
}

impl Down {
    fn name(self) -> &'static str {
        match self {
            Down::Unavailable => "unavailable",
            Down::Draining => "draining",
        }
    }
}
