//! The HTTP layer shared by every binary: a request (already buffered, at
//! most 1 MiB) goes through the router, authentication and one handler,
//! and comes back as a response; every error becomes problem+json here.

pub mod problem;
pub mod request;
pub mod routes;

use std::time::Instant;

use bytes::Bytes;
use http::{header, HeaderValue, Request, Response};

use crate::app::App;
use crate::handlers;
use problem::ApiError;
use routes::{route, Operation, RouteMatch};

/// The largest request body accepted.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Which operations a process serves: all of them (the server and the
/// `fallback` function), or one (a Lambda function).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    All,
    Only(Operation),
}

impl App {
    /// Serves one request.
    pub async fn handle(
        &self,
        scope: Scope,
        request: Request<Bytes>,
        request_id: &str,
    ) -> Response<Bytes> {
        let started = Instant::now();
        let method = request.method().clone();
        let matched = route(&method, request.uri().path());
        let template = match &matched {
            RouteMatch::Found { template, .. } => *template,
            _ => "-",
        };
        let mut response = match self.dispatch(scope, matched, request).await {
            Ok(response) => response,
            Err(error) => error.into_response(),
        };
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        tracing::info!(
            request_id,
            method = %method,
            route = template,
            status = response.status().as_u16(),
            latency_ms = started.elapsed().as_secs_f64() * 1000.0,
            "request"
        );
        response
    }

    async fn dispatch(
        &self,
        scope: Scope,
        matched: RouteMatch,
        request: Request<Bytes>,
    ) -> Result<Response<Bytes>, ApiError> {
        let (route, ledger, params) = match matched {
            RouteMatch::Found {
                route,
                ledger,
                params,
                ..
            } => (route, ledger, params),
            RouteMatch::MethodNotAllowed(allowed) => {
                return Err(ApiError::MethodNotAllowed(allowed))
            }
            RouteMatch::NotFound => return Err(ApiError::NotFound),
        };
        if let Scope::Only(served) = scope {
            if served != route.operation {
                // The load balancer sent this function another operation's
                // request: a deployment mistake, not the client's.
                tracing::error!(served = ?served, requested = ?route.operation, "misrouted request");
                return Err(ApiError::NotFound);
            }
        }
        if request.body().len() > MAX_BODY_BYTES {
            return Err(ApiError::PayloadTooLarge);
        }
        if !route.authenticated {
            return handlers::public(self, route.operation).await;
        }
        let authorization = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let user = self
            .verifier
            .verify(authorization)
            .await
            .map_err(|e| ApiError::Unauthorized(e.to_string()))?;
        handlers::authenticated(self, route.operation, &user, ledger, params, request).await
    }
}
