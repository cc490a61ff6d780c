//! One function per operation: parse and validate, call the store (through
//! the cache), shape the response.

mod budgets;
mod categories;
pub(crate) mod csv;
mod expenses;
mod idempotency;
pub(crate) mod ledgers;
pub(crate) mod ops;
mod reports;

use std::future::Future;
use std::sync::OnceLock;

use bytes::Bytes;
use http::{header, HeaderValue, Request, Response, StatusCode};
use serde::Serialize;

use crate::app::App;
use crate::cache::Lookup;
use crate::domain::ledger::Role;
use crate::domain::{Id, UserId};
use crate::http::problem::ApiError;
use crate::http::routes::Operation;
use crate::store::Actor;

pub type HandlerResult = Result<Response<Bytes>, ApiError>;

pub async fn public(app: &App, operation: Operation) -> HandlerResult {
    match operation {
        Operation::Health => ops::health(app).await,
        Operation::OpenApi => Ok(json_bytes(StatusCode::OK, app.openapi())),
        _ => Err(ApiError::Internal(format!("{operation:?} is not public"))),
    }
}

/// Where a request acts: who, in which ledger, and the path its links keep.
pub struct InLedger {
    user: UserId,
    /// What `Location` and `Link` start with: `/v1` on the personal
    /// ledger's own routes, `/v1/ledgers/{id}` under a ledger.
    base: String,
    /// The caller's standing in the ledger, once known: at once on the
    /// personal ledger's own routes and for every change (resolved from
    /// the database at dispatch); for a read under `/v1/ledgers/{id}`, by
    /// the cache lookup that also fetches the body ([`cached`]), or from
    /// the database by the first call that needs it.
    /// `None`: the caller is no member of it (404).
    standing: OnceLock<Option<Actor>>,
    /// The ledger a read's standing is still to be resolved in.
    pending: Option<Id>,
}

impl InLedger {
    fn resolved(user: &UserId, base: String, actor: Actor) -> InLedger {
        InLedger {
            user: user.clone(),
            base,
            standing: OnceLock::from(Some(actor)),
            pending: None,
        }
    }

    /// The caller's personal ledger, through the routes without a ledger.
    fn personal(user: &UserId) -> InLedger {
        InLedger::resolved(user, "/v1".to_owned(), Actor::personal(user))
    }

    /// A ledger the caller is a member of, through its own routes.
    fn of(user: &UserId, access: &ledgers::Access) -> InLedger {
        let ledger = &access.ledger;
        InLedger::resolved(
            user,
            format!("/v1/ledgers/{}", ledger.id),
            actor_in(user, ledger.id.as_str(), &ledger.key, ledger.personal),
        )
    }

    /// A read in the ledger `raw` names, the caller's membership still to
    /// be resolved (any member may read).
    fn reading(user: &UserId, raw: &str) -> InLedger {
        let pending = Id::parse(raw);
        InLedger {
            user: user.clone(),
            base: format!("/v1/ledgers/{raw}"),
            // No id this server could have made: no such ledger.
            standing: match pending {
                Some(_) => OnceLock::new(),
                None => OnceLock::from(None),
            },
            pending,
        }
    }

    /// Who is asking.
    pub fn user(&self) -> &UserId {
        &self.user
    }

    /// Who acts in which ledger: 404 if the caller is no member. Read
    /// from the database on the first call when the cache has not told.
    pub async fn actor(&self, app: &App) -> Result<&Actor, ApiError> {
        if self.standing.get().is_none() {
            let standing = match &self.pending {
                None => None,
                Some(id) => match ledgers::access(app, &self.user, Some(id)).await {
                    Ok(access) => Some(actor_in(
                        &self.user,
                        id.as_str(),
                        &access.ledger.key,
                        access.ledger.personal,
                    )),
                    Err(ApiError::NotFound) => None,
                    Err(other) => return Err(other),
                },
            };
            let _ = self.standing.set(standing);
        }
        match self.standing.get() {
            Some(Some(actor)) => Ok(actor),
            Some(None) => Err(ApiError::NotFound),
            None => Err(ApiError::Internal("standing unset".into())),
        }
    }

    /// The ledger whose membership is still to be resolved, if any.
    fn unresolved(&self) -> Option<&Id> {
        self.pending
            .as_ref()
            .filter(|_| self.standing.get().is_none())
    }

    /// Resolves the caller's standing in the ledger `id` in the cache
    /// lookup of the entry `name`: one MGET in the namespace of `id`, which
    /// is where a shared ledger's entries are (its key is its id). Answers
    /// the entry's lookup, or `None` when Redis failed.
    async fn resolve_with(
        &self,
        app: &App,
        cache: &crate::cache::Cache,
        id: &Id,
        name: &str,
    ) -> Result<Option<Lookup>, ApiError> {
        let user = self.user.as_str();
        let Some((entry, member)) = cache.lookup_with_member(id.as_str(), user, name).await else {
            self.actor(app).await?;
            return Ok(None);
        };
        let actor = match member
            .hit
            .as_deref()
            .and_then(|hit| standing_of(hit, &self.user, id))
        {
            Some(actor) => {
                let _ = self.standing.set(Some(actor));
                self.actor(app).await?
            }
            None => {
                let actor = self.actor(app).await?;
                cache
                    .put_member(&member.generation, user, &standing_entry(actor))
                    .await;
                actor
            }
        };
        if actor.key == id.as_str() {
            Ok(Some(entry))
        } else {
            // A personal ledger through its id: its entries are under its
            // owner's `sub`, a second round trip.
            Ok(cache.lookup(&actor.key, name).await)
        }
    }

