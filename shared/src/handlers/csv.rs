//! CSV export (in parts of at most 900 KiB, chained by `Link`) and the
//! all-or-nothing import.

use std::collections::HashMap;

use bytes::Bytes;
use http::{header, HeaderValue, Request, Response, StatusCode};
use serde::Serialize;
use utoipa::ToSchema;

use super::expenses::{bad_query, list_query};
use super::idempotency::Claim;
use super::{invalidate, json, HandlerResult, InLedger};
use crate::app::App;
use crate::domain::category::Category;
use crate::domain::csv_format::{encode_row, header as csv_header, parse_import, ImportRow};
use crate::domain::expense::{Expense, ExpenseFields};
use crate::domain::text::fold;
use crate::domain::{new_id, now_micros, FieldError};
use crate::http::problem::ApiError;
use crate::http::request::{query_pairs, require_content_type};
use crate::store::cursor_after;

/// The most one export response carries: a Lambda behind an ALB can answer
/// no more than 1 MB, and every deployment behaves the same.
pub const PART_BYTES: usize = 900 * 1024;
/// Rows read from the database per round trip while exporting.
const EXPORT_PAGE: usize = 500;

pub async fn export(app: &App, here: &InLedger, request: Request<Bytes>) -> HandlerResult {
    let pairs = query_pairs(&request);
    if pairs.iter().any(|(name, _)| name == "limit") {
        return Err(bad_query(vec![FieldError::new(
            "limit",
            "is not a parameter of the export: parts are sized by bytes",
        )]));
    }
    let mut query = list_query(&request)?;
    query.limit = EXPORT_PAGE;
    // A filter that matches nothing leaves just the header row.
    let nothing = query.filter.matches_nothing();
    let names: HashMap<String, String> = app
        .store
        .list_categories(here.actor(app).await?)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();

    let mut body = csv_header();
    let mut next = None;
    'pages: loop {
        let mut rows = if nothing {
            Vec::new()
        } else {
            app.store
                .list_expenses(here.actor(app).await?, &query)
                .await?
        };
        let more = rows.len() > query.limit;
        rows.truncate(query.limit);
        let mut last: Option<&Expense> = None;
        for expense in &rows {
            let category = expense
                .fields
                .category_id
                .as_ref()
                .and_then(|id| names.get(id));
            let line = encode_row(expense, category.map(String::as_str));
            if body.len() + line.len() > PART_BYTES {
                // This row starts the next part (the first row always fits:
                // one row is far below the limit).
                next = last.map(cursor_after).or(query.after.clone());
                break 'pages;
            }
            body.extend_from_slice(&line);
            last = Some(expense);
        }
        match (more, last) {
            (true, Some(last)) => query.after = Some(cursor_after(last)),
            _ => break,
        }
    }

    let mut response = Response::new(Bytes::from(body));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"expenses.csv\""),
    );
    if let Some(cursor) = next {
        let mut link = form_urlencoded::Serializer::new(String::new());
        for (name, value) in pairs.iter().filter(|(name, _)| name != "cursor") {
            link.append_pair(name, value);
        }
        link.append_pair("cursor", &cursor.encode());
        let value = format!(
            "<{}?{}>; rel=\"next\"",
            here.link("/expenses/export"),
            link.finish()
        );
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(header::LINK, value);
        }
    }
    Ok(response)
}

/// The categories an import names: one per name ignoring case (first
/// spelling wins), each with a new id. The store files the rows under the
/// ledger's stored category of that name, creating only those missing.
fn named_categories(rows: &[ImportRow], now: i64) -> (HashMap<String, String>, Vec<Category>) {
    let mut ids: HashMap<String, String> = HashMap::new();
    let mut named = Vec::new();
    for name in rows.iter().filter_map(|r| r.category.as_ref()) {
        ids.entry(fold(name)).or_insert_with(|| {
            let category = Category {
                id: new_id(),
                name: name.clone(),
                color: None,
                created_at: now,
                updated_at: now,
            };
            let id = category.id.clone();
            named.push(category);
            id
        });
    }
    (ids, named)
}

/// What an import stored.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportResult {
    /// Expenses stored, one per row.
    pub imported: usize,
}

pub async fn import(
    app: &App,
    here: &InLedger,
    request: Request<Bytes>,
    claim: Option<Claim>,
) -> HandlerResult {
    require_content_type(request.headers(), &["text/csv"])?;
    let rows = parse_import(request.body()).map_err(ApiError::InvalidRows)?;
    let response = json(
        StatusCode::CREATED,
        &ImportResult {
            imported: rows.len(),
        },
    )?;
    let completion = claim.as_ref().map(|c| c.completion(&response));
    let now = now_micros();
    let (ids, categories) = named_categories(&rows, now);
    let expenses: Vec<Expense> = rows
        .iter()
        .map(|row| Expense {
            id: new_id(),
            fields: ExpenseFields {
                money: row.money,
                date: row.date,
                category_id: row
                    .category
                    .as_ref()
                    .and_then(|n| ids.get(&fold(n)).cloned()),
                merchant: row.merchant.clone(),
                description: row.description.clone(),
                tags: row.tags.clone(),
            },
            version: 1,
            created_at: now,
            updated_at: now,
            created_by: here.user().as_str().to_owned(),
            updated_by: here.user().as_str().to_owned(),
        })
        .collect();
    app.store
        .import_expenses(
            here.actor(app).await?,
            &categories,
            &expenses,
            completion.as_ref(),
        )
        .await?;
    invalidate(app, here).await;
    Ok(Claim::mark_completed(response, claim.is_some()))
}
