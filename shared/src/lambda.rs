//! The Lambda side. Every function runs the same binary (`bootstrap`); the
//! function's `Handler` setting, which the `provided.al2023` runtime passes
//! to the process as `_HANDLER`, says which of its jobs it does: one
//! route's operation, the fallback (every route), `migrate` or
//! `purge-idempotency`. An ALB (or API Gateway HTTP API) event becomes the
//! shared request type, runs through the shared router, and goes back.

use std::sync::Arc;

use bytes::Bytes;
use lambda_http::lambda_runtime::{self, service_fn, LambdaEvent};
use lambda_http::{Body, RequestExt};
use serde_json::{json, Value};

use crate::app::{open_store, App};
use crate::config::{Config, DatabaseSettings, Runtime};
use crate::http::routes::{Operation, FALLBACK_FUNCTION, MIGRATE_FUNCTION, PURGE_FUNCTION};
use crate::http::{Scope, MAX_BODY_BYTES};
use crate::start::StartError;

/// Serves one Lambda request (the function's handler; tests call it with
/// events decoded by `lambda_http::request::from_str`).
pub async fn handle(
    app: &App,
    scope: Scope,
    request: lambda_http::Request,
) -> lambda_http::Response<Body> {
    let request_id = request
        .lambda_context_ref()
        .map(|c| c.request_id.clone())
        .or_else(|| {
            request
                .headers()
                .get("x-amzn-trace-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_default();
    let (parts, body) = request.into_parts();
    // `Body` derefs to its bytes whatever the variant (the ALB's base64
    // bodies arrive already decoded).
    let bytes = Bytes::copy_from_slice(body.as_ref());
    let response = if bytes.len() > MAX_BODY_BYTES {
        crate::http::problem::ApiError::PayloadTooLarge.into_response()
    } else {
        app.handle(scope, http::Request::from_parts(parts, bytes), &request_id)
            .await
    };
    let (parts, body) = response.into_parts();
    let body = if body.is_empty() {
        Body::Empty
    } else {
        match String::from_utf8(body.to_vec()) {
            Ok(text) => Body::Text(text),
            Err(e) => Body::Binary(e.into_bytes()),
        }
    };
    lambda_http::Response::from_parts(parts, body)
}

/// What one Lambda function does, chosen by its handler name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handler {
    /// ALB requests: one operation (a route's function) or every one (the
    /// fallback, and `cargo lambda watch`, which sets no handler).
    Requests(Scope),
    /// Prepare the database for a release (any event).
    Migrate,
    /// Delete expired idempotency keys (any event, e.g. a schedule).
    PurgeIdempotency,
}

impl Handler {
    /// The handler for a `_HANDLER` value: a function name of the route
    /// table, `fallback`, `migrate` or `purge-idempotency`. Unset or empty
    /// serves every operation: `cargo lambda watch` sets no handler.
    pub fn named(name: Option<&str>) -> Result<Handler, StartError> {
        let name = name.map(str::trim).unwrap_or_default();
        Ok(match name {
            "" | FALLBACK_FUNCTION => Handler::Requests(Scope::All),
            MIGRATE_FUNCTION => Handler::Migrate,
            PURGE_FUNCTION => Handler::PurgeIdempotency,
            _ => Handler::Requests(Scope::Only(
                Operation::for_function(name)
                    .ok_or_else(|| StartError::UnknownHandler(name.to_owned()))?,
            )),
        })
    }
}

/// The whole `main` of the `bootstrap` binary. Under a Lambda runtime
/// (`AWS_LAMBDA_RUNTIME_API` set) it serves invocations until the
/// container is retired; from a shell, `migrate` and `purge-idempotency`
/// run once (`bootstrap migrate`, or `_HANDLER=migrate bootstrap`).
pub async fn main() -> Result<(), lambda_http::Error> {
    let config = Config::from_env(Runtime::Lambda)?;
    crate::telemetry::init(&config.log);
    let from_shell = !config.lambda_runtime;
    let handler = match std::env::args().nth(1) {
        Some(name) if from_shell => Handler::named(Some(&name))?,
        _ => Handler::named(config.handler.as_deref())?,
    };
    match handler {
        Handler::Requests(scope) => serve(&config, scope).await,
        Handler::Migrate if from_shell => {
            if std::env::args().nth(2).as_deref() == Some("--backfill") {
                let done = crate::app::backfill(&config).await?;
                println!(
                    "backfilled {} user(s), {} month(s)",
                    done.users, done.months
                );
                return Ok(());
            }
            let applied = crate::jobs::prepare_database(&config).await?;
            println!("applied {applied} migration(s)");
            Ok(())
        }
        Handler::Migrate => {
            lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
                let config = config.clone();
                async move {
                    // The deployment's last step (scripts/deploy.sh): once
                    // no older version serves.
                    if event.payload.get("backfill") == Some(&Value::Bool(true)) {
                        let done = crate::app::backfill(&config).await?;
                        tracing::info!(users = done.users, months = done.months, "backfilled");
                        return Ok::<_, lambda_http::Error>(
                            json!({ "backfilled_users": done.users, "backfilled_months": done.months }),
                        );
                    }
                    let applied = crate::jobs::prepare_database(&config).await?;
                    tracing::info!(applied, "database prepared");
                    Ok::<_, lambda_http::Error>(json!({ "applied": applied }))
                }
            }))
            .await
        }
        Handler::PurgeIdempotency => {
            let store = open_store(&config.database).await?;
            if from_shell {
                let purged = crate::jobs::purge(store.as_ref()).await?;
                println!(
                    "purged {} expired key(s) and {} row(s) of deleted ledgers",
                    purged.purged, purged.ledger_rows
                );
                return Ok(());
            }
            lambda_runtime::run(service_fn(move |_event: LambdaEvent<Value>| {
                let store = store.clone();
                async move {
                    let purged = crate::jobs::purge(store.as_ref()).await?;
                    tracing::info!(
                        purged = purged.purged,
                        ledger_rows = purged.ledger_rows,
                        "expired idempotency keys and deleted ledgers purged"
                    );
                    Ok::<_, lambda_http::Error>(json!(purged))
                }
            }))
            .await
        }
    }
}

/// Request functions: build the app once, outside the handler, then serve
/// invocations with it.
async fn serve(config: &Config, scope: Scope) -> Result<(), lambda_http::Error> {
    let app = Arc::new(App::build(config).await?);
    if matches!(config.database, DatabaseSettings::Sqlite(_)) {
        // Only local runs (`cargo lambda watch --features sqlite`) have an
        // embedded database: prepare it as `server` does.
        app.store.migrate().await?;
        app.store.backfill().await?;
    }
    lambda_http::run(lambda_http::service_fn(move |request| {
        let app = Arc::clone(&app);
        async move { Ok::<_, std::convert::Infallible>(handle(&app, scope, request).await) }
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handler_names_choose_the_job() {
        assert_eq!(
            Handler::named(Some("get-expense")).unwrap(),
            Handler::Requests(Scope::Only(Operation::GetExpense))
        );
        assert_eq!(
            Handler::named(Some("fallback")).unwrap(),
            Handler::Requests(Scope::All)
        );
        assert_eq!(Handler::named(None).unwrap(), Handler::Requests(Scope::All));
        assert_eq!(Handler::named(Some("migrate")).unwrap(), Handler::Migrate);
        assert_eq!(
            Handler::named(Some("purge-idempotency")).unwrap(),
            Handler::PurgeIdempotency
        );
        assert!(matches!(
            Handler::named(Some("bootstrap")),
            Err(StartError::UnknownHandler(_))
        ));
    }
}
