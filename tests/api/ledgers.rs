//! Shared ledgers through the real server: creating and listing them,
//! inviting, accepting, changing roles, leaving and deleting; the order of
//! checks (404 for a non-member before 403 for a role before the body's
//! 422); an authorisation matrix over every ledger operation and every
//! kind of caller, where a refused request changes nothing; racing
//! accepts of one code and many concurrent creators.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

pub const OWNER: &str = "ledger-owner";
pub const EDITOR: &str = "ledger-editor";
pub const VIEWER: &str = "ledger-viewer";
pub const STRANGER: &str = "ledger-stranger";
pub const REMOVED: &str = "ledger-removed";
pub const INVITED: &str = "ledger-invited";

pub async fn create_ledger(app: &TestApp, user: &str, name: &str) -> Value {
    app.post_json("/v1/ledgers", user, &json!({"name": name}))
        .await
        .expect_json(201)
}

pub async fn invite(app: &TestApp, owner: &str, ledger: &str, role: &str) -> String {
    let created = app
        .post_json(
            &format!("/v1/ledgers/{ledger}/invitations"),
            owner,
            &json!({"role": role}),
        )
        .await
        .expect_json(201);
    str_of(&created, "code")
}

pub async fn accept(app: &TestApp, user: &str, code: &str) -> Resp {
    app.post_json("/v1/invitations/accept", user, &json!({"code": code}))
        .await
}

/// A ledger with an owner, an editor, a viewer, a member who was removed
/// and someone holding an invitation they have not used.
pub async fn household(app: &TestApp) -> String {
    let ledger = id_of(&create_ledger(app, OWNER, "Flat 3").await);
    for (user, role) in [(EDITOR, "editor"), (VIEWER, "viewer"), (REMOVED, "viewer")] {
        let code = invite(app, OWNER, &ledger, role).await;
        accept(app, user, &code).await.expect_json(200);
    }
    app.delete(
        &format!("/v1/ledgers/{ledger}/members/{REMOVED}"),
        OWNER,
        None,
    )
    .await
    .assert_status(204);
    let _unused = invite(app, OWNER, &ledger, "editor").await;
    ledger
}

/// What every member can see of the ledger: refused requests must leave it as it was.
async fn state(app: &TestApp, ledger: &str) -> (Value, Value, Value) {
    let path = format!("/v1/ledgers/{ledger}");
    (
        app.get(&path, OWNER).await.expect_json(200),
        app.get(&format!("{path}/members"), OWNER)
            .await
            .expect_json(200),
        app.get(&format!("{path}/invitations"), OWNER)
            .await
            .expect_json(200),
    )
}

