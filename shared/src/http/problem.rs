//! Errors as the client sees them: RFC 9457 problem+json, made in this one
//! place. Internal causes are logged, never shown.

use bytes::Bytes;
use http::{header, HeaderValue, Method, Response, StatusCode};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::csv_format::ImportError;
use crate::domain::FieldError;
use crate::store::StoreError;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// Every way a request can fail.
#[derive(Debug)]
pub enum ApiError {
    /// 400: malformed JSON, query parameters or headers.
    BadRequest {
        detail: String,
        errors: Vec<FieldError>,
    },
    Unauthorized(String),
    /// 403: a member of the ledger whose role does not allow this.
    Forbidden,
    NotFound,
    MethodNotAllowed(Vec<Method>),
    /// 409: the request conflicts with stored state.
    Conflict(String),
    PreconditionFailed,
    PayloadTooLarge,
    UnsupportedMediaType(String),
    /// 422: well-formed, but these fields are invalid.
    Invalid(Vec<FieldError>),
    /// 422: these rows of a CSV import are invalid (`line`, `field`, `message`).
    InvalidRows(Vec<ImportError>),
    Unavailable(String),
    Internal(String),
}

/// RFC 9457 problem details.
#[derive(Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    #[schema(format = "uri")]
    pub kind: String,
    pub title: &'static str,
    #[schema(minimum = 400, maximum = 599)]
    pub status: u16,
    pub detail: String,
    /// Field errors, or a CSV import's bad rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<ProblemItem>>, min_items = 1, nullable = false)]
    pub errors: Option<serde_json::Value>,
}

// One entry of a problem's `errors`: a FieldError, or an ImportError,
// which adds `line` (a test holds both to this shape). It only describes
// them; Serialize is derived for `deny_unknown_fields`.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(description = "One bad field, or one bad row of a CSV import.")]
pub struct ProblemItem {
    field: String,
    message: String,
    /// CSV import: the 1-based physical line where the record starts.
    #[schema(minimum = 1, required = false)]
    line: u64,
}

/// Seconds a client should wait before retrying after a 503.
const RETRY_AFTER_SECONDS: &str = "5";

impl ApiError {
    pub fn bad_request(detail: impl Into<String>) -> ApiError {
        ApiError::BadRequest {
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Invalid(_) | ApiError::InvalidRows(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A short stable name, the last part of the problem `type`.
    fn slug(&self) -> &'static str {
        match self {
            ApiError::BadRequest { .. } => "bad-request",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden => "forbidden",
            ApiError::NotFound => "not-found",
            ApiError::MethodNotAllowed(_) => "method-not-allowed",
            ApiError::Conflict(_) => "conflict",
            ApiError::PreconditionFailed => "precondition-failed",
            ApiError::PayloadTooLarge => "payload-too-large",
            ApiError::UnsupportedMediaType(_) => "unsupported-media-type",
            ApiError::Invalid(_) | ApiError::InvalidRows(_) => "validation-failed",
            ApiError::Unavailable(_) => "service-unavailable",
            ApiError::Internal(_) => "internal-error",
        }
    }

    fn detail(&self) -> String {
        match self {
            ApiError::BadRequest { detail, .. } => detail.clone(),
            ApiError::Unauthorized(why) => why.clone(),
            ApiError::Forbidden => "Your role in this ledger does not allow this.".into(),
            ApiError::NotFound => "No such resource.".into(),
            ApiError::MethodNotAllowed(allowed) => format!(
                "This resource allows only {}.",
                allowed
                    .iter()
                    .map(Method::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            ApiError::Conflict(detail) => detail.clone(),
            ApiError::PreconditionFailed => {
                "If-Match does not match the current version; read it again and retry.".into()
            }
            ApiError::PayloadTooLarge => "The request body is larger than 1 MiB.".into(),
            ApiError::UnsupportedMediaType(expected) => format!("Send the body as {expected}."),
            ApiError::Invalid(_) => "Some fields are invalid; see errors.".into(),
            ApiError::InvalidRows(_) => {
                "Some rows are invalid; see errors. Nothing was stored.".into()
            }
            // Causes stay in the logs.
            ApiError::Unavailable(_) => "The database is unavailable; retry shortly.".into(),
            ApiError::Internal(_) => "Something went wrong on our side.".into(),
        }
    }

    /// The body of this error's response.
    pub fn problem(&self) -> Problem {
        let status = self.status();
        let errors = match self {
            ApiError::BadRequest { errors, .. } | ApiError::Invalid(errors)
                if !errors.is_empty() =>
            {
                serde_json::to_value(errors).ok()
            }
            ApiError::InvalidRows(rows) => serde_json::to_value(rows).ok(),
            _ => None,
        };
        Problem {
            kind: format!("https://expense-tracker.dev/problems/{}", self.slug()),
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail: self.detail(),
            errors,
        }
    }

    pub fn into_response(self) -> Response<Bytes> {
        match &self {
            ApiError::Internal(cause) => tracing::error!(cause = %cause, "internal error"),
            ApiError::Unavailable(cause) => {
                tracing::warn!(cause = %cause, "dependency unavailable")
            }
            _ => {}
        }
        let status = self.status();
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut response = Response::new(Bytes::from(body));
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        match &self {
            ApiError::Unauthorized(_) => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            ApiError::MethodNotAllowed(allowed) => {
                let list = allowed
                    .iter()
                    .map(Method::as_str)
                    .collect::<Vec<_>>()
                    .join(", ");
                if let Ok(value) = HeaderValue::from_str(&list) {
                    headers.insert(header::ALLOW, value);
                }
            }
            ApiError::Unavailable(_) => {
                headers.insert(
                    header::RETRY_AFTER,
                    HeaderValue::from_static(RETRY_AFTER_SECONDS),
                );
            }
            _ => {}
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::Unavailable(cause) | StoreError::Transient(cause) => {
                ApiError::Unavailable(cause)
            }
            StoreError::UnknownCategory => ApiError::Invalid(vec![FieldError::new(
                "category_id",
                "is not one of your categories",
            )]),
            StoreError::Conflict => ApiError::Conflict("This conflicts with stored data.".into()),
            StoreError::NotMember => ApiError::NotFound,
            StoreError::Forbidden => ApiError::Forbidden,
            StoreError::Internal(cause) => ApiError::Internal(cause),
        }
    }
}