    /// `rest` (e.g. `/expenses/{id}`) in the path shape of the request.
    pub fn link(&self, rest: &str) -> String {
        format!("{}{rest}", self.base)
    }
}

/// A cached membership: that the caller is a member (only members are
/// cached; any member may read) and where the ledger's rows are filed.
fn standing_entry(actor: &Actor) -> String {
    match &actor.shared_ledger {
        Some(_) => "shared".to_owned(),
        None => format!("personal:{}", actor.key),
    }
}

fn standing_of(entry: &str, user: &UserId, id: &Id) -> Option<Actor> {
    match entry.split_once(':') {
        None if entry == "shared" => Some(actor_in(user, id.as_str(), id.as_str(), false)),
        Some(("personal", key)) => Some(actor_in(user, id.as_str(), key, true)),
        _ => None,
    }
}

/// `user` acting in the ledger `id` whose rows are filed under `key`.
fn actor_in(user: &UserId, id: &str, key: &str, personal: bool) -> Actor {
    Actor {
        user: user.clone(),
        key: key.to_owned(),
        shared_ledger: (!personal).then(|| id.to_owned()),
    }
}

pub async fn authenticated(
    app: &App,
    operation: Operation,
    user: &UserId,
    ledger: Option<String>,
    params: Vec<String>,
    request: Request<Bytes>,
) -> HandlerResult {
    // Under /v1/ledgers/{ledger_id}, the caller's membership and role are
    // resolved once, before the request itself is checked: 404, then 403,
    // then the request. A change resolves them here, from the database; a
    // read of the ledger's data may learn them from the cache, in the
    // lookup that fetches its body, and is held to them below.
    let reads = operation.route().method == http::Method::GET;
    let on_data = operation.route().ledger_path.is_some();
    let access = match &ledger {
        Some(raw) if !(on_data && reads) => {
            Some(ledgers::access(app, user, Id::parse(raw).as_ref()).await?)
        }
        _ => None,
    };
    let access = access.as_ref();
    let here = match (on_data, &ledger, access) {
        (false, _, _) => None,
        (true, None, _) => Some(InLedger::personal(user)),
        (true, Some(raw), None) => Some(InLedger::reading(user, raw)),
        (true, Some(_), Some(access)) => {
            // Any member reads; writing takes an editor.
            access.require(Role::Editor)?;
            Some(InLedger::of(user, access))
        }
    };
    let in_ledger = || {
        here.as_ref()
            .ok_or_else(|| ApiError::Internal(format!("{operation:?} is not on a ledger's data")))
    };
    let ledger =
        || access.ok_or_else(|| ApiError::Internal(format!("{operation:?} has no ledger")));
    // The path's (other) id, parsed here once; `None` (on a route with an
    // id) is a path naming no id this server could have made: 404, which
    // each handler answers once the request itself has been checked.
    let parsed = params.first().and_then(|raw| Id::parse(raw));
    let id = parsed.as_ref();
    let first = params.first().map(String::as_str);
    let answer = match operation {
        Operation::CreateExpense => {
            let here = in_ledger()?;
            idempotency::run(app, here.actor(app).await?, request, |request, claim| {
                expenses::create(app, here, request, claim)
            })
            .await
        }
        Operation::ImportExpenses => {
            let here = in_ledger()?;
            idempotency::run(app, here.actor(app).await?, request, |request, claim| {
                csv::import(app, here, request, claim)
            })
            .await
        }
        Operation::ListExpenses => expenses::list(app, in_ledger()?, request).await,
        Operation::GetExpense => expenses::get(app, in_ledger()?, id).await,
        Operation::UpdateExpense => expenses::update(app, in_ledger()?, id, request).await,
        Operation::DeleteExpense => expenses::delete(app, in_ledger()?, id, request).await,
        Operation::ExportExpenses => csv::export(app, in_ledger()?, request).await,
        Operation::CreateCategory => {
            let here = in_ledger()?;
            idempotency::run(app, here.actor(app).await?, request, |request, claim| {
                categories::create(app, here, request, claim)
            })
            .await
        }
        Operation::ListCategories => categories::list(app, in_ledger()?).await,
        Operation::GetCategory => categories::get(app, in_ledger()?, id).await,
        Operation::UpdateCategory => categories::update(app, in_ledger()?, id, request).await,
        Operation::DeleteCategory => categories::delete(app, in_ledger()?, id).await,
        Operation::PutBudget => budgets::put(app, in_ledger()?, id, request).await,
        Operation::DeleteBudget => budgets::delete(app, in_ledger()?, id).await,
        Operation::ListBudgets => budgets::list(app, in_ledger()?, request).await,
        Operation::SummaryReport => reports::summary(app, in_ledger()?, request).await,
        Operation::CreateLedger => {
            idempotency::run(app, &Actor::personal(user), request, |request, claim| {
                ledgers::create(app, user, request, claim)
            })
            .await
        }
        Operation::ListLedgers => ledgers::list(app, user).await,
        Operation::GetLedger => ledgers::get(user, ledger()?),
        Operation::UpdateLedger => ledgers::update(app, user, ledger()?, request).await,
        Operation::DeleteLedger => ledgers::delete(app, user, ledger()?).await,
        Operation::ListMembers => ledgers::members(app, ledger()?).await,
        Operation::UpdateMember => {
            ledgers::update_member(app, user, ledger()?, &member(first)?, request).await
        }
        Operation::RemoveMember => {
            ledgers::remove_member(app, user, ledger()?, &member(first)?).await
        }
        Operation::CreateInvitation => {
            let access = ledger()?;
            // The role before the request (and its key) is looked at.
            access.require(Role::Owner)?;
            let owner = actor_in(
                user,
                &access.ledger.id,
                &access.ledger.key,
                access.ledger.personal,
            );
            idempotency::run(app, &owner, request, |request, claim| {
                ledgers::create_invitation(app, user, access, request, claim)
            })
            .await
        }
        Operation::ListInvitations => ledgers::invitations(app, ledger()?).await,
        Operation::RevokeInvitation => ledgers::revoke_invitation(app, user, ledger()?, id).await,
        Operation::AcceptInvitation => ledgers::accept(app, user, request).await,
        Operation::Health | Operation::OpenApi => public(app, operation).await,
    };
    // A read in a ledger may have answered before it needed the caller's
    // membership (its own 400 or 404): the ledger's 404 comes first.
    if let Some(here) = &here {
        here.actor(app).await?;
    }
    answer
}

