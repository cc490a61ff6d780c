//! Ledgers, their members and invitations. The caller's membership and
//! role were resolved before these run ([`Access`]); every change checks
//! them again inside its own transaction, which is what decides.

use bytes::Bytes;
use http::{Request, StatusCode};
use serde::Serialize;
use utoipa::ToSchema;

use super::idempotency::Claim;
use super::{empty, json, json_body, with_location, HandlerResult, JSON, MERGE_PATCH};
use crate::app::App;
use crate::domain::ledger::{
    code_hash, new_invitation_code, parse_accept, parse_ledger, parse_role, CreatedInvitation,
    Invitation, InvitationView, Ledger, LedgerList, MemberView, Role, INVITATION_LIFETIME,
};
use crate::domain::{format_timestamp, new_id, now_micros, Id, UserId};
use crate::http::problem::ApiError;
use crate::store::ledgers::{Accepted, Checked};

/// A live ledger the caller is a member of, and their role in it.
pub struct Access {
    pub ledger: Ledger,
    pub role: Role,
}

impl Access {
    /// 403 unless the caller's role allows what `needed` may do.
    pub fn require(&self, needed: Role) -> Result<(), ApiError> {
        if self.role.allows(needed) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

/// The caller's access to the ledger a path names: 404 for a malformed
/// id, a missing or deleted ledger and a ledger they are no member of
/// alike.
pub async fn access(app: &App, user: &UserId, ledger_id: Option<&Id>) -> Result<Access, ApiError> {
    let Some(id) = ledger_id else {
        return Err(ApiError::NotFound);
    };
    match app.store.membership(user, id.as_str()).await? {
        Some((ledger, role)) => Ok(Access { ledger, role }),
        None => Err(ApiError::NotFound),
    }
}

/// After a change of the ledger's members (or its deletion), before it
/// answers: no membership cached before it is read again, so a removed
/// member's next read is a 404 (unless Redis fails here: then within the
/// cache's TTL, as API.md allows).
async fn members_changed(app: &App, access: &Access) {
    if let Some(cache) = &app.cache {
        cache.invalidate_members(&access.ledger.id).await;
    }
}

/// What a checked change came to, as the client hears it.
fn checked<T>(outcome: Checked<T>) -> Result<T, ApiError> {
    match outcome {
        Checked::Done(value) => Ok(value),
        Checked::NotMember | Checked::Missing => Err(ApiError::NotFound),
        Checked::Forbidden => Err(ApiError::Forbidden),
        Checked::Refused(why) => Err(ApiError::Conflict(why.into())),
    }
}

fn ledger_location(ledger: &Ledger) -> String {
    format!("/v1/ledgers/{}", ledger.id)
}

pub async fn create(
    app: &App,
    user: &UserId,
    request: Request<Bytes>,
    claim: Option<Claim>,
) -> HandlerResult {
    let body = json_body(&request, &[JSON])?;
    let (name, home_currency) = parse_ledger(&body, None).map_err(ApiError::Invalid)?;
    let now = now_micros();
    let id = new_id();
    let ledger = Ledger {
        key: id.clone(),
        id,
        name,
        home_currency,
        personal: false,
        created_at: now,
        updated_at: now,
    };
    let response = with_location(
        json(
            StatusCode::CREATED,
            &ledger.view(user.as_str(), Role::Owner),
        )?,
        &ledger_location(&ledger),
    );
    // Stored with the ledger: exactly once, even across a crash.
    let completion = claim.as_ref().map(|c| c.completion(&response));
    app.store
        .create_ledger(user, &ledger, completion.as_ref())
        .await?;
    Ok(Claim::mark_completed(response, claim.is_some()))
}

pub async fn list(app: &App, user: &UserId) -> HandlerResult {
    // Every user has a personal ledger, made on first use.
    app.store.personal_ledger(user, now_micros()).await?;
    let ledgers = app.store.ledgers_of(user).await?;
    json(
        StatusCode::OK,
        &LedgerList {
            items: ledgers
                .iter()
                .map(|(ledger, role)| ledger.view(user.as_str(), *role))
                .collect(),
        },
    )
}

pub fn get(user: &UserId, access: &Access) -> HandlerResult {
    json(
        StatusCode::OK,
        &access.ledger.view(user.as_str(), access.role),
    )
}

pub async fn update(
    app: &App,
    user: &UserId,
    access: &Access,
    request: Request<Bytes>,
) -> HandlerResult {
    access.require(Role::Owner)?;
    let body = json_body(&request, &[JSON, MERGE_PATCH])?;
    let (name, home_currency) =
        parse_ledger(&body, Some(&access.ledger)).map_err(ApiError::Invalid)?;
    let ledger = checked(
        app.store
            .update_ledger(user, &access.ledger.id, &name, home_currency, now_micros())
            .await?,
    )?;
    json(StatusCode::OK, &ledger.view(user.as_str(), Role::Owner))
}

pub async fn delete(app: &App, user: &UserId, access: &Access) -> HandlerResult {
    access.require(Role::Owner)?;
    checked(
        app.store
            .delete_ledger(user, &access.ledger.id, now_micros())
            .await?,
    )?;
    members_changed(app, access).await;
    Ok(empty(StatusCode::NO_CONTENT))
}

/// Every member of a ledger, by when they joined.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberList {
    pub items: Vec<MemberView>,
}

pub async fn members(app: &App, access: &Access) -> HandlerResult {
    let members = app.store.members(&access.ledger.id).await?;
    json(
        StatusCode::OK,
        &MemberList {
            items: members.iter().map(|m| m.view()).collect(),
        },
    )
}

pub async fn update_member(
    app: &App,
    user: &UserId,
    access: &Access,
    member: &str,
    request: Request<Bytes>,
) -> HandlerResult {
    access.require(Role::Owner)?;
    let body = json_body(&request, &[JSON, MERGE_PATCH])?;
    let role = parse_role(&body, &Role::ALL).map_err(ApiError::Invalid)?;
    let member = checked(
        app.store
            .set_role(user, &access.ledger.id, member, role)
            .await?,
    )?;
    members_changed(app, access).await;
    json(StatusCode::OK, &member.view())
}

pub async fn remove_member(
    app: &App,
    user: &UserId,
    access: &Access,
    member: &str,
) -> HandlerResult {
    // Anyone may leave; removing someone else is an owner's.
    if member != user.as_str() {
        access.require(Role::Owner)?;
    }
    checked(
        app.store
            .remove_member(user, &access.ledger.id, member)
            .await?,
    )?;
    members_changed(app, access).await;
    Ok(empty(StatusCode::NO_CONTENT))
}

/// A ledger's unused invitations.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationList {
    pub items: Vec<InvitationView>,
}

