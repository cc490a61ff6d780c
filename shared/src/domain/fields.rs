//! The text fields clients write, one newtype each. A value exists only
//! through its `parse`, which trims, checks and names what is wrong in the
//! field's one message; JSON bodies and CSV rows both parse through these
//! (amounts, currencies, dates, months and ids have theirs in `money`,
//! `text`, `budget` and the crate root). The stored structs keep the
//! checked text as a `String`, taken with `into_string`.

use super::text::{clean, NUL_MESSAGE};

pub const MAX_MERCHANT: usize = 200;
pub const MAX_DESCRIPTION: usize = 2000;
pub const MAX_CATEGORY_NAME: usize = 100;
pub const MAX_LEDGER_NAME: usize = 100;
pub const MAX_TAGS: usize = 20;
pub const MAX_TAG_LEN: usize = 50;

/// An optional text field: trimmed, empty → `None`, at most `max` code
/// points, no U+0000.
fn optional_text(text: &str, max: usize) -> Result<Option<String>, String> {
    let text = clean(text);
    if text.contains('\0') {
        return Err(NUL_MESSAGE.into());
    }
    if text.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    Ok((!text.is_empty()).then(|| text.to_owned()))
}

/// Trimmed text of 1 to `max` code points without U+0000.
fn required_text(text: &str, max: usize) -> Result<&str, String> {
    let text = clean(text);
    let length = text.chars().count();
    if length == 0 || length > max {
        Err(format!("must be 1 to {max} characters after trimming"))
    } else if text.contains('\0') {
        Err(NUL_MESSAGE.into())
    } else {
        Ok(text)
    }
}

/// Who was paid; `None` when the text is empty after trimming.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Merchant(String);

impl Merchant {
    pub fn parse(text: &str) -> Result<Option<Merchant>, String> {
        Ok(optional_text(text, MAX_MERCHANT)?.map(Merchant))
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// What the expense was for; `None` when the text is empty after trimming.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Description(String);

impl Description {
    pub fn parse(text: &str) -> Result<Option<Description>, String> {
        Ok(optional_text(text, MAX_DESCRIPTION)?.map(Description))
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A category's name, unique per ledger ignoring case (the store checks
/// that).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CategoryName(String);

impl CategoryName {
    pub fn parse(text: &str) -> Result<CategoryName, String> {
        Ok(CategoryName(
            required_text(text, MAX_CATEGORY_NAME)?.to_owned(),
        ))
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A ledger's name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerName(String);

impl LedgerName {
    pub fn parse(text: &str) -> Result<LedgerName, String> {
        Ok(LedgerName(required_text(text, MAX_LEDGER_NAME)?.to_owned()))
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A colour `#rrggbb`: hex digits in either case, kept in lower case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Colour(String);

impl Colour {
    pub const MESSAGE: &'static str = "must be a colour #rrggbb";

    pub fn parse(text: &str) -> Result<Colour, String> {
        let ok = text.len() == 7
            && text.starts_with('#')
            && text[1..].bytes().all(|b| b.is_ascii_hexdigit());
        if ok {
            Ok(Colour(text.to_ascii_lowercase()))
        } else {
            Err(Colour::MESSAGE.into())
        }
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// One tag: 1–50 code points after trimming, no `;`, no U+0000.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tag(String);

impl Tag {
    pub fn parse(text: &str) -> Result<Tag, String> {
        let tag = clean(text);
        let length = tag.chars().count();
        if length == 0 || length > MAX_TAG_LEN {
            Err(format!(
                "must be 1 to {MAX_TAG_LEN} characters after trimming"
            ))
        } else if tag.contains(';') {
            Err("must not contain ';'".into())
        } else if tag.contains('\0') {
            Err(NUL_MESSAGE.into())
        } else {
            Ok(Tag(tag.to_owned()))
        }
    }
}

/// An expense's tags, as JSON arrays and CSV cells alike give them:
/// duplicates collapse to the first, order kept; then at most `MAX_TAGS`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Tags(Vec<String>);

impl Tags {
    pub fn from_tags(tags: impl IntoIterator<Item = Tag>) -> Result<Tags, String> {
        let mut distinct: Vec<String> = Vec::new();
        for Tag(tag) in tags {
            if !distinct.contains(&tag) {
                distinct.push(tag);
            }
        }
        if distinct.len() > MAX_TAGS {
            return Err(format!("must hold at most {MAX_TAGS} distinct tags"));
        }
        Ok(Tags(distinct))
    }

    pub fn into_vec(self) -> Vec<String> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(raw: &[&str]) -> Result<Vec<String>, String> {
        let parsed = raw
            .iter()
            .map(|t| Tag::parse(t))
            .collect::<Result<Vec<_>, _>>()?;
        Tags::from_tags(parsed).map(Tags::into_vec)
    }

    #[test]
    fn optional_text_is_trimmed_and_counted_in_code_points() {
        assert_eq!(Merchant::parse("   ").unwrap(), None);
        assert_eq!(
            Merchant::parse(" a ").unwrap().map(Merchant::into_string),
            Some("a".to_owned())
        );
        assert!(Merchant::parse(&"x".repeat(MAX_MERCHANT + 1)).is_err());
        assert!(Merchant::parse(&"😀".repeat(MAX_MERCHANT)).is_ok());
        assert!(Description::parse("a\0b").is_err());
        assert!(Description::parse(&"é".repeat(MAX_DESCRIPTION)).is_ok());
        assert!(Description::parse(&"é".repeat(MAX_DESCRIPTION + 1)).is_err());
    }

    #[test]
    fn names_and_colours() {
        assert_eq!(
            CategoryName::parse("  Food ").unwrap().into_string(),
            "Food"
        );
        assert!(CategoryName::parse("   ").is_err());
        assert!(CategoryName::parse(&"x".repeat(101)).is_err());
        assert!(CategoryName::parse(&"é".repeat(100)).is_ok());
        assert!(CategoryName::parse("a\0").is_err());
        assert_eq!(Colour::parse("#A0b1C2").unwrap().into_string(), "#a0b1c2");
        for bad in ["", "#abc", "#gggggg", "a0b1c2", "#a0b1c2 ", "#a0b1c2a"] {
            assert!(Colour::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tags_collapse_then_count() {
        assert_eq!(tags(&[" a", "b", "a "]).unwrap(), vec!["a", "b"]);
        let many: Vec<String> = (0..MAX_TAGS).map(|i| format!("t{i}")).collect();
        let mut with_duplicates: Vec<&str> = many.iter().map(String::as_str).collect();
        with_duplicates.push("t0");
        assert!(tags(&with_duplicates).is_ok());
        with_duplicates.push("one more");
        assert!(tags(&with_duplicates).is_err());
        for bad in ["", "  ", "a;b", "a\0", &"x".repeat(MAX_TAG_LEN + 1)] {
            assert!(Tag::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Tag::parse(&"x".repeat(MAX_TAG_LEN)).is_ok());
    }
}
