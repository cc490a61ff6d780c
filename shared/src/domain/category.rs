//! Categories: per-user names, unique ignoring case, with an optional colour.

use serde::{Deserialize, Serialize};

use super::format_timestamp;
use super::text::{clean, fold};

pub const MAX_NAME: usize = 100;

/// A stored category.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Category {
    pub id: String,
    pub name: String,
    pub color: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The JSON form of a category.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryView {
    pub id: String,
    pub name: String,
    pub color: Option<String>,
    pub created_at: String,
    pub updated_at: String,
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

/// A category name: trimmed, 1–100 code points, no U+0000.
pub fn validate_name(raw: &str) -> Result<String, String> {
    let name = clean(raw);
    let length = name.chars().count();
    if length == 0 || length > MAX_NAME {
        Err(format!("must be 1 to {MAX_NAME} characters after trimming"))
    } else if name.contains('\0') {
        Err("must not contain U+0000".into())
    } else {
        Ok(name.to_owned())
    }
}

/// A colour `#rrggbb` (hex digits in either case, stored in lower case).
pub fn validate_color(raw: &str) -> Result<String, String> {
    let ok =
        raw.len() == 7 && raw.starts_with('#') && raw[1..].bytes().all(|b| b.is_ascii_hexdigit());
    if ok {
        Ok(raw.to_ascii_lowercase())
    } else {
        Err("must be a colour #rrggbb".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_colours() {
        assert_eq!(validate_name("  Food ").unwrap(), "Food");
        assert!(validate_name("   ").is_err());
        assert!(validate_name(&"x".repeat(101)).is_err());
        assert!(validate_name(&"é".repeat(100)).is_ok());
        assert_eq!(validate_color("#A0b1C2").unwrap(), "#a0b1c2");
        for bad in ["a0b1c2", "#a0b1c", "#a0b1c2f", "#g0b1c2", ""] {
            assert!(validate_color(bad).is_err(), "{bad}");
        }
    }
}
