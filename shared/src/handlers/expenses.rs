//! The expense operations: cache-aside reads, writes that invalidate the
//! ledger's cache before they answer.

use bytes::Bytes;
use http::{header, HeaderValue, Request, Response, StatusCode};

use super::idempotency::Claim;
use super::{
    cached, empty, existing, invalidate, json_body, json_bytes, to_json_bytes, with_location,
    HandlerResult, InLedger, JSON, MERGE_PATCH,
};
use crate::app::App;
use crate::domain::expense::{apply_patch, parse_new, Expense, ExpensePage};
use crate::domain::filter::ListQuery;
use crate::domain::{new_id, now_micros, FieldError, Id};
use crate::http::problem::ApiError;
use crate::http::request::{query_pairs, IfMatch};
use crate::store::{cursor_after, WriteOutcome};

/// Attempts of a PATCH without If-Match that keeps meeting concurrent writes.
const PATCH_ATTEMPTS: usize = 5;

/// An expense response with its `ETag`.
fn expense_response(status: StatusCode, body: Bytes, version: i64) -> Response<Bytes> {
    let mut response = json_bytes(status, body);
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{version}\"")) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

pub async fn create(
    app: &App,
    here: &InLedger,
    request: Request<Bytes>,
    claim: Option<Claim>,
) -> HandlerResult {
    let body = json_body(&request, &[JSON])?;
    let fields = parse_new(&body).map_err(ApiError::Invalid)?;
    let now = now_micros();
    let expense = Expense {
        id: new_id(),
        fields,
        version: 1,
        created_at: now,
        updated_at: now,
        created_by: here.user().as_str().to_owned(),
        updated_by: here.user().as_str().to_owned(),
    };
    let response = with_location(
        expense_response(StatusCode::CREATED, to_json_bytes(&expense.view())?, 1),
        &here.link(&format!("/expenses/{}", expense.id)),
    );
    // With an idempotency key, the response is stored in the same
    // transaction as the expense: exactly once, even across a crash.
    let completion = claim.as_ref().map(|c| c.completion(&response));
    app.store
        .insert_expense(here.actor(app).await?, &expense, completion.as_ref())
        .await?;
    invalidate(app, here).await;
    Ok(Claim::mark_completed(response, claim.is_some()))
}

pub async fn get(app: &App, here: &InLedger, id: Option<&Id>) -> HandlerResult {
    let id = existing(id)?;
    let body = cached(app, here, &format!("expense:{id}"), || async {
        let expense = app
            .store
            .get_expense(here.actor(app).await?, id.as_str())
            .await?
            .ok_or(ApiError::NotFound)?;
        to_json_bytes(&expense.view())
    })
    .await?;
    // Only the version, for the ETag: a cached body is not parsed whole.
    #[derive(serde::Deserialize)]
    struct Version {
        version: i64,
    }
    let Version { version } =
        serde_json::from_slice(&body).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(expense_response(StatusCode::OK, body, version))
}

/// Parses the list query of `GET /v1/expenses` (and of the export).
pub fn list_query(request: &Request<Bytes>) -> Result<ListQuery, ApiError> {
    ListQuery::parse(&query_pairs(request)).map_err(bad_query)
}

pub fn bad_query(errors: Vec<FieldError>) -> ApiError {
    ApiError::BadRequest {
        detail: "Some query parameters are invalid; see errors.".into(),
        errors,
    }
}

pub async fn list(app: &App, here: &InLedger, request: Request<Bytes>) -> HandlerResult {
    let query = list_query(&request)?;
    if query.filter.matches_nothing() {
        let empty = ExpensePage {
            items: Vec::new(),
            next_cursor: None,
        };
        return Ok(json_bytes(StatusCode::OK, to_json_bytes(&empty)?));
    }
    let body = cached(
        app,
        here,
        &format!("list:{}", query.cache_key()),
        || async {
            let mut rows = app
                .store
                .list_expenses(here.actor(app).await?, &query)
                .await?;
            let more = rows.len() > query.limit;
            rows.truncate(query.limit);
            let next_cursor = more
                .then(|| rows.last().map(|e| cursor_after(e).encode()))
                .flatten();
            to_json_bytes(&ExpensePage {
                items: rows.iter().map(Expense::view).collect(),
                next_cursor: next_cursor.as_deref(),
            })
        },
    )
    .await?;
    Ok(json_bytes(StatusCode::OK, body))
}

/// The stored expense, if `If-Match` lets it be changed: 404 when there is
/// none, 412 when the client's version is stale.
async fn current_if_match(
    app: &App,
    here: &InLedger,
    id: &str,
    if_match: &IfMatch,
) -> Result<Expense, ApiError> {
    let current = app
        .store
        .get_expense(here.actor(app).await?, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if !if_match.allows(&current.etag()) {
        return Err(ApiError::PreconditionFailed);
    }
    Ok(current)
}

pub async fn update(
    app: &App,
    here: &InLedger,
    id: Option<&Id>,
    request: Request<Bytes>,
) -> HandlerResult {
    let patch = json_body(&request, &[JSON, MERGE_PATCH])?;
    let if_match = IfMatch::from_headers(request.headers());
    let id = existing(id)?.as_str();
    for _ in 0..PATCH_ATTEMPTS {
        let current = current_if_match(app, here, id, &if_match).await?;
        let fields = apply_patch(&current.fields, &patch).map_err(ApiError::Invalid)?;
        let updated = Expense {
            fields,
            version: current.version + 1,
            updated_at: now_micros().max(current.updated_at),
            updated_by: here.user().as_str().to_owned(),
            ..current.clone()
        };
        match app
            .store
            .update_expense(here.actor(app).await?, &current, &updated)
            .await?
        {
            WriteOutcome::Done => {
                invalidate(app, here).await;
                return Ok(expense_response(
                    StatusCode::OK,
                    to_json_bytes(&updated.view())?,
                    updated.version,
                ));
            }
            WriteOutcome::NotFound => return Err(ApiError::NotFound),
            // Someone wrote in between. With If-Match the client's version
            // is now stale; without it, apply the patch to the new state.
            WriteOutcome::VersionMismatch if if_match != IfMatch::Absent => {
                return Err(ApiError::PreconditionFailed)
            }
            WriteOutcome::VersionMismatch => continue,
        }
    }
    Err(ApiError::Unavailable(
        "too many concurrent writes to one expense".into(),
    ))
}

pub async fn delete(
    app: &App,
    here: &InLedger,
    id: Option<&Id>,
    request: Request<Bytes>,
) -> HandlerResult {
    let id = existing(id)?.as_str();
    let if_match = IfMatch::from_headers(request.headers());
    let expected_version = match if_match {
        IfMatch::Absent => None,
        _ => Some(current_if_match(app, here, id, &if_match).await?.version),
    };
    match app
        .store
        .delete_expense(here.actor(app).await?, id, expected_version)
        .await?
    {
        WriteOutcome::Done => {
            invalidate(app, here).await;
            Ok(empty(StatusCode::NO_CONTENT))
        }
        WriteOutcome::NotFound => Err(ApiError::NotFound),
        WriteOutcome::VersionMismatch => Err(ApiError::PreconditionFailed),
    }
}
