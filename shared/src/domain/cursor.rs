//! Opaque keyset cursors: the (date, id) of the last expense of a page, and
//! the (key, currency) of the last group of a summary page.
//! A cursor that does not decode exactly is rejected (400), never guessed at.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use time::Date;

use super::text::{format_date, parse_date};

const PREFIX: &str = "e1";

/// Position after which the next page starts, in `date DESC, id DESC` order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub date: Date,
    pub id: String,
}

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{PREFIX}|{}|{}", format_date(self.date), self.id))
    }

    pub fn decode(text: &str) -> Option<Cursor> {
        if text.len() > 128 {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
        let raw = String::from_utf8(bytes).ok()?;
        let mut parts = raw.split('|');
        let (prefix, date, id) = (parts.next()?, parts.next()?, parts.next()?);
        if prefix != PREFIX || parts.next().is_some() {
            return None;
        }
        let cursor = Cursor {
            date: parse_date(date)?,
            id: super::Id::parse(id)?.into_string(),
        };
        // Canonical form only: re-encoding must give back the same text.
        (cursor.encode() == text).then_some(cursor)
    }
}

/// Position after which the next page of summary groups starts: the last
/// group's (key, currency) in the answer's order, and the `group_by` it was
/// issued for (a cursor of another grouping is rejected, not reinterpreted).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupCursor {
    pub group_by: String,
    pub key: Option<String>,
    pub currency: String,
}

const GROUP_PREFIX: &str = "g1";

/// Keys are at most a merchant's length; anything much longer is not ours.
const MAX_GROUP_CURSOR: usize = 4096;

impl GroupCursor {
    pub fn encode(&self) -> String {
        // The key goes last so that it may contain the separator; `n` marks
        // the null key, `k` precedes a present one (which may be empty).
        let key = match &self.key {
            None => "n".to_owned(),
            Some(key) => format!("k{key}"),
        };
        URL_SAFE_NO_PAD.encode(format!(
            "{GROUP_PREFIX}|{}|{}|{key}",
            self.group_by, self.currency
        ))
    }

    pub fn decode(text: &str) -> Option<GroupCursor> {
        if text.len() > MAX_GROUP_CURSOR {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
        let raw = String::from_utf8(bytes).ok()?;
        let mut parts = raw.splitn(4, '|');
        let (prefix, group_by, currency, key) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let key = match key.split_at_checked(1)? {
            ("n", "") => None,
            ("k", key) => Some(key.to_owned()),
            _ => return None,
        };
        let well_formed = prefix == GROUP_PREFIX
            && currency.len() == 3
            && currency.bytes().all(|b| b.is_ascii_uppercase());
        if !well_formed {
            return None;
        }
        let cursor = GroupCursor {
            group_by: group_by.to_owned(),
            key,
            currency: currency.to_owned(),
        };
        (cursor.encode() == text).then_some(cursor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_tampering() {
        let cursor = Cursor {
            date: parse_date("2026-11-28").unwrap(),
            id: crate::domain::new_id(),
        };
        let text = cursor.encode();
        assert_eq!(Cursor::decode(&text), Some(cursor.clone()));
        assert!(Cursor::decode("").is_none());
        assert!(Cursor::decode("not-a-cursor!").is_none());
        assert!(Cursor::decode(&format!("{text}A")).is_none());
        let mut flipped = text.clone().into_bytes();
        flipped[5] = if flipped[5] == b'A' { b'B' } else { b'A' };
        assert!(Cursor::decode(std::str::from_utf8(&flipped).unwrap()).is_none());
        let forged = URL_SAFE_NO_PAD.encode("e1|2026-02-30|x");
        assert!(Cursor::decode(&forged).is_none());
        let forged = URL_SAFE_NO_PAD.encode(format!("e1|2026-01-01|{}|x", cursor.id));
        assert!(Cursor::decode(&forged).is_none());
    }

    #[test]
    fn group_cursors_round_trip_any_key() {
        for key in [None, Some(""), Some("a|b|c"), Some("Café n"), Some("n")] {
            let cursor = GroupCursor {
                group_by: "merchant".into(),
                key: key.map(str::to_owned),
                currency: "EUR".into(),
            };
            assert_eq!(GroupCursor::decode(&cursor.encode()), Some(cursor));
        }
        for forged in [
            "g1|tag|EUR|x",
            "g1|tag|eur|n",
            "g1|tag|EUR|nx",
            "g2|tag|EUR|n",
            "g1|tag|EUR",
        ] {
            assert!(
                GroupCursor::decode(&URL_SAFE_NO_PAD.encode(forged)).is_none(),
                "{forged}"
            );
        }
        assert!(GroupCursor::decode("e1!").is_none());
    }
}
