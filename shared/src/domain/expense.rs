//! Expenses: the stored shape, the JSON view, and validation of create and
//! merge-patch bodies, reporting every bad field at once.

use serde::Serialize;
use serde_json::{Map, Value};
use time::Date;
use utoipa::ToSchema;

use super::fields::{Description, Merchant, Tag, Tags};
use super::money::{amount_field, Currency, Money, AMOUNT_NOT_A_STRING};
use super::text::{self, format_date};
use super::{format_timestamp, FieldError};

/// Longest `category_id` accepted before looking it up.
pub const MAX_ID_LEN: usize = 64;
/// The message for a `category_id` that is not one of the caller's.
pub const UNKNOWN_CATEGORY: &str = "is not one of your categories";

/// Fields a client may write.
pub const WRITABLE_FIELDS: [&str; 7] = [
    "amount",
    "currency",
    "date",
    "category_id",
    "merchant",
    "description",
    "tags",
];
/// Fields the server owns: sending them is 422.
pub const READ_ONLY_FIELDS: [&str; 6] = [
    "id",
    "version",
    "created_at",
    "updated_at",
    "created_by",
    "updated_by",
];

/// What a client decides about an expense.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpenseFields {
    pub money: Money,
    pub date: Date,
    pub category_id: Option<String>,
    pub merchant: Option<String>,
    pub description: Option<String>,
    pub tags: Vec<String>,
}

/// A stored expense.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expense {
    pub id: String,
    pub fields: ExpenseFields,
    pub version: i64,
    /// Microseconds since the Unix epoch.
    pub created_at: i64,
    pub updated_at: i64,
    /// The users (`sub`s) who wrote it first and last.
    pub created_by: String,
    pub updated_by: String,
}

/// An expense.
#[derive(Debug, Serialize, serde::Deserialize, Clone, PartialEq, Eq, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Expense)]
pub struct ExpenseView {
    pub id: String,
    #[schema(schema_with = crate::openapi::schemas::printed_amount)]
    pub amount: String,
    #[schema(schema_with = crate::openapi::schemas::printed_currency)]
    pub currency: String,
    #[schema(schema_with = crate::openapi::schemas::date)]
    pub date: String,
    #[schema(required = true)]
    pub category_id: Option<String>,
    #[schema(required = true)]
    pub merchant: Option<String>,
    #[schema(required = true)]
    pub description: Option<String>,
    pub tags: Vec<String>,
    #[schema(minimum = 1)]
    pub version: i64,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// The user id of the member who created it.
    pub created_by: String,
    /// The user id of the member who changed it last.
    pub updated_by: String,
}

/// One page of expenses.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpensePage<'a> {
    pub items: Vec<ExpenseView>,
    #[schema(required = true)]
    pub next_cursor: Option<&'a str>,
}

// The bodies as the document describes them. `parse_new` and
// `apply_patch` are what read them (a test holds these fields to
// WRITABLE_FIELDS); Serialize is derived only for `deny_unknown_fields`,
// which the document shows as `additionalProperties: false`.

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewExpense {
    #[schema(value_type = crate::openapi::schemas::Amount)]
    pub amount: String,
    #[schema(value_type = Currency)]
    pub currency: String,
    #[schema(schema_with = crate::openapi::schemas::date)]
    pub date: String,
    #[schema(schema_with = crate::openapi::schemas::category_id_input)]
    pub category_id: Option<String>,
    #[schema(schema_with = crate::openapi::schemas::merchant)]
    pub merchant: Option<String>,
    #[schema(schema_with = crate::openapi::schemas::description)]
    pub description: Option<String>,
    #[schema(schema_with = crate::openapi::schemas::tags)]
    pub tags: Option<Vec<String>>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(
    description = "A JSON merge patch: members present replace, null clears an optional one. The resulting amount must fit the resulting currency's minor unit (else 422): an amount or currency sent alone is checked against the stored one."
)]
pub struct ExpensePatch {
    #[schema(value_type = crate::openapi::schemas::Amount, required = false)]
    pub amount: String,
    #[schema(value_type = Currency, required = false)]
    pub currency: String,
    #[schema(schema_with = crate::openapi::schemas::date, required = false)]
    pub date: String,
    #[schema(schema_with = crate::openapi::schemas::category_id_input)]
    pub category_id: Option<String>,
    #[schema(schema_with = crate::openapi::schemas::merchant)]
    pub merchant: Option<String>,
    #[schema(schema_with = crate::openapi::schemas::description)]
    pub description: Option<String>,
    #[schema(schema_with = crate::openapi::schemas::tags)]
    pub tags: Option<Vec<String>>,
}