pub async fn create_invitation(
    app: &App,
    user: &UserId,
    access: &Access,
    request: Request<Bytes>,
    claim: Option<Claim>,
) -> HandlerResult {
    access.require(Role::Owner)?;
    let body = json_body(&request, &[JSON])?;
    let role = parse_role(&body, &[Role::Editor, Role::Viewer]).map_err(ApiError::Invalid)?;
    let now = now_micros();
    let invitation = Invitation {
        id: new_id(),
        ledger_id: access.ledger.id.clone(),
        role,
        created_at: now,
        expires_at: now + INVITATION_LIFETIME,
    };
    let code = new_invitation_code();
    let hash = code_hash(&code);
    let response = json(
        StatusCode::CREATED,
        &CreatedInvitation {
            id: invitation.id.clone(),
            code,
            role,
            expires_at: format_timestamp(invitation.expires_at),
        },
    )?;
    // Stored with the invitation, so a retry replays this code (the one
    // place a code is kept unhashed: with its key's response, until the
    // key expires).
    let completion = claim.as_ref().map(|c| c.completion(&response));
    checked(
        app.store
            .create_invitation(user, &invitation, &hash, completion.as_ref())
            .await?,
    )?;
    Ok(Claim::mark_completed(response, claim.is_some()))
}

pub async fn invitations(app: &App, access: &Access) -> HandlerResult {
    access.require(Role::Owner)?;
    let invitations = app
        .store
        .invitations(&access.ledger.id, now_micros())
        .await?;
    json(
        StatusCode::OK,
        &InvitationList {
            items: invitations.iter().map(Invitation::view).collect(),
        },
    )
}

pub async fn revoke_invitation(
    app: &App,
    user: &UserId,
    access: &Access,
    invitation: Option<&Id>,
) -> HandlerResult {
    access.require(Role::Owner)?;
    let Some(invitation) = invitation else {
        return Err(ApiError::NotFound);
    };
    checked(
        app.store
            .revoke_invitation(user, &access.ledger.id, invitation.as_str(), now_micros())
            .await?,
    )?;
    Ok(empty(StatusCode::NO_CONTENT))
}

pub async fn accept(app: &App, user: &UserId, request: Request<Bytes>) -> HandlerResult {
    let body = json_body(&request, &[JSON])?;
    let code = parse_accept(&body).map_err(ApiError::Invalid)?;
    match app
        .store
        .accept_invitation(user, &code_hash(&code), now_micros())
        .await?
    {
        Accepted::Member(ledger, role) => json(StatusCode::OK, &ledger.view(user.as_str(), role)),
        Accepted::NoSuchCode => Err(ApiError::NotFound),
        Accepted::AlreadyMember => Err(ApiError::Conflict(
            "You are already a member of this ledger; the code stays unused.".into(),
        )),
    }
}
