//! The summary report, grouped by the database, cached like lists.

use bytes::Bytes;
use http::{Request, StatusCode};

use super::expenses::bad_query;
use super::{cached, json_bytes, to_json_bytes, HandlerResult, InLedger};
use crate::app::App;
use crate::domain::report::{summary_view, SummaryRequest};
use crate::http::request::query_pairs;

pub async fn summary(app: &App, here: &InLedger, request: Request<Bytes>) -> HandlerResult {
    let summary = SummaryRequest::parse(&query_pairs(&request)).map_err(bad_query)?;
    let body = cached(app, here, &summary.cache_key(), || async {
        let groups = app
            .store
            .summary(here.actor(app).await?, &summary.query)
            .await?;
        to_json_bytes(&summary_view(&summary, groups))
    })
    .await?;
    Ok(json_bytes(StatusCode::OK, body))
}