#[tokio::test]
async fn two_users_share_a_ledger_end_to_end() {
    let app = spawn_app(AppOptions::default()).await;
    // Everyone has a personal ledger, listed first.
    let mine = app.get("/v1/ledgers", OWNER).await.expect_json(200);
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    let personal = &mine["items"][0];
    assert_eq!(personal["personal"], true);
    assert_eq!(personal["role"], "owner");

    let resp = app
        .post_json(
            "/v1/ledgers",
            OWNER,
            &json!({"name": " Flat 3 ", "home_currency": "EUR"}),
        )
        .await;
    let ledger = resp.expect_json(201);
    let id = id_of(&ledger);
    assert_eq!(
        resp.header("location"),
        Some(format!("/v1/ledgers/{id}").as_str())
    );
    assert_eq!(
        ledger,
        json!({"id": id, "name": "Flat 3", "home_currency": "EUR", "personal": false,
               "role": "owner", "created_at": ledger["created_at"], "updated_at": ledger["updated_at"]})
    );
    let listed = app.get("/v1/ledgers", OWNER).await.expect_json(200);
    let ids: Vec<String> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(id_of)
        .collect();
    assert_eq!(ids, vec![id_of(personal), id.clone()], "personal first");

    // An invitation: the code once, then never again.
    let created = app
        .post_json(
            &format!("/v1/ledgers/{id}/invitations"),
            OWNER,
            &json!({"role": "editor"}),
        )
        .await
        .expect_json(201);
    let code = str_of(&created, "code");
    assert!(code.len() >= 22, "at least 128 random bits: {code}");
    let pending = app
        .get(&format!("/v1/ledgers/{id}/invitations"), OWNER)
        .await
        .expect_json(200);
    assert_eq!(pending["items"].as_array().unwrap().len(), 1);
    assert!(pending["items"][0].get("code").is_none(), "{pending}");

    // The stranger cannot see the ledger until they accept.
    app.get(&format!("/v1/ledgers/{id}"), STRANGER)
        .await
        .problem(404);
    let joined = accept(&app, STRANGER, &code).await.expect_json(200);
    assert_eq!(
        (joined["id"].clone(), joined["role"].clone()),
        (json!(id), json!("editor"))
    );
    assert_eq!(
        accept(&app, STRANGER, &code).await.expect_json(200),
        joined,
        "200 again"
    );
    accept(&app, INVITED, &code).await.problem(404);
    let seen = app
        .get(&format!("/v1/ledgers/{id}"), STRANGER)
        .await
        .expect_json(200);
    assert_eq!(
        (seen["role"].clone(), seen["personal"].clone()),
        (json!("editor"), json!(false))
    );
    let members = app
        .get(&format!("/v1/ledgers/{id}/members"), STRANGER)
        .await
        .expect_json(200);
    let names: Vec<String> = members["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| str_of(m, "user_id"))
        .collect();
    assert_eq!(names, vec![OWNER, STRANGER]);

    // Roles: an editor may not change the ledger; the owner may, and may
    // demote; the last owner cannot go.
    app.patch(
        &format!("/v1/ledgers/{id}"),
        STRANGER,
        &json!({"name": "Mine"}),
        None,
    )
    .await
    .problem(403);
    let renamed = app
        .patch(
            &format!("/v1/ledgers/{id}"),
            OWNER,
            &json!({"home_currency": null}),
            None,
        )
        .await
        .expect_json(200);
    assert_eq!(
        (renamed["name"].clone(), renamed["home_currency"].clone()),
        (json!("Flat 3"), Value::Null)
    );
    let demoted = app
        .patch(
            &format!("/v1/ledgers/{id}/members/{STRANGER}"),
            OWNER,
            &json!({"role": "viewer"}),
            None,
        )
        .await
        .expect_json(200);
    assert_eq!(demoted["role"], "viewer");
    app.delete(&format!("/v1/ledgers/{id}/members/{OWNER}"), OWNER, None)
        .await
        .problem(409);

    // Leaving, then deleting: gone for every member.
    app.delete(
        &format!("/v1/ledgers/{id}/members/{STRANGER}"),
        STRANGER,
        None,
    )
    .await
    .assert_status(204);
    app.get(&format!("/v1/ledgers/{id}"), STRANGER)
        .await
        .problem(404);
    app.delete(&format!("/v1/ledgers/{id}"), OWNER, None)
        .await
        .assert_status(204);
    app.get(&format!("/v1/ledgers/{id}"), OWNER)
        .await
        .problem(404);
    app.delete(&format!("/v1/ledgers/{}", id_of(personal)), OWNER, None)
        .await
        .problem(409);
}

#[tokio::test]
async fn checks_run_in_the_contract_s_order() {
    let app = spawn_app(AppOptions::default()).await;
    let ledger = household(&app).await;
    let bad_body = json!({"name": 5, "x": 1});
    // A malformed id, a stranger and a removed member: 404, whatever the body.
    for (path, user) in [
        ("/v1/ledgers/not-an-id".to_owned(), OWNER),
        (format!("/v1/ledgers/{ledger}"), STRANGER),
        (format!("/v1/ledgers/{ledger}"), REMOVED),
        (format!("/v1/ledgers/{}", shared::domain::new_id()), OWNER),
    ] {
        app.patch(&path, user, &bad_body, None).await.problem(404);
    }
    // A member without the role: 403 before the body is looked at.
    app.patch(&format!("/v1/ledgers/{ledger}"), EDITOR, &bad_body, None)
        .await
        .problem(403);
    app.send_body(
        Method::PATCH,
        &format!("/v1/ledgers/{ledger}"),
        VIEWER,
        Some("text/plain"),
        "x",
    )
    .await
    .problem(403);
    // The owner: the request itself.
    app.patch(&format!("/v1/ledgers/{ledger}"), OWNER, &bad_body, None)
        .await
        .assert_invalid(&["name", "x"]);
    app.send_body(
        Method::PATCH,
        &format!("/v1/ledgers/{ledger}"),
        OWNER,
        Some("text/plain"),
        "x",
    )
    .await
    .problem(415);
    // Then the resource inside the ledger.
    app.patch(
        &format!("/v1/ledgers/{ledger}/members/nobody"),
        OWNER,
        &json!({"role": "viewer"}),
        None,
    )
    .await
    .problem(404);
    app.patch(
        &format!("/v1/ledgers/{ledger}/members/nobody"),
        OWNER,
        &json!({"role": "boss"}),
        None,
    )
    .await
    .assert_invalid(&["role"]);
    app.post_json(
        &format!("/v1/ledgers/{ledger}/invitations"),
        OWNER,
        &json!({"role": "owner"}),
    )
    .await
    .assert_invalid(&["role"]);
    app.post_json("/v1/invitations/accept", STRANGER, &json!({"code": 7}))
        .await
        .assert_invalid(&["code"]);
}

/// Every ledger operation × every kind of caller → the status it gets.
async fn authorisation_matrix(app: &TestApp) {
    let ledger = household(app).await;
    let base = format!("/v1/ledgers/{ledger}");
    let callers = [OWNER, EDITOR, VIEWER, STRANGER, REMOVED, INVITED];
    // (method, path, body, expected status for each caller above).
    let cases: Vec<(Method, String, Option<Value>, [u16; 6])> = vec![
        (
            Method::GET,
            base.clone(),
            None,
            [200, 200, 200, 404, 404, 404],
        ),
        (
            Method::GET,
            format!("{base}/members"),
            None,
            [200, 200, 200, 404, 404, 404],
        ),
        (
            Method::GET,
            format!("{base}/invitations"),
            None,
            [200, 403, 403, 404, 404, 404],
        ),
        // Refused writes first (each must change nothing); the allowed
        // ones are checked by the owner's column with a no-op body.
        (
            Method::PATCH,
            base.clone(),
            Some(json!({"name": "Flat 3"})),
            [200, 403, 403, 404, 404, 404],
        ),
        (
            Method::POST,
            format!("{base}/invitations"),
            Some(json!({"role": "viewer"})),
            [201, 403, 403, 404, 404, 404],
        ),
        (
            Method::PATCH,
            format!("{base}/members/{VIEWER}"),
            Some(json!({"role": "viewer"})),
            [200, 403, 403, 404, 404, 404],
        ),
        // The last owner cannot be removed; leaving is checked below.
        (
            Method::DELETE,
            format!("{base}/members/{OWNER}"),
            None,
            [409, 403, 403, 404, 404, 404],
        ),
        (
            Method::DELETE,
            format!("{base}/invitations/{}", shared::domain::new_id()),
            None,
            [404, 403, 403, 404, 404, 404],
        ),
        (
            Method::DELETE,
            base.clone(),
            None,
            [0, 403, 403, 404, 404, 404],
        ),
    ];
    for (method, path, body, expected) in &cases {
        for (caller, status) in callers.iter().zip(expected) {
            if *status == 0 {
                continue; // The owner's allowed destructive calls: below.
            }
            let before = state(app, &ledger).await;
            let resp = match body {
                Some(body) => {
                    app.send_body(
                        method.clone(),
                        path,
                        caller,
                        Some("application/json"),
                        body.to_string(),
                    )
                    .await
                }
                None => send(app.authed(method.clone(), path, caller)).await,
            };
            let resp = resp.context(format!("{method} {path} as {caller}"));
            resp.assert_status(*status);
            if *status >= 400 {
                resp.problem(*status);
                let mut after = state(app, &ledger).await;
                // Creating an invitation adds one; nothing else may change.
                after.2 = before.2.clone();
                assert_eq!(
                    after, before,
                    "{method} {path} as {caller} changed something"
                );
            }
        }
    }
    // Leaving, and the owner's destructive rights, last.
    app.delete(&format!("{base}/members/{VIEWER}"), VIEWER, None)
        .await
        .assert_status(204);
    app.delete(&format!("{base}/members/{EDITOR}"), OWNER, None)
        .await
        .assert_status(204);
    app.delete(&base, OWNER, None).await.assert_status(204);
    for caller in callers {
        app.get(&base, caller).await.problem(404);
    }
}

#[tokio::test]
async fn no_role_reaches_what_it_must_not_on_mariadb() {
    let app = spawn_app(AppOptions::default()).await;
    authorisation_matrix(&app).await;
}

#[tokio::test]
async fn no_role_reaches_what_it_must_not_on_sqlite() {
    let app = spawn_app(AppOptions::default().sqlite()).await;
    authorisation_matrix(&app).await;
}

#[tokio::test]
async fn racing_accepts_of_one_code_make_exactly_one_member() {
    let app = spawn_app(AppOptions::default()).await;
    let ledger = id_of(&create_ledger(&app, OWNER, "Race").await);
    let code = invite(&app, OWNER, &ledger, "viewer").await;
    let accepts: Vec<_> = (0..24)
        .map(|i| {
            app.authed(
                Method::POST,
                "/v1/invitations/accept",
                &format!("racer-{i}"),
            )
            .header("content-type", "application/json")
            .body(json!({"code": code}).to_string())
        })
        .collect();
    let statuses: Vec<u16> = all_at_once(accepts)
        .await
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 404),
        "{statuses:?}"
    );
    let members = app
        .get(&format!("/v1/ledgers/{ledger}/members"), OWNER)
        .await
        .expect_json(200);
    assert_eq!(members["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn many_concurrent_creators_lose_no_ledger() {
    let app = spawn_app(AppOptions::default()).await;
    // One user creating many at once, and many users creating one each.
    let creates: Vec<_> = (0..32)
        .map(|i| {
            let user = if i % 2 == 0 {
                "busy-user".to_owned()
            } else {
                format!("user-{i}")
            };
            app.authed(Method::POST, "/v1/ledgers", &user)
                .header("content-type", "application/json")
                .body(json!({"name": format!("L{i}")}).to_string())
        })
        .collect();
    for resp in all_at_once(creates).await {
        resp.assert_status(201);
    }
    let busy = app.get("/v1/ledgers", "busy-user").await.expect_json(200);
    assert_eq!(
        busy["items"].as_array().unwrap().len(),
        16 + 1,
        "16 and the personal one"
    );
    for i in (1..32).step_by(2) {
        let theirs = app
            .get("/v1/ledgers", &format!("user-{i}"))
            .await
            .expect_json(200);
        assert_eq!(theirs["items"].as_array().unwrap().len(), 2);
    }
}

#[tokio::test]
async fn concurrent_owner_writes_to_one_ledger_all_land() {
    let app = spawn_app(AppOptions::default()).await;
    let ledger = id_of(&create_ledger(&app, OWNER, "Busy").await);
    let base = format!("/v1/ledgers/{ledger}");
    let mut requests = Vec::new();
    for i in 0..16 {
        requests.push(
            app.authed(Method::POST, &format!("{base}/invitations"), OWNER)
                .header("content-type", "application/json")
                .body(json!({"role": "viewer"}).to_string()),
        );
        requests.push(
            app.authed(Method::PATCH, &base, OWNER)
                .header("content-type", "application/json")
                .body(json!({"name": format!("Busy {i}")}).to_string()),
        );
    }
    let statuses: Vec<u16> = all_at_once(requests)
        .await
        .iter()
        .map(|r| r.status)
        .collect();
    let expected: Vec<u16> = (0..16).flat_map(|_| [201, 200]).collect();
    assert_eq!(statuses, expected);
    let pending = app
        .get(&format!("{base}/invitations"), OWNER)
        .await
        .expect_json(200);
    assert_eq!(
        pending["items"].as_array().unwrap().len(),
        16,
        "no invitation lost"
    );
}

/// Sends every request at once; the answers in order.
pub async fn all_at_once(requests: Vec<reqwest::RequestBuilder>) -> Vec<Resp> {
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|r| tokio::spawn(send(r)))
        .collect();
    let mut answers = Vec::with_capacity(tasks.len());
    for task in tasks {
        answers.push(task.await.expect("a client panicked"));
    }
    answers
}