impl Expense {
    pub fn view(&self) -> ExpenseView {
        let f = &self.fields;
        ExpenseView {
            id: self.id.clone(),
            amount: f.money.amount_string(),
            currency: f.money.currency().code().to_owned(),
            date: format_date(f.date),
            category_id: f.category_id.clone(),
            merchant: f.merchant.clone(),
            description: f.description.clone(),
            tags: f.tags.clone(),
            version: self.version,
            created_at: format_timestamp(self.created_at),
            updated_at: format_timestamp(self.updated_at),
            created_by: self.created_by.clone(),
            updated_by: self.updated_by.clone(),
        }
    }

    /// The entity tag of this version, e.g. `"3"`.
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }
}

/// Validates the body of `POST /v1/expenses`.
pub fn parse_new(body: &Map<String, Value>) -> Result<ExpenseFields, Vec<FieldError>> {
    parse_fields(body, None)
}

/// Applies a JSON merge patch (RFC 7396) to `current`, validating it.
pub fn apply_patch(
    current: &ExpenseFields,
    body: &Map<String, Value>,
) -> Result<ExpenseFields, Vec<FieldError>> {
    parse_fields(body, Some(current))
}

/// One error per field of `body` that is read-only or not known.
pub fn unknown_fields(
    body: &Map<String, Value>,
    writable: &[&str],
    read_only: &[&str],
) -> Vec<FieldError> {
    body.keys()
        .filter(|key| !writable.contains(&key.as_str()))
        .map(|key| {
            if read_only.contains(&key.as_str()) {
                FieldError::new(key, "is read-only")
            } else {
                FieldError::new(key, "is not a known field")
            }
        })
        .collect()
}

/// A field of a body: missing, explicitly null, or given.
enum Slot<'a> {
    Absent,
    Null,
    Given(&'a Value),
}

fn slot<'a>(body: &'a Map<String, Value>, name: &str) -> Slot<'a> {
    match body.get(name) {
        None => Slot::Absent,
        Some(Value::Null) => Slot::Null,
        Some(value) => Slot::Given(value),
    }
}

