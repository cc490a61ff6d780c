//! Categories: names unique in a ledger, ignoring case (409 otherwise).

use bytes::Bytes;
use http::{Request, StatusCode};

use super::idempotency::Claim;
use super::{
    cached, empty, existing, invalidate, json, json_body, json_bytes, to_json_bytes, with_location,
    HandlerResult, InLedger, JSON, MERGE_PATCH,
};
use crate::app::App;
use crate::domain::category::{parse_fields, Category, CategoryList};
use crate::domain::{new_id, now_micros, Id};
use crate::http::problem::ApiError;
use crate::store::StoreError;

fn name_taken(e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict => ApiError::Conflict(
            "This ledger already has a category with this name (ignoring case).".into(),
        ),
        other => other.into(),
    }
}

pub async fn create(
    app: &App,
    here: &InLedger,
    request: Request<Bytes>,
    claim: Option<Claim>,
) -> HandlerResult {
    let body = json_body(&request, &[JSON])?;
    let (name, color) = parse_fields(&body, None).map_err(ApiError::Invalid)?;
    let now = now_micros();
    let category = Category {
        id: new_id(),
        name,
        color,
        created_at: now,
        updated_at: now,
    };
    let response = with_location(
        json(StatusCode::CREATED, &category.view())?,
        &here.link(&format!("/categories/{}", category.id)),
    );
    // Stored with the category: exactly once, even across a crash.
    let completion = claim.as_ref().map(|c| c.completion(&response));
    app.store
        .insert_category(here.actor(app).await?, &category, completion.as_ref())
        .await
        .map_err(name_taken)?;
    invalidate(app, here).await;
    Ok(Claim::mark_completed(response, claim.is_some()))
}

pub async fn list(app: &App, here: &InLedger) -> HandlerResult {
    let body = cached(app, here, "categories", || async {
        let categories = app.store.list_categories(here.actor(app).await?).await?;
        to_json_bytes(&CategoryList {
            items: categories.iter().map(Category::view).collect(),
        })
    })
    .await?;
    Ok(json_bytes(StatusCode::OK, body))
}

async fn find(app: &App, here: &InLedger, id: Option<&Id>) -> Result<Category, ApiError> {
    app.store
        .get_category(here.actor(app).await?, existing(id)?.as_str())
        .await?
        .ok_or(ApiError::NotFound)
}

pub async fn get(app: &App, here: &InLedger, id: Option<&Id>) -> HandlerResult {
    json(StatusCode::OK, &find(app, here, id).await?.view())
}

pub async fn update(
    app: &App,
    here: &InLedger,
    id: Option<&Id>,
    request: Request<Bytes>,
) -> HandlerResult {
    let body = json_body(&request, &[JSON, MERGE_PATCH])?;
    let current = find(app, here, id).await?;
    let (name, color) = parse_fields(&body, Some(&current)).map_err(ApiError::Invalid)?;
    let updated = Category {
        name,
        color,
        updated_at: now_micros().max(current.updated_at),
        ..current
    };
    if !app
        .store
        .update_category(here.actor(app).await?, &updated)
        .await
        .map_err(name_taken)?
    {
        return Err(ApiError::NotFound);
    }
    invalidate(app, here).await;
    json(StatusCode::OK, &updated.view())
}

pub async fn delete(app: &App, here: &InLedger, id: Option<&Id>) -> HandlerResult {
    let id = existing(id)?;
    if !app
        .store
        .delete_category(here.actor(app).await?, id.as_str(), now_micros())
        .await?
    {
        return Err(ApiError::NotFound);
    }
    invalidate(app, here).await;
    Ok(empty(StatusCode::NO_CONTENT))
}