/// OWNER invites `user` into `ledger`, then makes them an owner too.
async fn make_owner(app: &TestApp, ledger: &str, user: &str) {
    let code = invite(app, OWNER, ledger, "editor").await;
    accept(app, user, &code).await.expect_json(200);
    app.patch(
        &format!("/v1/ledgers/{ledger}/members/{user}"),
        OWNER,
        &json!({"role": "owner"}),
        None,
    )
    .await
    .expect_json(200);
}

/// Many changes of one ledger's members at once, by its owners and by
/// members leaving: 20 accepts of 20 codes, then removals, departures,
/// role changes, revokes and two owners demoting each other, all at once.
/// No 5xx, every acknowledged change is in the final state, nothing else
/// changed, and the ledger keeps an owner.
#[tokio::test]
async fn concurrent_member_changes_all_land_and_keep_an_owner() {
    const SECOND: &str = "second-owner";
    const THIRD: &str = "third-owner";
    let app = spawn_app(AppOptions::default()).await;
    let ledger = id_of(&create_ledger(&app, OWNER, "Crowded").await);
    let base = format!("/v1/ledgers/{ledger}");
    for user in [SECOND, THIRD] {
        make_owner(&app, &ledger, user).await;
    }
    let members: Vec<String> = (0..20).map(|i| format!("crowd-{i:02}")).collect();
    let mut codes = Vec::new();
    for _ in &members {
        codes.push(invite(&app, OWNER, &ledger, "editor").await);
    }
    let accepts = members
        .iter()
        .zip(&codes)
        .map(|(user, code)| {
            app.authed(Method::POST, "/v1/invitations/accept", user)
                .header("content-type", "application/json")
                .body(json!({"code": code}).to_string())
        })
        .collect();
    for answer in all_at_once(accepts).await {
        answer.expect_json(200);
    }
    let unused: Vec<String> = {
        let mut ids = Vec::new();
        for _ in 0..10 {
            let made = app
                .post_json(
                    &format!("{base}/invitations"),
                    OWNER,
                    &json!({"role": "viewer"}),
                )
                .await
                .expect_json(201);
            ids.push(id_of(&made));
        }
        ids
    };

    let mut changes = Vec::new();
    let member_path = |user: &str| format!("{base}/members/{user}");
    for user in &members[0..8] {
        changes.push(app.authed(Method::DELETE, &member_path(user), OWNER));
    }
    for user in &members[8..14] {
        changes.push(app.authed(Method::DELETE, &member_path(user), user));
    }
    for user in &members[14..20] {
        changes.push(
            app.authed(Method::PATCH, &member_path(user), OWNER)
                .header("content-type", "application/json")
                .body(json!({"role": "viewer"}).to_string()),
        );
    }
    for id in &unused {
        changes.push(app.authed(Method::DELETE, &format!("{base}/invitations/{id}"), OWNER));
    }
    for (by, other) in [(SECOND, THIRD), (THIRD, SECOND)] {
        changes.push(
            app.authed(Method::PATCH, &member_path(other), by)
                .header("content-type", "application/json")
                .body(json!({"role": "editor"}).to_string()),
        );
    }
    let answers: Vec<u16> = all_at_once(changes)
        .await
        .iter()
        .map(|r| r.status)
        .collect();
    let (removals, rest) = answers.split_at(14);
    let (roles, rest) = rest.split_at(6);
    let (revokes, demotions) = rest.split_at(10);
    assert!(removals.iter().all(|s| *s == 204), "{removals:?}");
    assert!(roles.iter().all(|s| *s == 200), "{roles:?}");
    assert!(revokes.iter().all(|s| *s == 204), "{revokes:?}");
    // The owners demoting each other: the first to commit wins; the other
    // is then an editor (403) or would leave no owner (409).
    assert_eq!(
        demotions.iter().filter(|s| **s == 200).count(),
        1,
        "{demotions:?}"
    );
    assert!(
        demotions.iter().all(|s| [200, 403, 409].contains(s)),
        "{demotions:?}"
    );

    let listed = app
        .get(&format!("{base}/members"), OWNER)
        .await
        .expect_json(200);
    let roles: std::collections::BTreeMap<String, String> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (str_of(m, "user_id"), str_of(m, "role")))
        .collect();
    let mut expected: std::collections::BTreeMap<String, String> = members[14..20]
        .iter()
        .map(|u| (u.clone(), "viewer".to_owned()))
        .collect();
    let (won, lost) = if demotions[0] == 200 {
        (SECOND, THIRD)
    } else {
        (THIRD, SECOND)
    };
    expected.insert(OWNER.to_owned(), "owner".to_owned());
    expected.insert(won.to_owned(), "owner".to_owned());
    expected.insert(lost.to_owned(), "editor".to_owned());
    assert_eq!(roles, expected);
    let pending = app
        .get(&format!("{base}/invitations"), OWNER)
        .await
        .expect_json(200);
    assert_eq!(pending["items"], json!([]), "every revoke landed");
    for user in &members[0..14] {
        app.get(&base, user).await.problem(404);
    }
}

