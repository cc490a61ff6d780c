//! Paths, bodies and values of expenses, categories, budgets and reports.

use reqwest::Method;
use serde_json::{json, Value};

use super::*;

pub fn expense_path(id: &str) -> String {
    format!("/v1/expenses/{id}")
}

/// The smallest valid create body.
pub fn expense_body(amount: &str, currency: &str, date: &str) -> Value {
    json!({ "amount": amount, "currency": currency, "date": date })
}

/// `base` with the members of `extra` added or replaced.
pub fn with(mut base: Value, extra: Value) -> Value {
    let target = base.as_object_mut().expect("`with` extends a JSON object");
    for (key, value) in extra.as_object().expect("`with` takes a JSON object") {
        target.insert(key.clone(), value.clone());
    }
    base
}

/// The `ETag` / `If-Match` value of `version`: `"3"`, quotes included.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

pub fn id_of(expense: &Value) -> String {
    expense["id"]
        .as_str()
        .unwrap_or_else(|| panic!("expense without a string id: {expense}"))
        .to_owned()
}

pub fn ids(items: &[Value]) -> Vec<String> {
    items.iter().map(id_of).collect()
}

/// A fresh, well-formed id that no server has made: a missing resource.
pub fn unused_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Asserts an RFC 3339 timestamp in UTC written with `Z`.
pub fn assert_utc_timestamp(value: &Value, what: &str) {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("{what} must be a string, got {value}"));
    assert!(
        text.ends_with('Z'),
        "{what} must be UTC ending in Z: {text}"
    );
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("{what} is not RFC 3339 ({e}): {text}"));
}

// ---------------------------------------------------------------------------

pub type Query<'a> = &'a [(&'a str, &'a str)];

pub fn category_path(id: &str) -> String {
    format!("/v1/categories/{id}")
}

pub fn budget_path(category_id: &str) -> String {
    format!("/v1/budgets/{category_id}")
}

/// The string member `member` of `value`, e.g. a budget's `category_id`.
pub fn str_of(value: &Value, member: &str) -> String {
    value[member]
        .as_str()
        .unwrap_or_else(|| panic!("no string `{member}` in {value}"))
        .to_owned()
}

impl TestApp {
    pub async fn put_json(&self, path: &str, user: &str, body: &Value) -> Resp {
        self.send_body(Method::PUT, path, user, Some(JSON), body.to_string())
            .await
    }

    /// Creates a category named `name` without a colour, asserting 201;
    /// returns the body.
    pub async fn create_category(&self, user: &str, name: &str) -> Value {
        self.post_json("/v1/categories", user, &json!({ "name": name }))
            .await
            .context(format!("creating category {name:?}"))
            .expect_json(201)
    }

    /// `GET /v1/categories`, asserting 200; returns the items.
    pub async fn categories(&self, user: &str) -> Vec<Value> {
        let resp = self.get("/v1/categories", user).await;
        let body = resp.expect_json(200);
        body["items"]
            .as_array()
            .unwrap_or_else(|| panic!("{}: `items` is not an array: {body}", resp.what))
            .clone()
    }

    /// Creates or replaces the budget of `category_id`, asserting 200;
    /// returns the body.
    pub async fn put_budget(
        &self,
        user: &str,
        category_id: &str,
        amount: &str,
        currency: &str,
    ) -> Value {
        self.put_json(
            &budget_path(category_id),
            user,
            &json!({ "amount": amount, "currency": currency }),
        )
        .await
        .context(format!("budget {amount} {currency}"))
        .expect_json(200)
    }

    /// `GET /v1/budgets` for `month` (the default month when `None`),
    /// asserting 200; returns the body.
    pub async fn budgets(&self, user: &str, month: Option<&str>) -> Value {
        let mut request = self.authed(Method::GET, "/v1/budgets", user);
        if let Some(month) = month {
            request = request.query(&[("month", month)]);
        }
        send(request).await.expect_json(200)
    }

    /// `GET /v1/reports/summary` with `params`, asserting 200; returns the
    /// body.
    pub async fn summary(&self, user: &str, params: &[(&str, &str)]) -> Value {
        let request = self
            .authed(Method::GET, "/v1/reports/summary", user)
            .query(params);
        send(request).await.expect_json(200)
    }

    // -----------------------------------------------------------------------
    // CSV

    /// `POST /v1/expenses/import` with `Content-Type: text/csv`.
    pub async fn import_csv(&self, user: &str, body: impl Into<reqwest::Body>) -> Resp {
        self.send_body(
            Method::POST,
            "/v1/expenses/import",
            user,
            Some("text/csv"),
            body,
        )
        .await
    }

    /// Imports `body`, asserting 201 `{"imported": rows}`.
    pub async fn import_csv_ok(&self, user: &str, body: impl Into<reqwest::Body>, rows: usize) {
        let resp = self.import_csv(user, body).await;
        assert_eq!(
            resp.expect_json(201),
            json!({ "imported": rows }),
            "{}: the import must report {rows} rows",
            resp.what
        );
    }

    /// One `GET` of `path` (an export URL path with its query), asserting
    /// 200 and `text/csv`.
    pub async fn export_part(&self, user: &str, path: &str) -> Resp {
        let resp = send(self.authed(Method::GET, path, user)).await;
        resp.assert_status(200);
        let content_type = resp.header("content-type").unwrap_or("");
        assert!(
            content_type.starts_with("text/csv"),
            "{}: an export is text/csv, got Content-Type {content_type:?}",
            resp.what
        );
        resp
    }

    /// Every part of `GET /v1/expenses/export` with `params`, following the
    /// `Link: <…>; rel="next"` headers.
    pub async fn export_parts(&self, user: &str, params: &[(&str, &str)]) -> Vec<Resp> {
        let mut query = form_urlencoded::Serializer::new(String::new());
        query.extend_pairs(params);
        let mut path = format!("/v1/expenses/export?{}", query.finish());
        let mut parts = Vec::new();
        for _ in 0..1000 {
            let part = self.export_part(user, &path).await;
            let next = next_link(&part);
            parts.push(part);
            match next {
                Some(next) => path = next,
                None => return parts,
            }
        }
        panic!("exporting {params:?} for {user} did not end after 1000 parts");
    }

    /// The whole export with `params` in one part, parsed: the header row
    /// first.
    pub async fn export_rows(&self, user: &str, params: &[(&str, &str)]) -> Vec<Vec<String>> {
        let parts = self.export_parts(user, params).await;
        assert_eq!(
            parts.len(),
            1,
            "a small export comes in one part, got {}",
            parts.len()
        );
        parse_csv(&parts[0].body)
    }
}

/// The target of a `Link: <target>; rel="next"` header, if any.
pub fn next_link(resp: &Resp) -> Option<String> {
    let mut found = None;
    for value in resp.headers.get_all("link") {
        let value = value
            .to_str()
            .unwrap_or_else(|e| panic!("{}: a Link header is not ASCII: {e}", resp.what));
        for link in value.split(',') {
            let (target, params) = link.split_once(';').unwrap_or((link, ""));
            let is_next = params.split(';').any(|p| {
                let p = p.trim().to_ascii_lowercase();
                p == "rel=\"next\"" || p == "rel=next"
            });
            if is_next {
                let target = target.trim();
                let target = target
                    .strip_prefix('<')
                    .and_then(|t| t.strip_suffix('>'))
                    .unwrap_or_else(|| panic!("{}: malformed Link {value:?}", resp.what));
                assert!(
                    found.is_none(),
                    "{}: more than one rel=\"next\" link",
                    resp.what
                );
                found = Some(target.to_owned());
            }
        }
    }
    found
}