/// Shared by create (`current` = None) and patch (`current` = the stored
/// fields, which absent fields keep).
fn parse_fields(
    body: &Map<String, Value>,
    current: Option<&ExpenseFields>,
) -> Result<ExpenseFields, Vec<FieldError>> {
    let mut errors = unknown_fields(body, &WRITABLE_FIELDS, &READ_ONLY_FIELDS);

    // A required field: absent keeps the current value (patch) or is an
    // error (create); null is always an error.
    let required = |name: &str, errors: &mut Vec<FieldError>| -> Option<&Value> {
        match slot(body, name) {
            Slot::Given(value) => Some(value),
            Slot::Null => {
                errors.push(FieldError::new(name, "must not be null"));
                None
            }
            Slot::Absent => {
                if current.is_none() {
                    errors.push(FieldError::new(name, "is required"));
                }
                None
            }
        }
    };

    let currency_given = required("currency", &mut errors);
    let currency = match currency_given {
        Some(value) => match Currency::parse_field(value.as_str().unwrap_or_default()) {
            Ok(currency) => Some(currency),
            Err(message) => {
                errors.push(FieldError::new("currency", message));
                None
            }
        },
        None => current.map(|c| c.money.currency()),
    };

    let amount_given = required("amount", &mut errors);
    let money = match (amount_given, currency) {
        (Some(Value::String(text)), currency) => match amount_field(text, currency) {
            Ok(money) => money,
            Err(e) => {
                errors.push(FieldError::new("amount", e.to_string()));
                None
            }
        },
        (Some(_), _) => {
            errors.push(FieldError::new("amount", AMOUNT_NOT_A_STRING));
            None
        }
        (None, Some(currency)) => current.and_then(|c| {
            // A patch that changes only the currency keeps the number.
            match c.money.with_currency(currency) {
                Ok(money) => Some(money),
                Err(e) => {
                    errors.push(FieldError::new(
                        "currency",
                        format!("the stored amount does not fit this currency ({e}); send an amount too"),
                    ));
                    None
                }
            }
        }),
        (None, None) => None,
    };

    let date = match required("date", &mut errors) {
        Some(value) => match text::date_field(value.as_str().unwrap_or_default()) {
            Ok(date) => Some(date),
            Err(message) => {
                errors.push(FieldError::new("date", message));
                None
            }
        },
        None => current.map(|c| c.date),
    };

    let category_id = optional(
        body,
        "category_id",
        current.map(|c| &c.category_id),
        &mut errors,
        |v| match v.as_str().map(text::clean) {
            // Only the shape of a server-made id can name a category; the
            // store is never asked about anything else (a non-ASCII text
            // cannot even be compared with the ASCII id column on MySQL).
            Some(id) => super::Id::parse(id)
                .map(|id| Some(id.into_string()))
                .ok_or_else(|| UNKNOWN_CATEGORY.to_owned()),
            None => Err("must be a string or null".to_owned()),
        },
    );
    let merchant = optional(
        body,
        "merchant",
        current.map(|c| &c.merchant),
        &mut errors,
        |v| Ok(Merchant::parse(text_or_null(v)?)?.map(Merchant::into_string)),
    );
    let description = optional(
        body,
        "description",
        current.map(|c| &c.description),
        &mut errors,
        |v| Ok(Description::parse(text_or_null(v)?)?.map(Description::into_string)),
    );
    let tags = match slot(body, "tags") {
        Slot::Absent => current.map(|c| c.tags.clone()).unwrap_or_default(),
        Slot::Null => Vec::new(),
        Slot::Given(value) => parse_tags(value, &mut errors),
    };

    match (money, date) {
        (Some(money), Some(date)) if errors.is_empty() => Ok(ExpenseFields {
            money,
            date,
            category_id: category_id.flatten(),
            merchant: merchant.flatten(),
            description: description.flatten(),
            tags,
        }),
        _ => Err(errors),
    }
}

/// An optional field: absent keeps `current` (or `None`), null clears it.
/// Returns `None` when the field was invalid (and reported).
fn optional<T: Clone>(
    body: &Map<String, Value>,
    name: &str,
    current: Option<&Option<T>>,
    errors: &mut Vec<FieldError>,
    parse: impl FnOnce(&Value) -> Result<Option<T>, String>,
) -> Option<Option<T>> {
    match slot(body, name) {
        Slot::Absent => Some(current.cloned().flatten()),
        Slot::Null => Some(None),
        Slot::Given(value) => match parse(value) {
            Ok(parsed) => Some(parsed),
            Err(message) => {
                errors.push(FieldError::new(name, message));
                None
            }
        },
    }
}

/// The text of an optional field that is not null.
fn text_or_null(value: &Value) -> Result<&str, String> {
    value
        .as_str()
        .ok_or_else(|| "must be a string or null".to_owned())
}

