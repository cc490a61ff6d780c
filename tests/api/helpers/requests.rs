//! Requests to a test app and its whole responses; any 5xx fails the test.

use std::collections::BTreeSet;

use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder};
use serde_json::Value;

use super::*;

impl TestApp {
    /// A request without credentials.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path))
    }

    /// A request with a valid token for `user`.
    pub fn authed(&self, method: Method, path: &str, user: &str) -> RequestBuilder {
        self.request(method, path).bearer_auth(self.token(user))
    }

    pub async fn get(&self, path: &str, user: &str) -> Resp {
        send(self.authed(Method::GET, path, user)).await
    }

    pub async fn post_json(&self, path: &str, user: &str, body: &Value) -> Resp {
        self.send_body(Method::POST, path, user, Some(JSON), body.to_string())
            .await
    }

    /// A request with any body and `Content-Type` (none when `None`).
    pub async fn send_body(
        &self,
        method: Method,
        path: &str,
        user: &str,
        content_type: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> Resp {
        let mut request = self.authed(method, path, user).body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        send(request).await
    }

    /// A JSON merge patch; `if_match` is the raw header, e.g. `etag(2)`.
    pub async fn patch(
        &self,
        path: &str,
        user: &str,
        body: &Value,
        if_match: Option<&str>,
    ) -> Resp {
        self.patch_as(MERGE_PATCH, path, user, body, if_match).await
    }

    pub async fn patch_as(
        &self,
        content_type: &str,
        path: &str,
        user: &str,
        body: &Value,
        if_match: Option<&str>,
    ) -> Resp {
        let mut request = self
            .authed(Method::PATCH, path, user)
            .header("content-type", content_type)
            .body(body.to_string());
        if let Some(tag) = if_match {
            request = request.header("if-match", tag);
        }
        send(request).await
    }

    pub async fn delete(&self, path: &str, user: &str, if_match: Option<&str>) -> Resp {
        let mut request = self.authed(Method::DELETE, path, user);
        if let Some(tag) = if_match {
            request = request.header("if-match", tag);
        }
        send(request).await
    }

    /// Creates an expense, asserting 201; returns the body.
    pub async fn create_expense(&self, user: &str, body: &Value) -> Value {
        self.post_json("/v1/expenses", user, body)
            .await
            .context(format!("creating {body}"))
            .expect_json(201)
    }

    /// Reads an expense, asserting 200; returns the body.
    pub async fn get_expense(&self, user: &str, id: &str) -> Value {
        self.get(&expense_path(id), user).await.expect_json(200)
    }

    /// `GET /health` without a token, asserting 200; returns the body.
    pub async fn health(&self) -> Value {
        send(self.request(Method::GET, "/health"))
            .await
            .expect_json(200)
    }

    /// One page of `GET /v1/expenses`, asserting 200 and the page's shape.
    pub async fn list(&self, user: &str, params: &[(&str, &str)]) -> Value {
        let request = self.authed(Method::GET, "/v1/expenses", user).query(params);
        let resp = send(request).await;
        let page = resp.expect_json(200);
        assert!(
            page["items"].is_array(),
            "{}: `items` is not an array: {page}",
            resp.what
        );
        assert!(
            page["next_cursor"].is_null() || page["next_cursor"].is_string(),
            "{}: `next_cursor` must be a string or null: {page}",
            resp.what
        );
        page
    }

    /// Every item of `GET /v1/expenses` with `params`, following cursors.
    pub async fn list_all(&self, user: &str, params: &[(&str, &str)]) -> Vec<Value> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..10_000 {
            let mut query = params.to_vec();
            if let Some(cursor) = &cursor {
                query.push(("cursor", cursor.as_str()));
            }
            let page = self.list(user, &query).await;
            items.extend(page["items"].as_array().into_iter().flatten().cloned());
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return items,
            }
        }
        panic!("listing {params:?} for {user} did not end after 10000 pages");
    }
}

