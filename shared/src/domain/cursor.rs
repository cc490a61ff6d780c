//! Opaque keyset cursors: the (date, id) of the last item of a page.
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
        if prefix != PREFIX || parts.next().is_some() || !super::is_id(id) {
            return None;
        }
        let cursor = Cursor {
            date: parse_date(date)?,
            id: id.to_owned(),
        };
        // Canonical form only: re-encoding must give back the same text.
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
}