/// A member's user id from the path: percent-decoded (a `sub` may hold
/// any character), 404 when it is no text a token could carry.
fn member(segment: Option<&str>) -> Result<String, ApiError> {
    segment
        .and_then(|raw| percent_encoding::percent_decode_str(raw).decode_utf8().ok())
        .and_then(|text| UserId::parse(&text))
        .map(|user| user.as_str().to_owned())
        .ok_or(ApiError::NotFound)
}

/// The resource a path names, or 404 (see `authenticated`).
pub fn existing(id: Option<&Id>) -> Result<&Id, ApiError> {
    id.ok_or(ApiError::NotFound)
}

/// A JSON response from an already serialised body.
pub fn json_bytes(status: StatusCode, body: Bytes) -> Response<Bytes> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

pub fn to_json_bytes<T: Serialize>(value: &T) -> Result<Bytes, ApiError> {
    serde_json::to_vec(value)
        .map(Bytes::from)
        .map_err(|e| ApiError::Internal(e.to_string()))
}

pub fn json<T: Serialize>(status: StatusCode, value: &T) -> HandlerResult {
    Ok(json_bytes(status, to_json_bytes(value)?))
}

pub fn empty(status: StatusCode) -> Response<Bytes> {
    let mut response = Response::new(Bytes::new());
    *response.status_mut() = status;
    response
}

/// Adds `Location` to a response (ids are ASCII, so this cannot fail).
pub fn with_location(mut response: Response<Bytes>, location: &str) -> Response<Bytes> {
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// Cache-aside for a read: the body cached under the ledger's current
/// generation, or `compute`d from the database and cached. Without a
/// cache, or when Redis fails, it simply computes.
pub async fn cached<F, Fut>(
    app: &App,
    here: &InLedger,
    key: &str,
    compute: F,
) -> Result<Bytes, ApiError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Bytes, ApiError>>,
{
    let Some(cache) = &app.cache else {
        here.actor(app).await?;
        return compute().await;
    };
    let lookup = match here.unresolved() {
        Some(ledger_id) => here.resolve_with(app, cache, ledger_id, key).await?,
        None => cache.lookup(&here.actor(app).await?.key, key).await,
    };
    let Some(Lookup { generation, hit }) = lookup else {
        return compute().await;
    };
    if let Some(hit) = hit {
        return Ok(Bytes::from(hit));
    }
    cache
        .compute_once(&generation, key, || async {
            let body = compute().await?;
            if let Ok(text) = std::str::from_utf8(&body) {
                cache.put(&generation, key, text).await;
            }
            Ok(body)
        })
        .await
}

/// Every write ends here, before it answers: the ledger's cached entries
/// stop being read, by every member.
pub async fn invalidate(app: &App, here: &InLedger) {
    if let Some(cache) = &app.cache {
        if let Ok(actor) = here.actor(app).await {
            cache.invalidate(&actor.key).await;
        }
    }
}

/// A JSON object body of a JSON route: 415, 400 or 422 otherwise.
pub fn json_body(
    request: &Request<Bytes>,
    accepted: &[&str],
) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
    crate::http::request::require_content_type(request.headers(), accepted)?;
    crate::http::request::json_object(request)
}

pub const JSON: &str = "application/json";
pub const MERGE_PATCH: &str = "application/merge-patch+json";
