//! The summary report, grouped by the database, cached like lists.

use bytes::Bytes;
use http::{Request, StatusCode};

use super::expenses::bad_query;
use super::{cached, json_bytes, to_json_bytes, HandlerResult};
use crate::app::App;
use crate::domain::report::{summary_view, SummaryQuery};
use crate::domain::text::format_date;
use crate::domain::UserId;
use crate::http::request::query_pairs;

pub async fn summary(app: &App, user: &UserId, request: Request<Bytes>) -> HandlerResult {
    let query = SummaryQuery::parse(&query_pairs(&request)).map_err(bad_query)?;
    let key = format!(
        "summary:{}:{}:{}",
        query.group_by.name(),
        query.from.map(format_date).unwrap_or_default(),
        query.to.map(format_date).unwrap_or_default()
    );
    let body = cached(app, user, &key, || async {
        let groups = app.store.summary(user, &query).await?;
        to_json_bytes(&summary_view(&query, groups))
    })
    .await?;
    Ok(json_bytes(StatusCode::OK, body))
}
