//! Idempotency keys on every `POST` that creates something: for 24 hours,
//! the same user and key in one ledger with the same request replays the
//! first response and writes nothing. The key is claimed by a unique row
//! (so concurrent duplicates cannot both run), with a lease so that a
//! crashed request does not hold its key forever; a write stores its
//! response in the same transaction as its data.

use std::future::Future;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{header, HeaderName, HeaderValue, Request, Response, StatusCode};

use super::HandlerResult;
use crate::app::App;
use crate::domain::{now_micros, sha256_hex, FieldError};
use crate::http::problem::ApiError;
use crate::store::{Actor, Completion, StoredResponse};

const HEADER: &str = "idempotency-key";
const MAX_KEY_LEN: usize = 255;
/// How long a first request holds its key before a retry may take over.
const LEASE: Duration = Duration::from_secs(30);
/// How long a duplicate waits for the first request to finish.
const WAIT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(50);
/// How long a key and its response are kept.
pub const RETENTION: Duration = Duration::from_secs(24 * 3600);
/// Response headers kept with the response.
const KEPT_HEADERS: [HeaderName; 3] = [header::CONTENT_TYPE, header::LOCATION, header::ETAG];

fn micros(d: Duration) -> i64 {
    d.as_micros() as i64
}

/// The key a handler runs under; it builds the stored completion.
#[derive(Clone, Debug)]
pub struct Claim {
    owner: String,
    key: String,
}

/// Marks a response already stored with its write.
#[derive(Clone, Copy)]
struct StoredWithWrite;

impl Claim {
    pub fn completion(&self, response: &Response<Bytes>) -> Completion {
        Completion {
            owner: self.owner.clone(),
            key: self.key.clone(),
            response: StoredResponse {
                status: response.status().as_u16(),
                headers: KEPT_HEADERS
                    .iter()
                    .filter_map(|name| {
                        let value = response.headers().get(name)?.to_str().ok()?;
                        Some((name.as_str().to_owned(), value.to_owned()))
                    })
                    .collect(),
                body: response.body().to_vec(),
            },
        }
    }

    /// Notes that `response` was stored in the write's transaction.
    pub fn mark_completed(mut response: Response<Bytes>, completed: bool) -> Response<Bytes> {
        if completed {
            response.extensions_mut().insert(StoredWithWrite);
        }
        response
    }
}

/// The key, if sent: 1–255 characters in U+0021–U+007E, else 400.
fn parse_key(request: &Request<Bytes>) -> Result<Option<String>, ApiError> {
    let mut values = request.headers().get_all(HEADER).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let bytes = value.as_bytes();
    let valid = values.next().is_none()
        && (1..=MAX_KEY_LEN).contains(&bytes.len())
        && bytes.iter().all(|b| (0x21..=0x7e).contains(b));
    if !valid {
        return Err(ApiError::BadRequest {
            detail: "Idempotency-Key must be one value of 1 to 255 visible ASCII characters."
                .into(),
            errors: vec![FieldError::new("Idempotency-Key", "is malformed")],
        });
    }
    Ok(Some(String::from_utf8_lossy(bytes).into_owned()))
}

/// What "the same request" means: method, path and the exact body bytes.
fn fingerprint(request: &Request<Bytes>) -> String {
    sha256_hex(&[
        request.method().as_str().as_bytes(),
        b"\n",
        request.uri().path().as_bytes(),
        b"\n",
        request.body(),
    ])
}

fn replay(stored: StoredResponse) -> Response<Bytes> {
    let mut response = Response::new(Bytes::from(stored.body));
    *response.status_mut() = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    for (name, value) in stored.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
    response.headers_mut().insert(
        HeaderName::from_static("idempotent-replayed"),
        HeaderValue::from_static("true"),
    );
    response
}

/// Runs `handler` at most once per user, ledger and key.
pub async fn run<F, Fut>(
    app: &App,
    actor: &Actor,
    request: Request<Bytes>,
    handler: F,
) -> HandlerResult
where
    F: FnOnce(Request<Bytes>, Option<Claim>) -> Fut,
    Fut: Future<Output = HandlerResult>,
{
    let Some(key) = parse_key(&request)? else {
        return handler(request, None).await;
    };
    let fingerprint = fingerprint(&request);
    let owner = actor.idempotency_owner();
    let deadline = Instant::now() + WAIT;
    loop {
        let now = now_micros();
        let existing = app
            .store
            .idempotency_begin(
                &owner,
                &key,
                &fingerprint,
                now,
                now + micros(LEASE),
                now + micros(RETENTION),
            )
            .await?;
        let Some(record) = existing else {
            break;
        };
        if record.fingerprint != fingerprint {
            return Err(ApiError::Invalid(vec![FieldError::new(
                "Idempotency-Key",
                "was already used with a different request",
            )]));
        }
        if let Some(stored) = record.response {
            return Ok(replay(stored));
        }
        // Pending: the first request is running, or crashed.
        if record.lease_until < now
            && app
                .store
                .idempotency_take_over(&owner, &key, now, now + micros(LEASE))
                .await?
        {
            break;
        }
        if Instant::now() >= deadline {
            return Err(ApiError::Unavailable(
                "a request with this Idempotency-Key is still running".into(),
            ));
        }
        tokio::time::sleep(POLL).await;
    }

    let claim = Claim {
        owner: owner.clone(),
        key: key.clone(),
    };
    let response = match handler(request, Some(claim.clone())).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    };
    let status = response.status().as_u16();
    let outcome = if status >= 500 || matches!(status, 401 | 413 | 415) {
        // Not a response to replay: a retry runs afresh.
        app.store.idempotency_abandon(&owner, &key).await
    } else if response.extensions().get::<StoredWithWrite>().is_none() {
        app.store
            .idempotency_complete(&claim.completion(&response))
            .await
    } else {
        Ok(())
    };
    if let Err(e) = outcome {
        // The lease runs out and a retry takes over; nothing was written
        // that a re-run could duplicate (writes store their response).
        tracing::warn!(error = %e, "could not record the idempotency outcome");
    }
    Ok(response)
}
