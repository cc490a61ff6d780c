//! Categories: per-user names, unique ignoring case, with an optional colour.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::fields::{CategoryName, Colour};
use super::text::fold;
use super::{format_timestamp, FieldError};

/// A stored category.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Category {
    pub id: String,
    pub name: String,
    pub color: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A category.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Category)]
pub struct CategoryView {
    pub id: String,
    pub name: String,
    #[schema(required = true, pattern = "^#[0-9a-f]{6}$")]
    pub color: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// Every category, by lower-cased name.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryList {
    pub items: Vec<CategoryView>,
}

// The bodies as the document describes them; `parse_fields` reads them
// (a test holds these fields to WRITABLE_FIELDS). Serialize only for
// `deny_unknown_fields` (`additionalProperties: false`).

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCategory {
    #[schema(schema_with = crate::openapi::schemas::category_name)]
    pub name: String,
    #[schema(schema_with = crate::openapi::schemas::color_input)]
    pub color: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryPatch {
    #[schema(schema_with = crate::openapi::schemas::category_name, required = false)]
    pub name: String,
    #[schema(schema_with = crate::openapi::schemas::color_input)]
    pub color: Option<String>,
}

impl Category {
    pub fn view(&self) -> CategoryView {
        CategoryView {
            id: self.id.clone(),
            name: self.name.clone(),
            color: self.color.clone(),
            created_at: format_timestamp(self.created_at),
            updated_at: format_timestamp(self.updated_at),
        }
    }

    /// What uniqueness and sorting compare: the Unicode lower-case name.
    pub fn folded_name(&self) -> String {
        fold(&self.name)
    }
}

/// Fields a client may send.
pub const WRITABLE_FIELDS: [&str; 2] = ["name", "color"];
const READ_ONLY_FIELDS: [&str; 3] = ["id", "created_at", "updated_at"];

/// Validates a create body (`current` = None) or a merge patch applied to
/// `current`: the resulting name and colour, or every bad field.
pub fn parse_fields(
    body: &serde_json::Map<String, serde_json::Value>,
    current: Option<&Category>,
) -> Result<(String, Option<String>), Vec<FieldError>> {
    use serde_json::Value;
    let mut errors = super::expense::unknown_fields(body, &WRITABLE_FIELDS, &READ_ONLY_FIELDS);
    let name = match body.get("name") {
        None => match current {
            Some(c) => Some(c.name.clone()),
            None => {
                errors.push(FieldError::new("name", "is required"));
                None
            }
        },
        Some(Value::String(raw)) => CategoryName::parse(raw)
            .map(CategoryName::into_string)
            .map_err(|m| errors.push(FieldError::new("name", m)))
            .ok(),
        Some(_) => {
            errors.push(FieldError::new("name", "must be a string"));
            None
        }
    };
    let color = match body.get("color") {
        None => current.and_then(|c| c.color.clone()),
        Some(Value::Null) => None,
        Some(Value::String(raw)) => Colour::parse(raw)
            .map(Colour::into_string)
            .map_err(|m| errors.push(FieldError::new("color", m)))
            .ok(),
        Some(_) => {
            errors.push(FieldError::new(
                "color",
                format!("{} or null", Colour::MESSAGE),
            ));
            None
        }
    };
    match name {
        Some(name) if errors.is_empty() => Ok((name, color)),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies() {
        let body = |v: serde_json::Value| v.as_object().unwrap().clone();
        assert_eq!(
            parse_fields(
                &body(serde_json::json!({"name": " Food ", "color": "#ABCDEF"})),
                None
            )
            .unwrap(),
            ("Food".to_owned(), Some("#abcdef".to_owned()))
        );
        let errors = parse_fields(
            &body(serde_json::json!({"name": null, "id": "x", "x": 1, "color": 3})),
            None,
        )
        .unwrap_err();
        let mut fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        fields.sort();
        assert_eq!(fields, vec!["color", "id", "name", "x"]);
        let current = Category {
            id: "i".into(),
            name: "Food".into(),
            color: Some("#000000".into()),
            created_at: 0,
            updated_at: 0,
        };
        assert_eq!(
            parse_fields(&body(serde_json::json!({"color": null})), Some(&current)).unwrap(),
            ("Food".to_owned(), None)
        );
    }
}
