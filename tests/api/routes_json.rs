//! `routes.json` (read by Terraform and checked against the SAM template)
//! is generated from the route table; the committed file must be current.
//! Regenerate it with `UPDATE_ROUTES_JSON=1 scripts/test.sh routes_json`.

#[test]
fn the_committed_routes_json_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../routes.json");
    let generated =
        serde_json::to_string_pretty(&shared::http::routes::routes_document()).unwrap() + "\n";
    if std::env::var_os("UPDATE_ROUTES_JSON").is_some() {
        std::fs::write(path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == generated,
        "routes.json is stale: run UPDATE_ROUTES_JSON=1 scripts/test.sh routes_json"
    );
}
