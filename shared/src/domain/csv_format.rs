//! The CSV of `GET /v1/expenses/export` and `POST /v1/expenses/import`
//! (RFC 4180, UTF-8): encoding rows, the formula-injection guard, and
//! parsing and validating an import body, reporting every problem at once.

use std::borrow::Cow;
use std::ops::Range;

use csv::StringRecord;
use serde::Serialize;
use time::Date;

use super::expense::Expense;
use super::fields::{CategoryName, Description, Merchant, Tag, Tags};
use super::money::{amount_field, Currency, Money};
use super::text::{clean, date_field, format_date};

/// Export columns, in order.
pub const COLUMNS: [&str; 8] = [
    "id",
    "date",
    "amount",
    "currency",
    "category",
    "merchant",
    "description",
    "tags",
];

/// Columns an import must have; the others of `COLUMNS` are optional (`id`
/// is accepted and ignored).
const REQUIRED: [&str; 3] = ["date", "amount", "currency"];

/// Characters that make a spreadsheet read a cell as a formula.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

const NOT_CSV_MESSAGE: &str = "is not valid CSV (RFC 4180): a field containing '\"' must be \
     enclosed in double quotes, with inner quotes doubled and a closing quote";

/// The header record, CRLF-terminated (RFC 4180).
pub fn header() -> Vec<u8> {
    write_record(&COLUMNS)
}

/// One expense as one CSV record (CRLF-terminated), `category` = the
/// category's name, tags joined with ';', every cell through [`protect`].
pub fn encode_row(expense: &Expense, category: Option<&str>) -> Vec<u8> {
    let f = &expense.fields;
    let cells = [
        expense.id.clone(),
        format_date(f.date),
        f.money.amount_string(),
        f.money.currency().code().to_owned(),
        category.unwrap_or_default().to_owned(),
        f.merchant.clone().unwrap_or_default(),
        f.description.clone().unwrap_or_default(),
        f.tags.join(";"),
    ];
    write_record(&cells.each_ref().map(|cell| protect(cell)))
}

fn write_record(cells: &[impl AsRef<str>]) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .quote_style(csv::QuoteStyle::Necessary)
        .from_writer(Vec::new());
    // Writing to a Vec has no I/O error, and one record alone cannot have
    // an unequal length.
    writer
        .write_record(cells.iter().map(|cell| cell.as_ref().as_bytes()))
        .expect("writing CSV to memory cannot fail");
    writer
        .into_inner()
        .expect("flushing CSV to memory cannot fail")
}

/// Spreadsheet formula-injection guard: a cell that starts with `=`, `+`,
/// `-`, `@`, TAB or CR, or with a run of `'` followed by one of those, gets
/// one more `'` in front. Other cells are unchanged.
pub fn protect(cell: &str) -> Cow<'_, str> {
    if cell.trim_start_matches('\'').starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// The inverse applied on import: a cell that starts with a run of `'`
/// followed by a formula character loses exactly one leading `'`, so
/// `unprotect(&protect(s)) == s` for every string.
pub fn unprotect(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.trim_start_matches('\'').starts_with(FORMULA_STARTS) => rest,
        _ => cell,
    }
}

/// One valid row of an import.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportRow {
    /// 1-based physical line where the record starts (header = line 1).
    pub line: u64,
    pub money: Money,
    pub date: Date,
    /// Category name (trimmed, validated as a `CategoryName`), None when
    /// the cell is empty or the column absent.
    pub category: Option<String>,
    pub merchant: Option<String>,
    pub description: Option<String>,
    pub tags: Vec<String>,
}

/// A problem with one row (or the header, or the whole body).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ImportError {
    pub line: u64,
    pub field: String,
    pub message: String,
}