/// A response, read whole.
pub struct Resp {
    /// Method and path of the request, plus any context a test added.
    pub what: String,
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

/// Sends `request` and reads the whole response. Any 5xx fails the test:
/// no request of this suite may cause a server error.
pub async fn send(request: RequestBuilder) -> Resp {
    let (client, request) = request.build_split();
    let request = request.expect("a well-formed request");
    let url = request.url();
    let what = format!(
        "{} {}{}",
        request.method(),
        url.path(),
        url.query().map(|q| format!("?{q}")).unwrap_or_default()
    );
    let response = client
        .execute(request)
        .await
        .unwrap_or_else(|e| panic!("{what}: no response: {e}"));
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .text()
        .await
        .unwrap_or_else(|e| panic!("{what}: unreadable body: {e}"));
    assert!(
        status < 500,
        "{what} answered {status} with {body}: no request of this suite may cause a server error"
    );
    Resp {
        what,
        status,
        headers,
        body,
    }
}

impl Resp {
    /// Adds `context` to every assertion message about this response.
    pub fn context(mut self, context: impl std::fmt::Display) -> Resp {
        self.what = format!("{} [{context}]", self.what);
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| {
            panic!("{}: the body is not JSON ({e}): {:?}", self.what, self.body)
        })
    }

    pub fn assert_status(&self, status: u16) -> &Resp {
        assert_eq!(
            self.status, status,
            "{}: expected status {status}, got {} with body {}",
            self.what, self.status, self.body
        );
        self
    }

    /// Asserts `status` and a JSON content type; returns the body.
    pub fn expect_json(&self, status: u16) -> Value {
        self.assert_status(status);
        let content_type = self.header("content-type").unwrap_or("");
        assert!(
            content_type.starts_with("application/json"),
            "{}: expected Content-Type application/json, got {content_type:?}",
            self.what
        );
        self.json()
    }

    /// Asserts an RFC 9457 problem with `status`; returns its body.
    pub fn problem(&self, status: u16) -> Value {
        self.assert_status(status);
        let content_type = self.header("content-type").unwrap_or("");
        assert!(
            content_type.starts_with("application/problem+json"),
            "{}: a {status} must be application/problem+json, got Content-Type {content_type:?}",
            self.what
        );
        let problem = self.json();
        for member in ["type", "title", "detail"] {
            assert!(
                problem[member].as_str().is_some_and(|s| !s.is_empty()),
                "{}: the problem lacks a non-empty string `{member}`: {problem}",
                self.what
            );
        }
        assert_eq!(
            problem["status"], status,
            "{}: the problem's `status` must be {status}: {problem}",
            self.what
        );
        problem
    }

    /// Asserts a 422 whose `errors` name exactly `fields` (an entry such as
    /// `tags[3]` counts as `tags`).
    pub fn assert_invalid(&self, fields: &[&str]) {
        let problem = self.problem(422);
        let errors = problem["errors"].as_array().unwrap_or_else(|| {
            panic!(
                "{}: a 422 must carry an `errors` array: {problem}",
                self.what
            )
        });
        let mut named = BTreeSet::new();
        for error in errors {
            let field = error["field"].as_str();
            assert!(
                field.is_some() && error["message"].as_str().is_some_and(|m| !m.is_empty()),
                "{}: every error needs a string `field` and a non-empty `message`: {error}",
                self.what
            );
            let field = field.unwrap_or_default();
            named.insert(field.split(['[', '.']).next().unwrap_or(field).to_owned());
        }
        let expected: BTreeSet<String> = fields.iter().map(|f| f.to_string()).collect();
        assert_eq!(
            named, expected,
            "{}: the 422 must name exactly the bad fields; it said {problem}",
            self.what
        );
    }

    /// Asserts a 401 problem with a `WWW-Authenticate: Bearer…` header.
    pub fn assert_unauthorized(&self) {
        self.problem(401);
        let challenge = self.header("www-authenticate").unwrap_or("");
        assert!(
            challenge.starts_with("Bearer"),
            "{}: a 401 needs `WWW-Authenticate: Bearer`, got {challenge:?}",
            self.what
        );
    }

    /// Asserts a 405 problem whose `Allow` header lists exactly `allowed`
    /// (HEAD and OPTIONS aside).
    pub fn assert_method_not_allowed(&self, allowed: &[&str]) {
        self.problem(405);
        let allow: BTreeSet<String> = self
            .header("allow")
            .unwrap_or_else(|| panic!("{}: a 405 needs an Allow header", self.what))
            .split(',')
            .map(|m| m.trim().to_ascii_uppercase())
            .filter(|m| m != "HEAD" && m != "OPTIONS")
            .collect();
        let expected: BTreeSet<String> = allowed.iter().map(|m| m.to_string()).collect();
        assert_eq!(allow, expected, "{}: the Allow header", self.what);
    }
}
