//! The expense operations, with cache-aside reads and invalidation after
//! every write (before the response leaves).

use bytes::Bytes;
use http::{header, HeaderValue, Request, Response, StatusCode};
use serde::Serialize;

use super::{empty, json_bytes, HandlerResult};
use crate::app::App;
use crate::domain::expense::{apply_patch, parse_new, Expense, ExpenseView};
use crate::domain::filter::ListQuery;
use crate::domain::{is_id, new_id, now_micros, UserId};
use crate::http::problem::ApiError;
use crate::http::request::{json_object, query_pairs, require_content_type, IfMatch};
use crate::store::{cursor_after, WriteOutcome};

const JSON: &str = "application/json";
const MERGE_PATCH: &str = "application/merge-patch+json";
/// Attempts of a PATCH without If-Match that keeps meeting concurrent writes.
const PATCH_ATTEMPTS: usize = 5;

#[derive(Serialize)]
struct Page<'a> {
    items: Vec<ExpenseView>,
    next_cursor: Option<&'a str>,
}

fn to_json(view: &ExpenseView) -> Result<Bytes, ApiError> {
    serde_json::to_vec(view)
        .map(Bytes::from)
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// An expense response with its `ETag`.
fn expense_response(status: StatusCode, body: Bytes, version: i64) -> Response<Bytes> {
    let mut response = json_bytes(status, body);
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{version}\"")) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

/// Every write ends here: the user's cached entries stop being read.
async fn invalidate(app: &App, user: &UserId) {
    if let Some(cache) = &app.cache {
        cache.invalidate(user).await;
    }
}

pub async fn create(app: &App, user: &UserId, request: Request<Bytes>) -> HandlerResult {
    require_content_type(request.headers(), &[JSON])?;
    let body = json_object(&request)?;
    let fields = parse_new(&body).map_err(ApiError::Invalid)?;
    let now = now_micros();
    let expense = Expense {
        id: new_id(),
        fields,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    app.store.insert_expense(user, &expense).await?;
    invalidate(app, user).await;
    let mut response = expense_response(StatusCode::CREATED, to_json(&expense.view())?, 1);
    if let Ok(location) = HeaderValue::from_str(&format!("/v1/expenses/{}", expense.id)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

pub async fn get(app: &App, user: &UserId, id: &str) -> HandlerResult {
    if !is_id(id) {
        return Err(ApiError::NotFound);
    }
    let key = format!("expense:{id}");
    let generation = match &app.cache {
        Some(cache) => cache.generation(user).await,
        None => None,
    };
    if let (Some(cache), Some(generation)) = (&app.cache, &generation) {
        if let Some(hit) = cache.get(generation, &key).await {
            if let Ok(view) = serde_json::from_str::<ExpenseView>(&hit) {
                return Ok(expense_response(
                    StatusCode::OK,
                    Bytes::from(hit),
                    view.version,
                ));
            }
        }
    }
    let expense = app
        .store
        .get_expense(user, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let body = to_json(&expense.view())?;
    if let (Some(cache), Some(generation)) = (&app.cache, &generation) {
        if let Ok(text) = std::str::from_utf8(&body) {
            cache.put(generation, &key, text).await;
        }
    }
    Ok(expense_response(StatusCode::OK, body, expense.version))
}

pub async fn list(app: &App, user: &UserId, request: Request<Bytes>) -> HandlerResult {
    let query =
        ListQuery::parse(&query_pairs(&request)).map_err(|errors| ApiError::BadRequest {
            detail: "Some query parameters are invalid; see errors.".into(),
            errors,
        })?;
    let key = format!("list:{}", query.cache_key());
    let generation = match &app.cache {
        Some(cache) => cache.generation(user).await,
        None => None,
    };
    if let (Some(cache), Some(generation)) = (&app.cache, &generation) {
        if let Some(hit) = cache.get(generation, &key).await {
            return Ok(json_bytes(StatusCode::OK, Bytes::from(hit)));
        }
    }
    let mut rows = app.store.list_expenses(user, &query).await?;
    let more = rows.len() > query.limit;
    rows.truncate(query.limit);
    let next_cursor = more
        .then(|| rows.last().map(|e| cursor_after(e).encode()))
        .flatten();
    let page = Page {
        items: rows.iter().map(Expense::view).collect(),
        next_cursor: next_cursor.as_deref(),
    };
    let body = serde_json::to_string(&page).map_err(|e| ApiError::Internal(e.to_string()))?;
    if let (Some(cache), Some(generation)) = (&app.cache, &generation) {
        cache.put(generation, &key, &body).await;
    }
    Ok(json_bytes(StatusCode::OK, Bytes::from(body)))
}

pub async fn update(app: &App, user: &UserId, id: &str, request: Request<Bytes>) -> HandlerResult {
    require_content_type(request.headers(), &[JSON, MERGE_PATCH])?;
    let patch = json_object(&request)?;
    let if_match = IfMatch::from_headers(request.headers());
    if !is_id(id) {
        return Err(ApiError::NotFound);
    }
    for _ in 0..PATCH_ATTEMPTS {
        let current = app
            .store
            .get_expense(user, id)
            .await?
            .ok_or(ApiError::NotFound)?;
        if !if_match.allows(&current.etag()) {
            return Err(ApiError::PreconditionFailed);
        }
        let fields = apply_patch(&current.fields, &patch).map_err(ApiError::Invalid)?;
        let updated = Expense {
            fields,
            version: current.version + 1,
            updated_at: now_micros().max(current.updated_at),
            ..current.clone()
        };
        match app
            .store
            .update_expense(user, &updated, current.version)
            .await?
        {
            WriteOutcome::Done => {
                invalidate(app, user).await;
                return Ok(expense_response(
                    StatusCode::OK,
                    to_json(&updated.view())?,
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

pub async fn delete(app: &App, user: &UserId, id: &str, request: Request<Bytes>) -> HandlerResult {
    if !is_id(id) {
        return Err(ApiError::NotFound);
    }
    let if_match = IfMatch::from_headers(request.headers());
    let expected_version = match if_match {
        IfMatch::Absent => None,
        _ => {
            let current = app
                .store
                .get_expense(user, id)
                .await?
                .ok_or(ApiError::NotFound)?;
            if !if_match.allows(&current.etag()) {
                return Err(ApiError::PreconditionFailed);
            }
            Some(current.version)
        }
    };
    match app.store.delete_expense(user, id, expected_version).await? {
        WriteOutcome::Done => {
            invalidate(app, user).await;
            Ok(empty(StatusCode::NO_CONTENT))
        }
        WriteOutcome::NotFound => Err(ApiError::NotFound),
        WriteOutcome::VersionMismatch => Err(ApiError::PreconditionFailed),
    }
}
