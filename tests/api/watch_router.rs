//! The `cargo lambda watch` router in the workspace Cargo.toml sends every
//! path to the one Lambda binary, which (with no `_HANDLER`, as under the
//! watcher) routes it itself, exactly as the ALB's rules and fallback do.

use shared::http::routes::ROUTES;
use shared::http::Scope;
use shared::lambda::Handler;

#[test]
fn the_watch_router_sends_every_path_to_the_one_binary() {
    let manifest = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.toml"))
        .expect("the workspace manifest");
    let manifest: toml::Table = manifest.parse().expect("valid TOML");
    let router = manifest["workspace"]["metadata"]["lambda"]["watch"]["router"]
        .as_table()
        .expect("[workspace.metadata.lambda.watch.router]");
    let mut mapped: Vec<(&str, &str)> = router
        .iter()
        .map(|(path, target)| (path.as_str(), target.as_str().expect("one function")))
        .collect();
    mapped.sort();
    assert_eq!(mapped, vec![("/", "bootstrap"), ("/{*path}", "bootstrap")]);
    // What the watcher runs with no handler serves every route.
    assert_eq!(Handler::named(None).unwrap(), Handler::Requests(Scope::All));
    assert!(!ROUTES.is_empty());
    let members = manifest["workspace"]["members"].as_array().unwrap();
    assert!(members.iter().any(|m| m.as_str() == Some("lambda")));
}