impl ImportError {
    fn new(line: u64, field: impl Into<String>, message: impl Into<String>) -> ImportError {
        ImportError {
            line,
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Parses and validates a whole import body. All or nothing: every row, or
/// every problem found (one item per bad field of every bad row).
pub fn parse_import(body: &[u8]) -> Result<Vec<ImportRow>, Vec<ImportError>> {
    let text = std::str::from_utf8(body).map_err(|e| {
        let line = 1 + line_breaks(body, 0..e.valid_up_to());
        vec![ImportError::new(line, "body", "is not UTF-8")]
    })?;
    // Spreadsheets save "CSV UTF-8" with a byte order mark; it is not part
    // of the first column's name.
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let missing = || vec![ImportError::new(1, "body", "missing header row")];
    if clean(text).is_empty() {
        return Err(missing());
    }
    let mut records = Records::new(text.as_bytes());
    let (line, header) = records.next().ok_or_else(missing)?.map_err(|e| vec![e])?;
    let columns = parse_header(line, &header)?;

    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for next in records {
        match next {
            // Past a record that is not CSV, record boundaries mean nothing.
            Err(error) => {
                errors.push(error);
                break;
            }
            Ok((line, record)) if record.len() != columns.len() => errors.push(ImportError::new(
                line,
                "row",
                format!(
                    "has {} fields, the header has {}",
                    record.len(),
                    columns.len()
                ),
            )),
            Ok((line, record)) => match parse_row(line, &columns, &record) {
                Ok(row) => rows.push(row),
                Err(mut row_errors) => errors.append(&mut row_errors),
            },
        }
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

/// The column of each header cell, or every problem with the header.
fn parse_header(line: u64, record: &StringRecord) -> Result<Vec<&'static str>, Vec<ImportError>> {
    let mut columns = Vec::new();
    let mut errors = Vec::new();
    for name in record.iter().map(clean) {
        match COLUMNS.iter().find(|column| **column == name) {
            None => errors.push(ImportError::new(line, name, "is not a known column")),
            Some(column) if columns.contains(column) => {
                errors.push(ImportError::new(
                    line,
                    name,
                    "column is given more than once",
                ));
            }
            Some(column) => columns.push(*column),
        }
    }
    for required in REQUIRED {
        if !columns.contains(&required) {
            errors.push(ImportError::new(line, required, "column is required"));
        }
    }
    if errors.is_empty() {
        Ok(columns)
    } else {
        Err(errors)
    }
}

/// One record whose length matches the header.
fn parse_row(
    line: u64,
    columns: &[&str],
    record: &StringRecord,
) -> Result<ImportRow, Vec<ImportError>> {
    // An absent optional column reads as an empty cell.
    let cell = |name: &str| {
        columns
            .iter()
            .position(|column| *column == name)
            .map_or("", |index| unprotect(&record[index]))
    };
    let mut errors = RowErrors {
        line,
        errors: Vec::new(),
    };
    let date = errors.check(
        "date",
        date_field(clean(cell("date"))).map_err(str::to_owned),
    );
    let currency = errors.check(
        "currency",
        Currency::parse_field(clean(cell("currency"))).map_err(str::to_owned),
    );
    let money = errors.check(
        "amount",
        amount_field(clean(cell("amount")), currency).map_err(|e| e.to_string()),
    );
    let category = match clean(cell("category")) {
        "" => Ok(None),
        name => CategoryName::parse(name).map(|name| Some(name.into_string())),
    };
    let category = errors.check("category", category);
    let merchant = errors.check(
        "merchant",
        Merchant::parse(cell("merchant")).map(|m| m.map(Merchant::into_string)),
    );
    let description = errors.check(
        "description",
        Description::parse(cell("description")).map(|d| d.map(Description::into_string)),
    );
    let tags = errors.check("tags", parse_tag_cell(cell("tags")));

    match (date, money.flatten(), category, merchant, description, tags) {
        (
            Some(date),
            Some(money),
            Some(category),
            Some(merchant),
            Some(description),
            Some(tags),
        ) => Ok(ImportRow {
            line,
            money,
            date,
            category,
            merchant,
            description,
            tags,
        }),
        _ => Err(errors.errors),
    }
}

/// The problems of one row.
struct RowErrors {
    line: u64,
    errors: Vec<ImportError>,
}

impl RowErrors {
    /// The value, or `None` with the problem recorded under `field`.
    fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        result
            .map_err(|message| {
                self.errors
                    .push(ImportError::new(self.line, field, message))
            })
            .ok()
    }
}

/// `a; b;;a` → `[a, b]`: empty pieces are skipped, then the JSON rules.
fn parse_tag_cell(cell: &str) -> Result<Vec<String>, String> {
    let tags = cell
        .split(';')
        .filter(|p| !clean(p).is_empty())
        .map(Tag::parse)
        .collect::<Result<Vec<Tag>, String>>()
        .map_err(|message| format!("each tag {message}"))?;
    Ok(Tags::from_tags(tags)?.into_vec())
}

/// The line breaks that start in `body[range]`. A break is LF, CRLF or a
/// lone CR (classic Mac files), as the csv crate ends a record at any of
/// them. A CR counts only when no LF follows it, looked up in the whole body
/// so that a CRLF split across two ranges is still one break.
fn line_breaks(body: &[u8], range: Range<usize>) -> u64 {
    range
        .filter(|&at| match body[at] {
            b'\n' => true,
            b'\r' => body.get(at + 1) != Some(&b'\n'),
            _ => false,
        })
        .count() as u64
}

/// The records of a body, each with the physical line it starts on; an item
/// is `Err` (and the last) when a record is not RFC 4180 CSV.
///
/// Two things the csv crate does not do for us:
/// - `Position::line()` of a record is where the previous record's consumed
///   input ended: before skipped blank lines, and before the LF of a CRLF
///   (csv-core ends a record at the CR). So the start is found by skipping
///   CR/LF bytes from there (a record never starts with one), and lines are
///   counted from the body itself.
/// - csv-core never rejects quoting: an unterminated quoted field silently
///   runs to the end of the body (`a,"b` reads as `a`,`b`), a quote inside
///   an unquoted field is kept (`a"b`), and text after a closing quote is
///   appended (`"a"b` reads as `ab`). Each record's raw bytes are therefore
///   checked with [`well_quoted`]; as csv-core splits valid CSV exactly as
///   RFC 4180 does, the first record failing the check is the first record
///   that is not CSV, and its start line is the one to report.
struct Records<'a> {
    body: &'a [u8],
    reader: csv::Reader<&'a [u8]>,
    /// `line` is the physical line of byte offset `counted`.
    counted: usize,
    line: u64,
    done: bool,
}

impl<'a> Records<'a> {
    fn new(body: &'a [u8]) -> Records<'a> {
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(body);
        Records {
            body,
            reader,
            counted: 0,
            line: 1,
            done: false,
        }
    }

    /// Offsets only move forward, so counting is linear overall.
    fn line_at(&mut self, offset: usize) -> u64 {
        self.line += line_breaks(self.body, self.counted..offset);
        self.counted = offset;
        self.line
    }
}

impl Iterator for Records<'_> {
    type Item = Result<(u64, StringRecord), ImportError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let before = self.reader.position().byte() as usize;
        let mut record = StringRecord::new();
        let read = self.reader.read_record(&mut record);
        let after = self.reader.position().byte() as usize;
        let skipped = self.body[before..after]
            .iter()
            .take_while(|b| matches!(b, b'\r' | b'\n'))
            .count();
        let line = self.line_at(before + skipped);
        let item = match read {
            Ok(false) => None,
            Ok(true) if well_quoted(&self.body[before + skipped..after]) => {
                Some(Ok((line, record)))
            }
            Ok(true) => Some(Err(ImportError::new(line, "row", NOT_CSV_MESSAGE))),
            // Not expected (the body is in memory, UTF-8 checked, records
            // flexible), but never a panic.
            Err(e) => Some(Err(ImportError::new(
                line,
                "row",
                format!("is not valid CSV: {e}"),
            ))),
        };
        self.done = !matches!(item, Some(Ok(_)));
        item
    }
}

/// Whether one record's raw bytes follow RFC 4180 quoting: every field is
/// either free of `"` or enclosed in `"` with inner quotes doubled, and the
/// last quoted field is closed.
fn well_quoted(raw: &[u8]) -> bool {
    #[derive(PartialEq)]
    enum State {
        FieldStart,
        Unquoted,
        Quoted,
        /// A `"` inside a quoted field: the closing one, or half of `""`.
        QuoteInQuoted,
    }
    let mut state = State::FieldStart;
    for byte in raw {
        state = match (state, byte) {
            (State::Quoted, b'"') => State::QuoteInQuoted,
            (State::Quoted, _) => State::Quoted,
            (State::FieldStart | State::QuoteInQuoted, b'"') => State::Quoted,
            (State::Unquoted, b'"') => return false,
            (_, b',' | b'\r' | b'\n') => State::FieldStart,
            (State::QuoteInQuoted, _) => return false,
            (State::FieldStart | State::Unquoted, _) => State::Unquoted,
        };
    }
    state != State::Quoted
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::expense::{parse_new, ExpenseFields};
    use crate::domain::money::CURRENCY_MESSAGE;
    use crate::domain::text::DATE_MESSAGE;
    use serde_json::{json, Value};

    const HEADER: &str = "date,amount,currency,category,merchant,description,tags\n";

    fn fields(value: Value) -> ExpenseFields {
        parse_new(value.as_object().unwrap()).unwrap()
    }

    fn expense(fields: ExpenseFields) -> Expense {
        Expense {
            id: "0190b5e4-8b7c-7cc3-a1de-3c2f0d1e2a4b".into(),
            fields,
            version: 1,
            created_at: 0,
            updated_at: 0,
            created_by: "alice".into(),
            updated_by: "alice".into(),
        }
    }

    fn errors(body: &str) -> Vec<(u64, String)> {
        parse_import(body.as_bytes())
            .unwrap_err()
            .into_iter()
            .map(|e| (e.line, e.field))
            .collect()
    }

    fn err(line: u64, field: &str) -> (u64, String) {
        (line, field.to_owned())
    }

    #[test]
    fn protect_and_unprotect_are_inverse() {
        let samples = [
            "",
            "'",
            "''",
            "''=",
            "=",
            "a=b",
            "-5",
            "@x",
            "\t",
            "\r",
            "+1",
            "'=x",
            "''@y",
            "'a",
            "''a",
            "=cmd|' /C calc'!A0",
            "\t=x",
            "'\r\n",
            "é",
            "😀=",
            " =x",
            "x'",
        ];
        for sample in samples {
            let protected = protect(sample);
            assert_eq!(unprotect(&protected), sample, "{sample:?}");
            let risky = sample.trim_start_matches('\'').starts_with(FORMULA_STARTS);
            assert_eq!(
                protected.len(),
                sample.len() + usize::from(risky),
                "{sample:?}"
            );
            // A protected cell never starts with a formula character.
            assert!(!protected.starts_with(FORMULA_STARTS), "{sample:?}");
            // Every prefix of a quote run, too.
            for quotes in 1..4 {
                let longer = format!("{}{sample}", "'".repeat(quotes));
                assert_eq!(unprotect(&protect(&longer)), longer);
            }
        }
        assert_eq!(protect("=1+1"), "'=1+1");
        assert_eq!(protect("''@y"), "'''@y");
        assert_eq!(protect("'a"), "'a");
        assert_eq!(unprotect("'=x"), "=x");
        assert_eq!(unprotect("'''-x"), "''-x");
        assert_eq!(unprotect("'x"), "'x");
        assert!(matches!(protect("plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn encodes_header_and_rows() {
        assert_eq!(
            header(),
            b"id,date,amount,currency,category,merchant,description,tags\r\n"
        );
        let e = expense(fields(json!({
            "amount": "12.3", "currency": "USD", "date": "2026-11-28",
            "merchant": "=HYPERLINK(\"x\")", "description": "a, b\nc", "tags": ["-x", "y"],
        })));
        let row = String::from_utf8(encode_row(&e, Some("Food"))).unwrap();
        assert_eq!(
            row,
            "0190b5e4-8b7c-7cc3-a1de-3c2f0d1e2a4b,2026-11-28,12.30,USD,Food,\
             \"'=HYPERLINK(\"\"x\"\")\",\"a, b\nc\",'-x;y\r\n"
        );
        let bare = expense(fields(
            json!({"amount": "5", "currency": "JPY", "date": "2026-01-01"}),
        ));
        let row = String::from_utf8(encode_row(&bare, None)).unwrap();
        assert_eq!(
            row,
            "0190b5e4-8b7c-7cc3-a1de-3c2f0d1e2a4b,2026-01-01,5,JPY,,,,\r\n"
        );
    }

    #[test]
    fn export_imports_back_exactly() {
        let cases = [
            (
                json!({"amount": "12.30", "currency": "USD", "date": "2026-11-28"}),
                None,
            ),
            (
                json!({"amount": "1500", "currency": "JPY", "date": "1000-01-01",
                    "merchant": "He said \"hi\", then left", "description": "line 1\nline 2\r\nline 3",
                    "tags": ["a", "b,c", "\"q\""]}),
                Some("Food, \"fine\""),
            ),
            (
                json!({"amount": "0.001", "currency": "BHD", "date": "9999-12-31",
                    "merchant": "=cmd|' /C calc'!A0", "description": "'=x", "tags": ["=t", "+u", "''@y"]}),
                Some("=Formula"),
            ),
            (
                json!({"amount": "999999999999.0000", "currency": "CLF", "date": "2024-02-29",
                    "merchant": "-5", "description": "+1 in\ttab", "tags": ["@home", "-"]}),
                Some("@cat"),
            ),
            (
                json!({"amount": "7", "currency": "EUR", "date": "2026-06-01",
                    "merchant": "Café 😀 Zürich", "description": "''@y", "tags": ["日本", "😀"]}),
                Some("''-x"),
            ),
            (
                json!({"amount": "3", "currency": "EUR", "date": "2026-06-02",
                    "merchant": "'", "description": "a\rb", "tags": ["x'", "'"]}),
                Some("'"),
            ),
        ];
        let mut body = header();
        let mut expected = Vec::new();
        for (value, category) in &cases {
            let e = expense(fields(value.clone()));
            body.extend(encode_row(&e, *category));
            expected.push((e.fields, category.map(str::to_owned)));
        }
        let rows = parse_import(&body).unwrap();
        assert_eq!(rows.len(), expected.len());
        for (row, (fields, category)) in rows.iter().zip(&expected) {
            assert_eq!(row.money, fields.money);
            assert_eq!(row.date, fields.date);
            assert_eq!(&row.category, category);
            assert_eq!(row.merchant, fields.merchant);
            assert_eq!(row.description, fields.description);
            assert_eq!(row.tags, fields.tags);
        }
        // Header is line 1; the second expense's description spans 3 lines.
        let lines: Vec<u64> = rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![2, 3, 6, 7, 8, 9]);
    }

    #[test]
    fn header_columns_in_any_order_with_optional_ones_absent() {
        let rows = parse_import(b"currency, id ,amount,date\nEUR,x,1.5,2026-01-02\n").unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].money.amount_string(), "1.50");
        assert_eq!(rows[0].category, None);
        assert!(rows[0].tags.is_empty());
        assert_eq!(parse_import(b"date,amount,currency\r\n").unwrap(), vec![]);
        // A byte order mark is not part of the first name.
        assert!(parse_import("\u{FEFF}date,amount,currency\n".as_bytes()).is_ok());
    }

    #[test]
    fn header_errors() {
        assert_eq!(
            errors("date,amount,colour,date,Tags\n2026-01-01,1,x,y,z\n"),
            vec![
                err(1, "colour"),
                err(1, "date"),
                err(1, "Tags"),
                err(1, "currency")
            ]
        );
        let e = parse_import(b"date,amount\n").unwrap_err();
        assert_eq!(
            e,
            vec![ImportError::new(1, "currency", "column is required")]
        );
        for empty in ["", "  \r\n \n", "\u{FEFF}"] {
            let e = parse_import(empty.as_bytes()).unwrap_err();
            assert_eq!(e, vec![ImportError::new(1, "body", "missing header row")]);
        }
    }

    #[test]
    fn every_field_error_with_its_line() {
        let body = format!(
            "{HEADER}\
             2026-02-30,1,USD,,,,\n\
             2026-01-01,12.345,USD,,,,\n\
             2026-01-01,1,usd,,,,\n\
             2026-01-01,1x,XAU,,,,\n\
             2026-01-01,12.345,XAU,,,,\n\
             2026-01-01,1,USD,{long_name},,,\n\
             2026-01-01,1,USD,,{long_merchant},,\n\
             2026-01-01,1,USD,,,a\u{0}b,\n\
             2026-01-01,1,USD,,,,{long_tag}\n\
             2026-01-01,1,USD,,,,{many_tags}\n\
             ,,,,,,\n",
            long_name = "n".repeat(101),
            long_merchant = "m".repeat(201),
            long_tag = "t".repeat(51),
            many_tags = (0..21)
                .map(|i| format!("t{i}"))
                .collect::<Vec<_>>()
                .join(";"),
        );
        assert_eq!(
            errors(&body),
            vec![
                err(2, "date"),
                err(3, "amount"),
                err(4, "currency"),
                err(5, "currency"),
                err(5, "amount"),
                // A bad currency hides an amount that is only too precise.
                err(6, "currency"),
                err(7, "category"),
                err(8, "merchant"),
                err(9, "description"),
                err(10, "tags"),
                err(11, "tags"),
                err(12, "date"),
                err(12, "currency"),
                err(12, "amount"),
            ]
        );
        let messages = parse_import(body.as_bytes()).unwrap_err();
        assert_eq!(
            messages[1].message,
            "this currency takes at most 2 decimals"
        );
        assert_eq!(
            messages[9].message,
            "each tag must be 1 to 50 characters after trimming"
        );
        assert_eq!(messages[10].message, "must hold at most 20 distinct tags");
    }

    #[test]
    fn cells_are_trimmed_unprotected_and_tags_cleaned() {
        let body = format!(
            "{HEADER} 2026-01-01 , 1 ,\u{3000}EUR , Food ,'=m, '-d , a;;b; a ;;\n\
             2026-01-01,1,EUR,,  ,,;\n\
             2026-01-01,1,EUR,,,,{dupes}\n",
            dupes = (0..25)
                .map(|i| format!("t{}", i % 20))
                .collect::<Vec<_>>()
                .join(";"),
        );
        let rows = parse_import(body.as_bytes()).unwrap();
        assert_eq!(rows[0].category.as_deref(), Some("Food"));
        assert_eq!(rows[0].merchant.as_deref(), Some("=m"));
        // Only a cell that starts with the quote run is unprotected.
        assert_eq!(rows[0].description.as_deref(), Some("'-d"));
        assert_eq!(rows[0].tags, vec!["a", "b"]);
        assert_eq!((rows[1].merchant.as_deref(), rows[1].tags.len()), (None, 0));
        assert_eq!(rows[2].tags.len(), 20);
    }

    #[test]
    fn line_numbers_follow_physical_lines() {
        // CRLF, blank lines and a quoted cell spanning lines.
        let body = "date,amount,currency,description\r\n\
                    2026-01-01,1,EUR,ok\r\n\
                    \r\n\
                    \r\n\
                    2026-01-01,x,EUR,\"multi\r\nline\nthree\"\r\n\
                    2026-01-01,1,EUR,\"bad\ndate\"\r\n\
                    2026-13-01,1,EUR,\r\n";
        assert_eq!(errors(body), vec![err(5, "amount"), err(10, "date")]);
        let rows = parse_import(b"date,amount,currency\r\n\r\n2026-01-01,1,EUR").unwrap();
        assert_eq!(rows[0].line, 3);
    }

    #[test]
    fn lone_cr_is_a_line_break() {
        // Classic Mac line endings, a blank line, and a lone CR inside a
        // quoted cell; then mixed endings.
        let body = "date,amount,currency,description\r\
                    2026-01-01,1,EUR,ok\r\
                    \r\
                    2026-01-01,x,EUR,\"two\rlines\"\r\
                    2026-13-01,1,EUR,\r";
        assert_eq!(errors(body), vec![err(4, "amount"), err(6, "date")]);
        let body = "date,amount,currency\r\n2026-01-01,x,EUR\r2026-13-01,1,EUR\n2026-01-01,y,EUR";
        let lines: Vec<u64> = errors(body).iter().map(|e| e.0).collect();
        assert_eq!(lines, vec![2, 3, 4]);
        let body = b"date,amount,currency\r2026-01-01,1,EUR\rcaf\xe9";
        assert_eq!(parse_import(body).unwrap_err()[0].line, 3);
    }

    #[test]
    fn not_utf8_reports_the_line_of_the_first_bad_byte() {
        let mut body = format!("{HEADER}2026-01-01,1,EUR,,,,\n2026-01-01,1,EUR,,").into_bytes();
        body.extend(b"caf\xe9,,\n");
        let e = parse_import(&body).unwrap_err();
        assert_eq!(e, vec![ImportError::new(3, "body", "is not UTF-8")]);
        assert_eq!(parse_import(b"\xff").unwrap_err()[0].line, 1);
    }

    #[test]
    fn wrong_field_count() {
        let body = "date,amount,currency\n2026-01-01,1\n2026-01-01,1,EUR,x\n2026-01-01,1,EUR\n";
        let e = parse_import(body.as_bytes()).unwrap_err();
        assert_eq!(
            e,
            vec![
                ImportError::new(2, "row", "has 2 fields, the header has 3"),
                ImportError::new(3, "row", "has 4 fields, the header has 3"),
            ]
        );
    }

    #[test]
    fn malformed_quoting_is_not_csv() {
        let start = "date,amount,currency,merchant\n2026-13-01,1,EUR,x\n";
        for (bad, line) in [
            // Unterminated at the end of the body: csv-core accepts it.
            ("2026-01-01,1,EUR,\"open", 3),
            (
                "2026-01-01,1,EUR,\"open \"\" still\nopen\n2026-01-01,1,EUR,x\n",
                3,
            ),
            // A quote inside an unquoted field, text after a closing quote.
            ("2026-01-01,1,EUR,a\"b\n", 3),
            ("2026-01-01,1,EUR,\"a\"b\n2026-01-01,1,EUR,x\n", 3),
            ("\n\n2026-01-01,1,E\"UR,x\n", 5),
        ] {
            let body = format!("{start}{bad}");
            let e = parse_import(body.as_bytes()).unwrap_err();
            assert_eq!(e.len(), 2, "{bad:?}: {e:?}");
            assert_eq!(e[0], ImportError::new(2, "date", DATE_MESSAGE));
            assert_eq!((e[1].line, e[1].field.as_str()), (line, "row"), "{bad:?}");
        }
        // Parsing stops at the bad record: later bad rows are not reported.
        let e = parse_import(b"date,amount,currency\n\"x,1,EUR\n2026-13-01,1,EUR\n").unwrap_err();
        assert_eq!(e, vec![ImportError::new(2, "row", NOT_CSV_MESSAGE)]);
        // A malformed header is reported the same way.
        assert_eq!(errors("date,\"amount"), vec![err(1, "row")]);
        // Valid quoting of every kind passes.
        let e = parse_import(b"\"date\",amount,currency\n\"2026-01-01\",\"1\",\"\"\"\"\n");
        assert_eq!(
            e.unwrap_err(),
            vec![ImportError::new(2, "currency", CURRENCY_MESSAGE)]
        );
    }

    #[test]
    fn ten_bad_rows_give_ten_errors() {
        let mut body = HEADER.to_owned();
        for day in 1..=10 {
            body.push_str(&format!("2026-02-{:02},1,EUR,,,,\n", day + 28));
            body.push_str("2026-01-01,1,EUR,,,,\n");
        }
        let e = errors(&body);
        assert_eq!(e.len(), 10);
        // 2026-02-29, -30 … -38 on lines 2, 4, …, 20.
        assert_eq!(
            e,
            (0..10).map(|i| err(2 + 2 * i, "date")).collect::<Vec<_>>()
        );
    }
}