/// Ledgers deleted at once: 12 owners each deleting their own, and one
/// ledger deleted by its two owners at once (one 204, then 404).
#[tokio::test]
async fn concurrent_deletes_of_ledgers_each_end_once() {
    let app = spawn_app(AppOptions::default()).await;
    let owners: Vec<String> = (0..12).map(|i| format!("deleter-{i}")).collect();
    let mut ledgers = Vec::new();
    for owner in &owners {
        ledgers.push(id_of(&create_ledger(&app, owner, "Doomed").await));
    }
    let shared = id_of(&create_ledger(&app, OWNER, "Twice").await);
    make_owner(&app, &shared, EDITOR).await;
    let mut deletes: Vec<_> = owners
        .iter()
        .zip(&ledgers)
        .map(|(owner, id)| app.authed(Method::DELETE, &format!("/v1/ledgers/{id}"), owner))
        .collect();
    for user in [OWNER, EDITOR] {
        deletes.push(app.authed(Method::DELETE, &format!("/v1/ledgers/{shared}"), user));
    }
    let answers: Vec<u16> = all_at_once(deletes)
        .await
        .iter()
        .map(|r| r.status)
        .collect();
    assert!(answers[..12].iter().all(|s| *s == 204), "{answers:?}");
    let mut twice = answers[12..].to_vec();
    twice.sort();
    assert_eq!(twice, vec![204, 404]);
    for (owner, id) in owners.iter().zip(&ledgers) {
        app.get(&format!("/v1/ledgers/{id}"), owner)
            .await
            .problem(404);
        let left = app.get("/v1/ledgers", owner).await.expect_json(200);
        assert_eq!(
            left["items"].as_array().unwrap().len(),
            1,
            "the personal one"
        );
    }
    for user in [OWNER, EDITOR] {
        app.get(&format!("/v1/ledgers/{shared}"), user)
            .await
            .problem(404);
    }
}
