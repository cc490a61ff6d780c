//! One function per operation: parse and validate, call the store (through
//! the cache), shape the response.

mod expenses;
mod ops;

use bytes::Bytes;
use http::{header, HeaderValue, Request, Response, StatusCode};
use serde::Serialize;

use crate::app::App;
use crate::domain::UserId;
use crate::http::problem::ApiError;
use crate::http::routes::Operation;

pub type HandlerResult = Result<Response<Bytes>, ApiError>;

pub async fn public(app: &App, operation: Operation) -> HandlerResult {
    match operation {
        Operation::Health => ops::health(app).await,
        Operation::OpenApi => Ok(json_bytes(StatusCode::OK, app.openapi.clone())),
        _ => Err(ApiError::Internal(format!("{operation:?} is not public"))),
    }
}

pub async fn authenticated(
    app: &App,
    operation: Operation,
    user: &UserId,
    params: Vec<String>,
    request: Request<Bytes>,
) -> HandlerResult {
    let id = params.first().map(String::as_str).unwrap_or_default();
    match operation {
        Operation::CreateExpense => expenses::create(app, user, request).await,
        Operation::ListExpenses => expenses::list(app, user, request).await,
        Operation::GetExpense => expenses::get(app, user, id).await,
        Operation::UpdateExpense => expenses::update(app, user, id, request).await,
        Operation::DeleteExpense => expenses::delete(app, user, id, request).await,
        Operation::Health | Operation::OpenApi => public(app, operation).await,
    }
}

/// A JSON response from an already serialised body.
pub fn json_bytes(status: StatusCode, body: Bytes) -> Response<Bytes> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

pub fn json<T: Serialize>(status: StatusCode, value: &T) -> HandlerResult {
    let body = serde_json::to_vec(value).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(json_bytes(status, Bytes::from(body)))
}

pub fn empty(status: StatusCode) -> Response<Bytes> {
    let mut response = Response::new(Bytes::new());
    *response.status_mut() = status;
    response
}
