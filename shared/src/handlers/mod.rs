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
use crate::domain::ledger::Role;
use crate::domain::{Id, UserId};
use crate::http::problem::ApiError;
use crate::http::routes::Operation;
use crate::store::Actor;

pub type HandlerResult = Result<Response<Bytes>, ApiError>;

pub async fn public(app: &App, operation: Operation) -> HandlerResult {
    match operation {
        Operation::Health => ops::health(app).await,
        Operation::OpenApi => Ok(json_bytes(StatusCode::OK, app.openapi())),
        _ => Err(ApiError::Internal(format!("{operation:?} is not public"))),
    }
}

/// Where a request acts: who, in which ledger, and the path its links keep.
pub struct InLedger {
    pub actor: Actor,
    /// What `Location` and `Link` start with: `/v1` on the personal
    /// ledger's own routes, `/v1/ledgers/{id}` under a ledger.
    base: String,
}

impl InLedger {
    /// The caller's personal ledger, through the routes without a ledger.
    fn personal(user: &UserId) -> InLedger {
        InLedger {
            actor: Actor::personal(user),
            base: "/v1".to_owned(),
        }
    }

    /// A ledger the caller is a member of, through its own routes.
    fn of(user: &UserId, access: &ledgers::Access) -> InLedger {
        let ledger = &access.ledger;
        InLedger {
            actor: Actor {
                user: user.clone(),
                key: ledger.key.clone(),
                shared_ledger: (!ledger.personal).then(|| ledger.id.clone()),
            },
            base: format!("/v1/ledgers/{}", ledger.id),
        }
    }

    /// `rest` (e.g. `/expenses/{id}`) in the path shape of the request.
    pub fn link(&self, rest: &str) -> String {
        format!("{}{rest}", self.base)
    }
}

pub async fn authenticated(
    app: &App,
    operation: Operation,
    user: &UserId,
    ledger: Option<String>,
    params: Vec<String>,
    request: Request<Bytes>,
) -> HandlerResult {
    // Under /v1/ledgers/{ledger_id}, the caller's membership and role are
    // resolved once, here, before the handler (and before the request
    // itself is checked: 404, then 403, then the request).
    let access = match ledger {
        Some(raw) => Some(ledgers::access(app, user, Id::parse(&raw).as_ref()).await?),
        None => None,
    };
    let access = access.as_ref();
    let in_ledger = || -> Result<InLedger, ApiError> {
        match access {
            None => Ok(InLedger::personal(user)),
            Some(access) => {
                // Any member reads; writing takes an editor.
                let needed = if operation.route().method == http::Method::GET {
                    Role::Viewer
                } else {
                    Role::Editor
                };
                access.require(needed)?;
                Ok(InLedger::of(user, access))
            }
        }
    };
    let ledger =
        || access.ok_or_else(|| ApiError::Internal(format!("{operation:?} has no ledger")));
    // The path's (other) id, parsed here once; `None` (on a route with an
    // id) is a path naming no id this server could have made: 404, which
    // each handler answers once the request itself has been checked.
    let parsed = params.first().and_then(|raw| Id::parse(raw));
    let id = parsed.as_ref();
    let first = params.first().map(String::as_str);
    match operation {
        Operation::CreateExpense => {
            let here = in_ledger()?;
            idempotency::run(app, &here.actor, request, |request, claim| {
                expenses::create(app, &here, request, claim)
            })
            .await
        }
        Operation::ImportExpenses => {
            let here = in_ledger()?;
            idempotency::run(app, &here.actor, request, |request, claim| {
                csv::import(app, &here, request, claim)
            })
            .await
        }
        Operation::ListExpenses => expenses::list(app, &in_ledger()?, request).await,
        Operation::GetExpense => expenses::get(app, &in_ledger()?, id).await,
        Operation::UpdateExpense => expenses::update(app, &in_ledger()?, id, request).await,
        Operation::DeleteExpense => expenses::delete(app, &in_ledger()?, id, request).await,
        Operation::ExportExpenses => csv::export(app, &in_ledger()?, request).await,
        Operation::CreateCategory => {
            let here = in_ledger()?;
            idempotency::run(app, &here.actor, request, |request, _claim| {
                categories::create(app, &here, request)
            })
            .await
        }
        Operation::ListCategories => categories::list(app, &in_ledger()?).await,
        Operation::GetCategory => categories::get(app, &in_ledger()?, id).await,
        Operation::UpdateCategory => categories::update(app, &in_ledger()?, id, request).await,
        Operation::DeleteCategory => categories::delete(app, &in_ledger()?, id).await,
        Operation::PutBudget => budgets::put(app, &in_ledger()?, id, request).await,
        Operation::DeleteBudget => budgets::delete(app, &in_ledger()?, id).await,
        Operation::ListBudgets => budgets::list(app, &in_ledger()?, request).await,
        Operation::SummaryReport => reports::summary(app, &in_ledger()?, request).await,
        Operation::CreateLedger => {
            idempotency::run(app, &Actor::personal(user), request, |request, claim| {
                ledgers::create(app, user, request, claim)
            })
            .await
        }
        Operation::ListLedgers => ledgers::list(app, user).await,
        Operation::GetLedger => ledgers::get(user, ledger()?),
        Operation::UpdateLedger => ledgers::update(app, user, ledger()?, request).await,
        Operation::DeleteLedger => ledgers::delete(app, user, ledger()?).await,
        Operation::ListMembers => ledgers::members(app, ledger()?).await,
        Operation::UpdateMember => {
            ledgers::update_member(app, user, ledger()?, &member(first)?, request).await
        }
        Operation::RemoveMember => {
            ledgers::remove_member(app, user, ledger()?, &member(first)?).await
        }
        Operation::CreateInvitation => {
            let access = ledger()?;
            // The role before the request (and its key) is looked at.
            access.require(Role::Owner)?;
            idempotency::run(
                app,
                &InLedger::of(user, access).actor,
                request,
                |request, _claim| ledgers::create_invitation(app, user, access, request),
            )
            .await
        }
        Operation::ListInvitations => ledgers::invitations(app, ledger()?).await,
        Operation::RevokeInvitation => ledgers::revoke_invitation(app, user, ledger()?, id).await,
        Operation::AcceptInvitation => ledgers::accept(app, user, request).await,
        Operation::Health | Operation::OpenApi => public(app, operation).await,
    }
}

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

/// Cache-aside for a read: the body cached under the ledger's current
/// generation, or `compute`d from the database and cached. Without a
/// cache, or when Redis fails, it simply computes.
pub async fn cached<F, Fut>(
    app: &App,
    here: &InLedger,
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
    let Some(Lookup { generation, hit }) = cache.lookup(&here.actor.key, key).await else {
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

/// Every write ends here, before it answers: the ledger's cached entries
/// stop being read, by every member.
pub async fn invalidate(app: &App, here: &InLedger) {
    if let Some(cache) = &app.cache {
        cache.invalidate(&here.actor.key).await;
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
