//! Replays every seed (corpus/<target>/) and every minimized crash
//! (regressions/<target>/) through the fuzz targets' checks, on stable Rust
//! and without libFuzzer: `cargo test --manifest-path fuzz/Cargo.toml`.
//! (`scripts/fuzz.sh check` replays the same files through the built fuzz
//! binaries instead.)

use std::fs;
use std::path::Path;

/// A fuzz target's check.
type Check = fn(&[u8]);

const TARGETS: [(&str, Check); 6] = [
    ("money", expense_fuzz::money),
    ("cursor", expense_fuzz::cursor),
    ("expense_json", expense_fuzz::expense_json),
    ("list_query", expense_fuzz::list_query),
    ("csv_import", expense_fuzz::csv_import),
    ("jwt_header", expense_fuzz::jwt_header),
];

/// Runs `check` on every file of `dir`, if it exists; the number run.
fn replay(dir: &Path, check: Check) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let mut files: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
    files.sort();
    for file in &files {
        let data = fs::read(file).unwrap();
        let outcome = std::panic::catch_unwind(|| check(&data));
        assert!(outcome.is_ok(), "{} fails", file.display());
    }
    files.len()
}

#[test]
fn seeds_and_regressions_pass() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (target, check) in TARGETS {
        let seeds = replay(&root.join("corpus").join(target), check);
        assert!(seeds > 0, "no seeds for {target}");
        replay(&root.join("regressions").join(target), check);
    }
}

fn seed(target: &str, name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target)
        .join(name);
    fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn seed_text(target: &str, name: &str) -> String {
    String::from_utf8(seed(target, name)).unwrap()
}

/// The seeds give the fuzzer a start on the accepting paths, not only on
/// the refusals: each of these is valid.
#[test]
fn valid_seeds_are_accepted() {
    use shared::domain::money::{Currency, Money};
    let usd = Currency::parse("USD").unwrap();
    assert!(Money::parse(&seed_text("money", "seed-0"), usd).is_ok());
    assert!(shared::domain::cursor::Cursor::decode(&seed_text("cursor", "seed-0")).is_some());
    for name in ["create-full", "create-min", "patch-amount"] {
        let body: serde_json::Value = serde_json::from_slice(&seed("expense_json", name)).unwrap();
        let body = body.as_object().unwrap();
        assert!(shared::domain::expense::parse_new(body).is_ok(), "{name}");
    }
    for name in ["patch-nulls", "patch-currency"] {
        let body: serde_json::Value = serde_json::from_slice(&seed("expense_json", name)).unwrap();
        let patched = shared::domain::expense::apply_patch(
            &expense_fuzz::fixed_fields(),
            body.as_object().unwrap(),
        );
        assert!(patched.is_ok(), "{name}: {patched:?}");
    }
    for name in ["all", "cursor", "empty", "plus"] {
        let query = seed("list_query", name);
        let pairs: Vec<(String, String)> = form_urlencoded::parse(&query).into_owned().collect();
        let parsed = shared::domain::filter::ListQuery::parse(&pairs);
        assert!(parsed.is_ok(), "{name}: {parsed:?}");
    }
    for name in ["full", "min", "bom-order", "quoted"] {
        let rows = shared::domain::csv_format::parse_import(&seed("csv_import", name));
        assert!(rows.is_ok_and(|rows| !rows.is_empty()), "{name}");
    }
    for (name, user) in [("valid", "alice"), ("valid-kid", "bob")] {
        let token = seed_text("jwt_header", name);
        assert_eq!(
            expense_fuzz::verify(&format!("Bearer {token}")).as_deref(),
            Ok(user)
        );
    }
    for name in ["expired", "rs256", "wrong-secret"] {
        let token = seed_text("jwt_header", name);
        assert!(
            expense_fuzz::verify(&format!("Bearer {token}")).is_err(),
            "{name}"
        );
    }
}

/// Lone CR line breaks (classic Mac "CSV"): csv ends a record at each CR,
/// and shared used to count only LF, so every row was reported on the
/// header's line 1. Found by the csv_import target.
#[test]
fn lone_cr_line_breaks() {
    let rows =
        shared::domain::csv_format::parse_import(&seed_regression("lone-cr-line-breaks")).unwrap();
    assert_eq!(rows.iter().map(|r| r.line).collect::<Vec<_>>(), vec![2]);
    let errors = shared::domain::csv_format::parse_import(
        b"date,amount,currency\r2026-13-01,1,EUR\r2026-01-01,x,EUR\r",
    )
    .unwrap_err();
    let lines: Vec<(u64, &str)> = errors.iter().map(|e| (e.line, e.field.as_str())).collect();
    assert_eq!(lines, vec![(2, "date"), (3, "amount")]);
}

fn seed_regression(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("regressions/csv_import")
        .join(name);
    fs::read(path).unwrap()
}
