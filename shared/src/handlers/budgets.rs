//! Monthly budgets per category, with what was spent computed by the
//! database for the month and the budget's currency.

use bytes::Bytes;
use http::{Request, StatusCode};
use serde::Serialize;
use serde_json::Value;

use super::expenses::bad_query;
use super::{
    cached, empty, existing, invalidate, json, json_body, json_bytes, to_json_bytes, HandlerResult,
    JSON,
};
use crate::app::App;
use crate::domain::budget::{Budget, BudgetStatus, BudgetStatusView, YearMonth};
use crate::domain::expense::unknown_fields;
use crate::domain::money::{amount_field, Currency, Money, AMOUNT_NOT_A_STRING};
use crate::domain::{format_timestamp, now_micros, FieldError, Id, UserId};
use crate::http::problem::ApiError;
use crate::http::request::query_pairs;

#[derive(Serialize)]
struct BudgetView {
    category_id: String,
    amount: String,
    currency: &'static str,
    created_at: String,
    updated_at: String,
}

/// `{"amount", "currency"}`, both required.
fn parse_budget(body: &serde_json::Map<String, Value>) -> Result<Money, Vec<FieldError>> {
    let mut errors = unknown_fields(body, &["amount", "currency"], &["category_id"]);
    let currency = match body.get("currency") {
        None => {
            errors.push(FieldError::new("currency", "is required"));
            None
        }
        Some(value) => Currency::parse_field(value.as_str().unwrap_or_default())
            .map_err(|message| errors.push(FieldError::new("currency", message)))
            .ok(),
    };
    let money = match body.get("amount") {
        Some(Value::String(text)) => amount_field(text, currency)
            .map_err(|e| errors.push(FieldError::new("amount", e.to_string())))
            .ok()
            .flatten(),
        Some(_) => {
            errors.push(FieldError::new("amount", AMOUNT_NOT_A_STRING));
            None
        }
        None => {
            errors.push(FieldError::new("amount", "is required"));
            None
        }
    };
    match money {
        Some(money) if errors.is_empty() => Ok(money),
        _ => Err(errors),
    }
}

pub async fn put(
    app: &App,
    user: &UserId,
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
        .put_budget(user, &budget)
        .await?
        .ok_or(ApiError::NotFound)?;
    invalidate(app, user).await;
    json(
        StatusCode::OK,
        &BudgetView {
            category_id: stored.category_id,
            amount: stored.money.amount_string(),
            currency: stored.money.currency().code(),
            created_at: format_timestamp(stored.created_at),
            updated_at: format_timestamp(stored.updated_at),
        },
    )
}

pub async fn delete(app: &App, user: &UserId, category_id: Option<&Id>) -> HandlerResult {
    let category_id = existing(category_id)?;
    if !app.store.delete_budget(user, category_id.as_str()).await? {
        return Err(ApiError::NotFound);
    }
    invalidate(app, user).await;
    Ok(empty(StatusCode::NO_CONTENT))
}

#[derive(Serialize)]
struct MonthView {
    month: String,
    items: Vec<BudgetStatusView>,
}

pub async fn list(app: &App, user: &UserId, request: Request<Bytes>) -> HandlerResult {
    let mut month = YearMonth::current();
    let mut errors = Vec::new();
    for (name, value) in query_pairs(&request) {
        match (name.as_str(), YearMonth::parse(&value)) {
            ("month", Some(parsed)) => month = parsed,
            ("month", None) => errors.push(FieldError::new("month", "must be a month YYYY-MM")),
            _ => errors.push(FieldError::new(name, "is not a known query parameter")),
        }
    }
    if !errors.is_empty() {
        return Err(bad_query(errors));
    }
    let body = cached(
        app,
        user,
        &format!("budgets:{}", month.format()),
        || async {
            let (first, last) = month.bounds();
            let statuses = app.store.budget_statuses(user, first, last).await?;
            to_json_bytes(&MonthView {
                month: month.format(),
                items: statuses.iter().map(BudgetStatus::view).collect(),
            })
        },
    )
    .await?;
    Ok(json_bytes(StatusCode::OK, body))
}
