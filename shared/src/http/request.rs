//! Reading requests: content types, JSON bodies, query pairs, If-Match.

use bytes::Bytes;
use http::{header, HeaderMap, Request};
use serde_json::{Map, Value};

use super::problem::ApiError;
use crate::domain::FieldError;

/// Checks `Content-Type` against the accepted media types (parameters such
/// as `charset` are allowed), else 415.
pub fn require_content_type(headers: &HeaderMap, accepted: &[&str]) -> Result<(), ApiError> {
    let media_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    match media_type {
        Some(m) if accepted.contains(&m.as_str()) => Ok(()),
        _ => Err(ApiError::UnsupportedMediaType(accepted.join(" or "))),
    }
}

/// The body as a JSON object: 400 when it is not JSON, 422 when it is JSON
/// but not an object.
pub fn json_object(request: &Request<Bytes>) -> Result<Map<String, Value>, ApiError> {
    let value: Value = serde_json::from_slice(request.body())
        .map_err(|e| ApiError::bad_request(format!("The body is not valid JSON: {e}")))?;
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(ApiError::Invalid(vec![FieldError::new(
            "body",
            "must be a JSON object",
        )])),
    }
}

/// Decoded query pairs, in order.
pub fn query_pairs(request: &Request<Bytes>) -> Vec<(String, String)> {
    request
        .uri()
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default()
}

/// What `If-Match` asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum IfMatch {
    Absent,
    /// `*`: any current version.
    Any,
    /// Strong entity tags; a malformed or weak tag never matches.
    Tags(Vec<String>),
}

impl IfMatch {
    pub fn from_headers(headers: &HeaderMap) -> IfMatch {
        let values: Vec<&str> = headers
            .get_all(header::IF_MATCH)
            .iter()
            .map(|v| v.to_str().unwrap_or(""))
            .collect();
        if values.is_empty() {
            return IfMatch::Absent;
        }
        let tags: Vec<String> = values
            .iter()
            .flat_map(|v| v.split(','))
            .map(|t| t.trim().to_owned())
            .collect();
        if tags.iter().any(|t| t == "*") {
            IfMatch::Any
        } else {
            IfMatch::Tags(tags)
        }
    }

    /// Whether a resource with entity tag `etag` passes the precondition.
    pub fn allows(&self, etag: &str) -> bool {
        match self {
            IfMatch::Absent | IfMatch::Any => true,
            IfMatch::Tags(tags) => tags.iter().any(|t| t == etag),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn if_match(value: &str) -> IfMatch {
        let mut headers = HeaderMap::new();
        headers.insert(header::IF_MATCH, HeaderValue::from_str(value).unwrap());
        IfMatch::from_headers(&headers)
    }

    #[test]
    fn if_match_compares_strong_tags() {
        assert!(IfMatch::from_headers(&HeaderMap::new()).allows("\"3\""));
        assert!(if_match("*").allows("\"3\""));
        assert!(if_match("\"3\"").allows("\"3\""));
        assert!(if_match("\"1\", \"3\"").allows("\"3\""));
        assert!(!if_match("\"2\"").allows("\"3\""));
        assert!(!if_match("W/\"3\"").allows("\"3\""));
        assert!(!if_match("3").allows("\"3\""));
    }

    #[test]
    fn content_types() {
        let mut headers = HeaderMap::new();
        assert!(require_content_type(&headers, &["application/json"]).is_err());
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("Application/JSON; charset=utf-8"),
        );
        assert!(require_content_type(&headers, &["application/json"]).is_ok());
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        assert!(require_content_type(&headers, &["application/json"]).is_err());
    }
}
