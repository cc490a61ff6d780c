//! One function per operation: parse and validate, call the store (through
//! the cache), shape the response.

mod budgets;
mod categories;
pub(crate) mod csv;
mod expenses;
mod idempotency;
pub(crate) mod ledgers;
pub(crate) mod ops;
mod reports;

use std::future::Future;

use bytes::Bytes;
use http::{header, HeaderValue, Request, Response, StatusCode};
use serde::Serialize;

use crate::app::App;
use crate::cache::Lookup;
use crate::domain::{Id, UserId};
use crate::http::problem::ApiError;
use crate::http::routes::Operation;

pub type HandlerResult = Result<Response<Bytes>, ApiError>;

pub async fn public(app: &App, operation: Operation) -> HandlerResult {
    match operation {
        Operation::Health => ops::health(app).await,
        Operation::OpenApi => Ok(json_bytes(StatusCode::OK, app.openapi())),
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
    // The path's id, parsed here once; `None` (on a route with an id) is a
    // path naming no id this server could have made: 404, which each
    // handler answers once the request itself has been checked.
    let parsed = params.first().and_then(|raw| Id::parse(raw));
    let id = parsed.as_ref();
    // Under /v1/ledgers/{ledger_id}, the first id is the ledger's: the
    // caller's membership and role are resolved once, here, before the
    // handler (and before the request itself is checked: 404, then 403).
    let access = if operation.route().path.starts_with(LEDGER_SCOPE) {
        Some(ledgers::access(app, user, id).await?)
    } else {
        None
    };
    let access = || {
        access
            .as_ref()
            .ok_or_else(|| ApiError::Internal(format!("{operation:?} has no ledger")))
    };
    let second = params.get(1).map(String::as_str);
    match operation {
        Operation::CreateExpense => {
            idempotency::run(app, user, request, |request, claim| {
                expenses::create(app, user, request, claim)
            })
            .await
        }
        Operation::ImportExpenses => {
            idempotency::run(app, user, request, |request, claim| {
                csv::import(app, user, request, claim)
            })
            .await
        }
        Operation::ListExpenses => expenses::list(app, user, request).await,
        Operation::GetExpense => expenses::get(app, user, id).await,
        Operation::UpdateExpense => expenses::update(app, user, id, request).await,
        Operation::DeleteExpense => expenses::delete(app, user, id, request).await,
        Operation::ExportExpenses => csv::export(app, user, request).await,
        Operation::CreateCategory => categories::create(app, user, request).await,
        Operation::ListCategories => categories::list(app, user).await,
        Operation::GetCategory => categories::get(app, user, id).await,
        Operation::UpdateCategory => categories::update(app, user, id, request).await,
        Operation::DeleteCategory => categories::delete(app, user, id).await,
        Operation::PutBudget => budgets::put(app, user, id, request).await,
        Operation::DeleteBudget => budgets::delete(app, user, id).await,
        Operation::ListBudgets => budgets::list(app, user, request).await,
        Operation::SummaryReport => reports::summary(app, user, request).await,
        Operation::CreateLedger => {
            idempotency::run(app, user, request, |request, claim| {
                ledgers::create(app, user, request, claim)
            })
            .await
        }
        Operation::ListLedgers => ledgers::list(app, user).await,
        Operation::GetLedger => ledgers::get(user, access()?),
        Operation::UpdateLedger => ledgers::update(app, user, access()?, request).await,
        Operation::DeleteLedger => ledgers::delete(app, user, access()?).await,
        Operation::ListMembers => ledgers::members(app, access()?).await,
        Operation::UpdateMember => {
            ledgers::update_member(app, user, access()?, &member(second)?, request).await
        }
        Operation::RemoveMember => {
            ledgers::remove_member(app, user, access()?, &member(second)?).await
        }
        Operation::CreateInvitation => {
            ledgers::create_invitation(app, user, access()?, request).await
        }
        Operation::ListInvitations => ledgers::invitations(app, access()?).await,
        Operation::RevokeInvitation => {
            let invitation = second.and_then(Id::parse);
            ledgers::revoke_invitation(app, user, access()?, invitation.as_ref()).await
        }
        Operation::AcceptInvitation => ledgers::accept(app, user, request).await,
        Operation::Health | Operation::OpenApi => public(app, operation).await,
    }
}

/// Paths whose operations act in one ledger, named by their first id.
const LEDGER_SCOPE: &str = "/v1/ledgers/{ledger_id}";

/// A member's user id from the path: percent-decoded (a `sub` may hold
/// any character), 404 when it is no text a token could carry.
fn member(segment: Option<&str>) -> Result<String, ApiError> {
    segment
        .and_then(|raw| percent_encoding::percent_decode_str(raw).decode_utf8().ok())
        .and_then(|text| UserId::parse(&text))
        .map(|user| user.as_str().to_owned())
        .ok_or(ApiError::NotFound)
}

/// The resource a path names, or 404 (see `authenticated`).
pub fn existing(id: Option<&Id>) -> Result<&Id, ApiError> {
    id.ok_or(ApiError::NotFound)
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

pub fn to_json_bytes<T: Serialize>(value: &T) -> Result<Bytes, ApiError> {
    serde_json::to_vec(value)
        .map(Bytes::from)
        .map_err(|e| ApiError::Internal(e.to_string()))
}

pub fn json<T: Serialize>(status: StatusCode, value: &T) -> HandlerResult {
    Ok(json_bytes(status, to_json_bytes(value)?))
}

pub fn empty(status: StatusCode) -> Response<Bytes> {
    let mut response = Response::new(Bytes::new());
    *response.status_mut() = status;
    response
}

/// Adds `Location` to a response (ids are ASCII, so this cannot fail).
pub fn with_location(mut response: Response<Bytes>, location: &str) -> Response<Bytes> {
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// Cache-aside for a read: the body cached under the user's current
/// generation, or `compute`d from the database and cached. Without a
/// cache, or when Redis fails, it simply computes.
pub async fn cached<F, Fut>(
    app: &App,
    user: &UserId,
    key: &str,
    compute: F,
) -> Result<Bytes, ApiError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Bytes, ApiError>>,
{
    let Some(cache) = &app.cache else {
        return compute().await;
    };
    let Some(Lookup { generation, hit }) = cache.lookup(user, key).await else {
        return compute().await;
    };
    if let Some(hit) = hit {
        return Ok(Bytes::from(hit));
    }
    cache
        .compute_once(&generation, key, || async {
            let body = compute().await?;
            if let Ok(text) = std::str::from_utf8(&body) {
                cache.put(&generation, key, text).await;
            }
            Ok(body)
        })
        .await
}

/// Every write ends here, before it answers: the user's cached entries
/// stop being read.
pub async fn invalidate(app: &App, user: &UserId) {
    if let Some(cache) = &app.cache {
        cache.invalidate(user).await;
    }
}

/// A JSON object body of a JSON route: 415, 400 or 422 otherwise.
pub fn json_body(
    request: &Request<Bytes>,
    accepted: &[&str],
) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
    crate::http::request::require_content_type(request.headers(), accepted)?;
    crate::http::request::json_object(request)
}

pub const JSON: &str = "application/json";
pub const MERGE_PATCH: &str = "application/merge-patch+json";
