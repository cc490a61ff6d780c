//! Ledgers (households): what a member's role allows, the bodies that
//! make and change ledgers, members and invitations, and invitation codes.

use base64::Engine;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::expense::unknown_fields;
use super::fields::LedgerName;
use super::money::Currency;
use super::{format_timestamp, FieldError};

/// How long an invitation code can be used: 7 days, in microseconds.
pub const INVITATION_LIFETIME: i64 = 7 * 24 * 3600 * 1_000_000;

/// What a member may do. Each role can do everything the ones before it
/// can: a viewer reads, an editor also writes the ledger's data, an owner
/// also changes the ledger, its members and its invitations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Editor,
    Owner,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Editor, Role::Owner];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Owner => "owner",
        }
    }

    /// The stored form (the same word).
    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// Whether this role may do what `needed` may.
    pub fn allows(self, needed: Role) -> bool {
        self >= needed
    }
}

/// A stored ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ledger {
    pub id: String,
    /// What its rows are filed under in every other table: a personal
    /// ledger's is its owner's `sub` (so each user's data from before
    /// ledgers existed is already their personal ledger's), a shared
    /// ledger's is its id.
    pub key: String,
    pub name: String,
    pub home_currency: Option<Currency>,
    pub personal: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A ledger as one member sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Ledger)]
pub struct LedgerView {
    pub id: String,
    pub name: String,
    /// The currency its reports convert to; null for none.
    #[schema(required = true, pattern = "^[A-Z]{3}$")]
    pub home_currency: Option<&'static str>,
    /// True only in the caller's own personal ledger.
    pub personal: bool,
    // The caller's role (a doc comment here would wrap the inline enum in a
    // one-branch oneOf to carry it).
    #[schema(inline)]
    pub role: Role,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl Ledger {
    /// The ledger as `caller`, a member with `role`, sees it: `personal`
    /// is true only for the user whose personal ledger it is.
    pub fn view(&self, caller: &str, role: Role) -> LedgerView {
        LedgerView {
            id: self.id.clone(),
            name: self.name.clone(),
            home_currency: self.home_currency.map(Currency::code),
            personal: self.personal && self.key == caller,
            role,
            created_at: format_timestamp(self.created_at),
            updated_at: format_timestamp(self.updated_at),
        }
    }
}

/// The caller's ledgers.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LedgerList {
    pub items: Vec<LedgerView>,
}

/// The name a personal ledger is made with.
pub const PERSONAL_LEDGER_NAME: &str = "Personal";

/// Fields of a ledger body a client may write.
pub const WRITABLE_FIELDS: [&str; 2] = ["name", "home_currency"];
const READ_ONLY_FIELDS: [&str; 5] = ["id", "personal", "role", "created_at", "updated_at"];