/// Validates a tag list: trimmed, deduplicated keeping the first, limits
/// applied after deduplication.
pub fn parse_tags(value: &Value, errors: &mut Vec<FieldError>) -> Vec<String> {
    let Value::Array(items) = value else {
        errors.push(FieldError::new(
            "tags",
            "must be an array of strings or null",
        ));
        return Vec::new();
    };
    let mut valid = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let field = format!("tags[{index}]");
        let Some(raw) = item.as_str() else {
            errors.push(FieldError::new(field, "must be a string"));
            continue;
        };
        match Tag::parse(raw) {
            Ok(tag) => valid.push(tag),
            Err(message) => errors.push(FieldError::new(field, message)),
        }
    }
    match Tags::from_tags(valid) {
        Ok(tags) => tags.into_vec(),
        Err(message) => {
            errors.push(FieldError::new("tags", message));
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    fn fields_of(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn parses_a_full_create_body() {
        let fields = parse_new(&obj(json!({
            "amount": "12.3", "currency": "USD", "date": "2026-11-28",
            "merchant": "  Café  ", "description": "   ", "tags": [" team ", "x", "team"],
        })))
        .unwrap();
        assert_eq!(fields.money.amount_string(), "12.30");
        assert_eq!(fields.merchant.as_deref(), Some("Café"));
        assert_eq!(fields.description, None);
        assert_eq!(fields.tags, vec!["team", "x"]);
    }

    #[test]
    fn reports_every_bad_field() {
        let errors = parse_new(&obj(json!({
            "amount": 12.3, "currency": "usd", "date": "2026-02-30",
            "merchant": "x".repeat(201), "tags": ["a;b", "", 3], "id": "x", "colour": 1,
        })))
        .unwrap_err();
        let mut fields = fields_of(&errors);
        fields.sort();
        assert_eq!(
            fields,
            vec![
                "amount", "colour", "currency", "date", "id", "merchant", "tags[0]", "tags[1]",
                "tags[2]"
            ]
        );
    }

    #[test]
    fn requires_the_required_fields() {
        let errors = parse_new(&obj(json!({"tags": null}))).unwrap_err();
        assert_eq!(fields_of(&errors), vec!["currency", "amount", "date"]);
    }

    #[test]
    fn tag_limit_applies_after_deduplication() {
        let many: Vec<String> = (0..25).map(|i| format!("t{}", i % 20)).collect();
        let ok = parse_new(&obj(
            json!({"amount": "1", "currency": "EUR", "date": "2026-01-01", "tags": many}),
        ));
        assert_eq!(ok.unwrap().tags.len(), 20);
        let too_many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
        let err = parse_new(&obj(
            json!({"amount": "1", "currency": "EUR", "date": "2026-01-01", "tags": too_many}),
        ));
        assert_eq!(fields_of(&err.unwrap_err()), vec!["tags"]);
    }

    #[test]
    fn merge_patch_replaces_clears_and_keeps() {
        let current = parse_new(&obj(json!({
            "amount": "10", "currency": "USD", "date": "2026-01-01", "merchant": "A", "tags": ["x"],
        })))
        .unwrap();
        let patched =
            apply_patch(&current, &obj(json!({"merchant": null, "amount": "11.5"}))).unwrap();
        assert_eq!(patched.merchant, None);
        assert_eq!(patched.money.amount_string(), "11.50");
        assert_eq!(patched.tags, vec!["x"]);
        assert_eq!(patched.date, current.date);

        let errors = apply_patch(
            &current,
            &obj(json!({"amount": null, "date": null, "version": 2})),
        )
        .unwrap_err();
        assert_eq!(fields_of(&errors), vec!["version", "amount", "date"]);

        // Only the currency: the number must fit the new currency.
        assert!(apply_patch(&current, &obj(json!({"currency": "JPY"}))).is_ok());
        let yen = apply_patch(&current, &obj(json!({"currency": "JPY"}))).unwrap();
        assert_eq!(yen.money.amount_string(), "10");
        let cents = apply_patch(&current, &obj(json!({"amount": "10.5"}))).unwrap();
        let errors = apply_patch(&cents, &obj(json!({"currency": "JPY"}))).unwrap_err();
        assert_eq!(fields_of(&errors), vec!["currency"]);
    }

    #[test]
    fn a_category_id_that_is_no_server_id_is_unknown() {
        // Never sent to the store: MySQL fails comparing non-ASCII text
        // with the ASCII id column (a 500 before this check).
        for id in ["é", "f\u{7}\u{d7}H", "schemathesis", "", "   "] {
            let errors = parse_new(&obj(json!({
                "amount": "1", "currency": "EUR", "date": "2026-01-01", "category_id": id,
            })))
            .unwrap_err();
            assert_eq!(fields_of(&errors), vec!["category_id"], "{id:?}");
            assert_eq!(errors[0].message, UNKNOWN_CATEGORY);
        }
        let id = crate::domain::new_id();
        let fields = parse_new(&obj(json!({
            "amount": "1", "currency": "EUR", "date": "2026-01-01", "category_id": format!(" {id} "),
        })))
        .unwrap();
        assert_eq!(fields.category_id, Some(id));
    }

    #[test]
    fn rejects_nul_in_text() {
        let errors = parse_new(&obj(json!({
            "amount": "1", "currency": "EUR", "date": "2026-01-01", "description": "a\u{0}b",
        })))
        .unwrap_err();
        assert_eq!(fields_of(&errors), vec!["description"]);
    }
}
