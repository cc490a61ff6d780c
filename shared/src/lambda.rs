//! The Lambda side: an ALB (or API Gateway HTTP API) event becomes the
//! shared request type, runs through the shared router, and goes back.

use std::sync::Arc;

use bytes::Bytes;
use lambda_http::{service_fn, Body, RequestExt};

use crate::app::App;
use crate::config::{Config, Runtime};
use crate::http::{Scope, MAX_BODY_BYTES};

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

/// The whole `main` of a Lambda function: build the app once, outside the
/// handler, then serve invocations with it until the container is retired.
pub async fn run(scope: Scope) -> Result<(), lambda_http::Error> {
    crate::telemetry::init();
    let config = Config::from_env(Runtime::Lambda)?;
    let app = Arc::new(App::build(&config).await?);
    lambda_http::run(service_fn(move |request| {
        let app = Arc::clone(&app);
        async move { Ok::<_, std::convert::Infallible>(handle(&app, scope, request).await) }
    }))
    .await
}