// The bodies as the document describes them; the parse functions below
// read them (a test holds these fields to theirs). Serialize only for
// `deny_unknown_fields` (`additionalProperties: false`).

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLedger {
    #[schema(schema_with = crate::openapi::schemas::ledger_name)]
    pub name: String,
    #[schema(schema_with = crate::openapi::schemas::home_currency_input)]
    pub home_currency: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LedgerPatch {
    #[schema(schema_with = crate::openapi::schemas::ledger_name, required = false)]
    pub name: String,
    #[schema(schema_with = crate::openapi::schemas::home_currency_input)]
    pub home_currency: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberPatch {
    #[schema(inline)]
    pub role: Role,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInvitation {
    /// The role the invited person joins with.
    #[schema(schema_with = crate::openapi::schemas::invitable_role)]
    pub role: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationCode {
    /// The code an owner was given when inviting.
    #[schema(min_length = 1, max_length = 200)]
    pub code: String,
}

/// Validates a create body (`current` = None) or a merge patch applied to
/// `current`: the resulting name and home currency, or every bad field.
pub fn parse_ledger(
    body: &Map<String, Value>,
    current: Option<&Ledger>,
) -> Result<(String, Option<Currency>), Vec<FieldError>> {
    let mut errors = unknown_fields(body, &WRITABLE_FIELDS, &READ_ONLY_FIELDS);
    let name = match body.get("name") {
        None => match current {
            Some(ledger) => Some(ledger.name.clone()),
            None => {
                errors.push(FieldError::new("name", "is required"));
                None
            }
        },
        Some(Value::String(text)) => LedgerName::parse(text)
            .map(LedgerName::into_string)
            .map_err(|message| errors.push(FieldError::new("name", message)))
            .ok(),
        Some(_) => {
            errors.push(FieldError::new("name", "must be a string"));
            None
        }
    };
    let home_currency = match body.get("home_currency") {
        None => current.and_then(|ledger| ledger.home_currency),
        Some(Value::Null) => None,
        Some(value) => Currency::parse_field(value.as_str().unwrap_or_default())
            .map_err(|message| errors.push(FieldError::new("home_currency", message)))
            .ok(),
    };
    match name {
        Some(name) if errors.is_empty() => Ok((name, home_currency)),
        _ => Err(errors),
    }
}

/// The role a body names (`{"role": …}`), one of `allowed`.
pub fn parse_role(body: &Map<String, Value>, allowed: &[Role]) -> Result<Role, Vec<FieldError>> {
    let mut errors = unknown_fields(body, &["role"], &[]);
    let words: Vec<&str> = allowed.iter().map(|r| r.as_str()).collect();
    let role = match body.get("role") {
        None => {
            errors.push(FieldError::new("role", "is required"));
            None
        }
        Some(value) => {
            let role = value
                .as_str()
                .and_then(Role::parse)
                .filter(|r| allowed.contains(r));
            if role.is_none() {
                errors.push(FieldError::new(
                    "role",
                    format!("must be one of {}", words.join(", ")),
                ));
            }
            role
        }
    };
    match role {
        Some(role) if errors.is_empty() => Ok(role),
        _ => Err(errors),
    }
}

/// A member of a ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub user_id: String,
    pub role: Role,
    pub joined_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberView {
    pub user_id: String,
    #[schema(inline)]
    pub role: Role,
    #[schema(format = DateTime)]
    pub joined_at: String,
}

impl Member {
    pub fn view(&self) -> MemberView {
        MemberView {
            user_id: self.user_id.clone(),
            role: self.role,
            joined_at: format_timestamp(self.joined_at),
        }
    }
}

/// A stored invitation (its code is kept only as a hash).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invitation {
    pub id: String,
    pub ledger_id: String,
    pub role: Role,
    pub created_at: i64,
    pub expires_at: i64,
}

/// An unused invitation, as its ledger's owners list it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationView {
    pub id: String,
    #[schema(schema_with = crate::openapi::schemas::invitable_role)]
    pub role: Role,
    #[schema(format = DateTime)]
    pub expires_at: String,
}

impl Invitation {
    pub fn view(&self) -> InvitationView {
        InvitationView {
            id: self.id.clone(),
            role: self.role,
            expires_at: format_timestamp(self.expires_at),
        }
    }
}

/// A new invitation with its code, which no later answer shows again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatedInvitation {
    pub id: String,
    /// The code to give the invited person; shown only here.
    pub code: String,
    #[schema(schema_with = crate::openapi::schemas::invitable_role)]
    pub role: Role,
    #[schema(format = DateTime)]
    pub expires_at: String,
}

/// An invitation code: 256 random bits, URL-safe base64 (43 characters).
/// Only its [`code_hash`] is stored.
pub fn new_invitation_code() -> String {
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What the store keeps of a code, and looks it up by: SHA-256, in hex.
/// (The code is random and long, so no salt or slow hash is needed.)
pub fn code_hash(code: &str) -> String {
    super::sha256_hex(&[code.as_bytes()])
}

/// Longest code looked up: anything longer is no code this server made.
const MAX_CODE_LEN: usize = 200;

/// The code of `POST /v1/invitations/accept` (`{"code"}`).
pub fn parse_accept(body: &Map<String, Value>) -> Result<String, Vec<FieldError>> {
    let mut errors = unknown_fields(body, &["code"], &[]);
    let code = match body.get("code") {
        None => {
            errors.push(FieldError::new("code", "is required"));
            None
        }
        Some(Value::String(code)) if !code.is_empty() && code.len() <= MAX_CODE_LEN => {
            Some(code.clone())
        }
        Some(_) => {
            errors.push(FieldError::new(
                "code",
                format!("must be a string of 1 to {MAX_CODE_LEN} characters"),
            ));
            None
        }
    };
    match code {
        Some(code) if errors.is_empty() => Ok(code),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn roles_are_ordered_by_what_they_allow() {
        assert!(Role::Owner.allows(Role::Editor) && Role::Editor.allows(Role::Viewer));
        assert!(!Role::Viewer.allows(Role::Editor) && !Role::Editor.allows(Role::Owner));
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            assert_eq!(serde_json::to_value(role).unwrap(), json!(role.as_str()));
        }
        assert_eq!(Role::parse("Owner"), None);
    }

    #[test]
    fn ledger_bodies() {
        let (name, currency) = parse_ledger(
            &body(json!({"name": " Flat 3 ", "home_currency": "EUR"})),
            None,
        )
        .unwrap();
        assert_eq!(
            (name.as_str(), currency.map(Currency::code)),
            ("Flat 3", Some("EUR"))
        );
        let errors = parse_ledger(
            &body(json!({"home_currency": "XAU", "id": "x", "x": 1})),
            None,
        )
        .unwrap_err();
        let mut fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        fields.sort();
        assert_eq!(fields, vec!["home_currency", "id", "name", "x"]);
        let current = Ledger {
            id: "l".into(),
            key: "l".into(),
            name: "Home".into(),
            home_currency: Currency::parse("EUR"),
            personal: false,
            created_at: 0,
            updated_at: 0,
        };
        assert_eq!(
            parse_ledger(&body(json!({"home_currency": null})), Some(&current)).unwrap(),
            ("Home".to_owned(), None)
        );
        assert!(parse_ledger(&body(json!({"name": " "})), Some(&current)).is_err());
        assert!(parse_ledger(&body(json!({"name": "x".repeat(101)})), None).is_err());
    }

    #[test]
    fn role_bodies_take_only_the_allowed_roles() {
        let invitable = [Role::Editor, Role::Viewer];
        assert_eq!(
            parse_role(&body(json!({"role": "viewer"})), &invitable),
            Ok(Role::Viewer)
        );
        for bad in [
            json!({"role": "owner"}),
            json!({"role": 1}),
            json!({}),
            json!({"role": "editor", "x": 1}),
        ] {
            assert!(parse_role(&body(bad.clone()), &invitable).is_err(), "{bad}");
        }
        assert_eq!(
            parse_role(&body(json!({"role": "owner"})), &Role::ALL),
            Ok(Role::Owner)
        );
    }

    #[test]
    fn codes_are_long_random_and_stored_hashed() {
        let (a, b) = (new_invitation_code(), new_invitation_code());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        assert_eq!(code_hash(&a).len(), 64);
        assert_ne!(code_hash(&a), code_hash(&b));
        assert_eq!(parse_accept(&body(json!({"code": a.clone()}))), Ok(a));
        for bad in [
            json!({}),
            json!({"code": ""}),
            json!({"code": 5}),
            json!({"code": "x".repeat(201)}),
        ] {
            assert!(parse_accept(&body(bad.clone())).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_its_user_sees_a_personal_ledger_as_personal() {
        let ledger = Ledger {
            id: "l".into(),
            key: "alice".into(),
            name: PERSONAL_LEDGER_NAME.into(),
            home_currency: None,
            personal: true,
            created_at: 0,
            updated_at: 0,
        };
        assert!(ledger.view("alice", Role::Owner).personal);
        assert!(!ledger.view("bob", Role::Owner).personal);
    }
}
