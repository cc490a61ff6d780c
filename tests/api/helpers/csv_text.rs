//! CSV as the export writes it and the import reads it (RFC 4180), through
//! the `csv` crate.

/// The export's header row.
pub const CSV_HEADER: &str = "id,date,amount,currency,category,merchant,description,tags";

/// The records of `text` (the header row is a record too; blank lines are
/// skipped). The `csv` crate reads leniently, so the text must also be
/// exactly what a strict RFC 4180 writer makes of those records (CRLF line
/// ends, a field quoted only when it needs it, `""` for a quote): a stray
/// quote or an unquoted comma in the server's output fails the test.
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let records: Vec<Vec<String>> = reader
        .records()
        .map(|record| {
            let record = record.unwrap_or_else(|e| panic!("not CSV ({e}): {text:?}"));
            record.iter().map(str::to_owned).collect()
        })
        .collect();
    let rewritten: String = records
        .iter()
        .map(|r| csv_record(&r.iter().map(String::as_str).collect::<Vec<_>>()))
        .collect();
    let without_blank_lines: String = text
        .split_inclusive('\n')
        .filter(|line| !line.trim_end_matches(['\r', '\n']).is_empty())
        .collect();
    assert_eq!(
        without_blank_lines, rewritten,
        "the CSV is not in RFC 4180's canonical form"
    );
    records
}

/// One CSV record, CRLF-terminated, quoting the cells that need it.
pub fn csv_record(cells: &[&str]) -> String {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .quote_style(csv::QuoteStyle::Necessary)
        .from_writer(Vec::new());
    writer.write_record(cells).expect("a record in memory");
    let bytes = writer.into_inner().expect("a flushed writer");
    String::from_utf8(bytes).expect("UTF-8 cells make UTF-8 CSV")
}
