//! The `cargo lambda watch` router in the workspace Cargo.toml maps exactly
//! the route table, so local runs route as the ALB does.

use shared::http::routes::ROUTES;

#[test]
fn the_watch_router_matches_the_route_table() {
    let manifest = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.toml"))
        .expect("the workspace manifest");
    let manifest: toml::Table = manifest.parse().expect("valid TOML");
    let router = manifest["workspace"]["metadata"]["lambda"]["watch"]["router"]
        .as_table()
        .expect("[workspace.metadata.lambda.watch.router]");
    let mut mapped: Vec<(String, String, String)> = Vec::new();
    for (path, targets) in router {
        for target in targets.as_array().expect("a list of {method, function}") {
            mapped.push((
                path.clone(),
                target["method"].as_str().unwrap().to_owned(),
                target["function"].as_str().unwrap().to_owned(),
            ));
        }
    }
    let mut expected: Vec<(String, String, String)> = ROUTES
        .iter()
        .map(|r| {
            (
                r.path.to_owned(),
                r.method.to_string(),
                r.function.to_owned(),
            )
        })
        .collect();
    mapped.sort();
    expected.sort();
    assert_eq!(mapped, expected);
}
