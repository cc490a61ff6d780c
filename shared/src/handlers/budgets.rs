//! Monthly budgets per category, with what was spent computed by the
//! database for the month and the budget's currency.

use bytes::Bytes;
use http::{Request, StatusCode};

use super::expenses::bad_query;
use super::{
    cached, empty, existing, invalidate, json, json_body, json_bytes, to_json_bytes, HandlerResult,
    InLedger, JSON,
};
use crate::app::App;
use crate::domain::budget::{parse_budget, Budget, BudgetMonth, BudgetStatus, YearMonth};
use crate::domain::query::Params;
use crate::domain::{now_micros, FieldError, Id};
use crate::http::problem::ApiError;
use crate::http::request::query_pairs;

pub async fn put(
    app: &App,
    here: &InLedger,
    category_id: Option<&Id>,
    request: Request<Bytes>,
) -> HandlerResult {
    let body = json_body(&request, &[JSON])?;
    let money = parse_budget(&body).map_err(ApiError::Invalid)?;
    let category_id = existing(category_id)?;
    let now = now_micros();
    let budget = Budget {
        category_id: category_id.to_string(),
        money,
        created_at: now,
        updated_at: now,
    };
    let stored = app
        .store
        .put_budget(here.actor(app).await?, &budget)
        .await?
        .ok_or(ApiError::NotFound)?;
    invalidate(app, here).await;
    json(StatusCode::OK, &stored.view())
}

pub async fn delete(app: &App, here: &InLedger, category_id: Option<&Id>) -> HandlerResult {
    let category_id = existing(category_id)?;
    if !app
        .store
        .delete_budget(here.actor(app).await?, category_id.as_str())
        .await?
    {
        return Err(ApiError::NotFound);
    }
    invalidate(app, here).await;
    Ok(empty(StatusCode::NO_CONTENT))
}

pub async fn list(app: &App, here: &InLedger, request: Request<Bytes>) -> HandlerResult {
    let mut month = YearMonth::current();
    let mut errors = Vec::new();
    let pairs = query_pairs(&request);
    let params = Params::new(&pairs, &["month"], &mut errors);
    if let Some(value) = params.get("month") {
        match YearMonth::parse(value) {
            Some(parsed) => month = parsed,
            None => errors.push(FieldError::new("month", "must be a month YYYY-MM")),
        }
    }
    if !errors.is_empty() {
        return Err(bad_query(errors));
    }
    let body = cached(
        app,
        here,
        &format!("budgets:{}", month.format()),
        || async {
            let (first, last) = month.bounds();
            let statuses = app
                .store
                .budget_statuses(here.actor(app).await?, first, last)
                .await?;
            to_json_bytes(&BudgetMonth {
                month: month.format(),
                items: statuses.iter().map(BudgetStatus::view).collect(),
            })
        },
    )
    .await?;
    Ok(json_bytes(StatusCode::OK, body))
}
