//! Expenses, categories, budgets and reports in a shared ledger, through
//! the real server: every resource route under `/v1/ledgers/{ledger_id}`
//! behaves as its route without it does in the personal ledger; members
//! read each other's writes (through the cache too); `created_by` and
//! `updated_by` name the writers; links keep the request's path shape;
//! idempotency keys are per user and ledger; an authorisation matrix over
//! every resource operation and every kind of caller, where a refused
//! request changes nothing; and removals and deletions racing writes.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::ledgers::{
    accept, all_at_once, create_ledger, household, invite, EDITOR, INVITED, OWNER, REMOVED,
    STRANGER, VIEWER,
};

fn expense(amount: &str) -> Value {
    expense_body(amount, "EUR", "2026-11-28")
}

/// A ledger shared by OWNER and EDITOR (an editor), and its path.
async fn pair(app: &TestApp, name: &str) -> (String, String) {
    let ledger = id_of(&create_ledger(app, OWNER, name).await);
    let code = invite(app, OWNER, &ledger, "editor").await;
    accept(app, EDITOR, &code).await.expect_json(200);
    let base = format!("/v1/ledgers/{ledger}");
    (ledger, base)
}

/// Everything in a ledger, as its owner reads it: what refused requests
/// must leave as it was.
async fn contents(app: &TestApp, base: &str) -> Value {
    let mut all = Vec::new();
    for path in [
        format!("{base}/expenses?limit=200"),
        format!("{base}/categories"),
        format!("{base}/budgets?month=2026-11"),
        format!("{base}/reports/summary"),
    ] {
        all.push(app.get(&path, OWNER).await.expect_json(200));
    }
    Value::Array(all)
}

async fn members_share_a_ledger(app: &TestApp) {
    let (ledger, base) = pair(app, "Household").await;
    // The owner files a category; the editor records an expense in it.
    let category = app
        .post_json(
            &format!("{base}/categories"),
            OWNER,
            &json!({"name": "Food"}),
        )
        .await;
    let category_id = id_of(&category.expect_json(201));
    assert_eq!(
        category.header("location"),
        Some(format!("{base}/categories/{category_id}").as_str()),
        "a ledger-scoped create links in the ledger"
    );
    let created = app
        .post_json(
            &format!("{base}/expenses"),
            EDITOR,
            &with(expense("12.30"), json!({"category_id": category_id})),
        )
        .await;
    let body = created.expect_json(201);
    let id = id_of(&body);
    assert_eq!(
        created.header("location"),
        Some(format!("{base}/expenses/{id}").as_str())
    );
    assert_eq!(
        (body["created_by"].as_str(), body["updated_by"].as_str()),
        (Some(EDITOR), Some(EDITOR))
    );
    // The owner reads it, changes it; the editor reads the change.
    let path = format!("{base}/expenses/{id}");
    assert_eq!(app.get(&path, OWNER).await.expect_json(200), body);
    let changed = app
        .patch(&path, OWNER, &json!({"amount": "15.00"}), None)
        .await
        .expect_json(200);
    assert_eq!(
        (
            changed["created_by"].as_str(),
            changed["updated_by"].as_str()
        ),
        (Some(EDITOR), Some(OWNER))
    );
    assert_eq!(app.get(&path, EDITOR).await.expect_json(200), changed);
    // Budgets and reports count the ledger's expenses for every member.
    app.put_json(
        &format!("{base}/budgets/{category_id}"),
        EDITOR,
        &json!({"amount": "10.00", "currency": "EUR"}),
    )
    .await
    .expect_json(200);
    let budgets = app
        .get(&format!("{base}/budgets?month=2026-11"), OWNER)
        .await
        .expect_json(200);
    assert_eq!(budgets["items"][0]["spent"], "15.00");
    assert_eq!(budgets["items"][0]["over"], true);
    let summary = app
        .get(&format!("{base}/reports/summary"), EDITOR)
        .await
        .expect_json(200);
    assert_eq!(
        summary["groups"],
        json!([{"key": category_id, "currency": "EUR", "total": "15.00", "count": 1}])
    );
    // The ledger's data is not the members' personal data, and an id from
    // another ledger is 404.
    let personal = app.create_expense(EDITOR, &expense("1.00")).await;
    assert_eq!(
        ids(&app.list_all(EDITOR, &[]).await),
        vec![id_of(&personal)]
    );
    let listed = app
        .get(&format!("{base}/expenses"), OWNER)
        .await
        .expect_json(200);
    assert_eq!(ids(listed["items"].as_array().unwrap()), vec![id.clone()]);
    app.get(&format!("{base}/expenses/{}", id_of(&personal)), EDITOR)
        .await
        .problem(404);
    app.get(&expense_path(&id), EDITOR).await.problem(404);
    // The CSV export of the ledger names its categories.
    let export = app
        .export_part(OWNER, &format!("{base}/expenses/export"))
        .await;
    let rows = parse_csv(&export.body);
    assert_eq!((rows.len(), rows[1][4].as_str()), (2, "Food"));
    app.send_body(
        Method::POST,
        &format!("{base}/expenses/import"),
        EDITOR,
        Some("text/csv"),
        "date,amount,currency,category\n2026-11-02,3.00,EUR,food\n",
    )
    .await
    .expect_json(201);
    let summary = app
        .get(&format!("{base}/reports/summary"), OWNER)
        .await
        .expect_json(200);
    assert_eq!(
        summary["groups"][0]["total"], "18.00",
        "the import filed under the ledger's Food"
    );
    // Deleting takes it away for every member.
    app.delete(&path, EDITOR, None).await.assert_status(204);
    app.get(&path, OWNER).await.problem(404);
    app.delete(&format!("{base}/categories/{category_id}"), OWNER, None)
        .await
        .assert_status(204);
    let _ = ledger;
}

#[tokio::test]
async fn members_share_a_ledger_on_mariadb_and_redis() {
    let app = spawn_app(AppOptions::default()).await;
    members_share_a_ledger(&app).await;
}

#[tokio::test]
async fn members_share_a_ledger_on_sqlite() {
    let app = spawn_app(AppOptions::default().sqlite().no_cache()).await;
    members_share_a_ledger(&app).await;
}

#[tokio::test]
async fn the_personal_ledger_by_its_id_is_the_routes_without_one() {
    let app = spawn_app(AppOptions::default()).await;
    let user = "personal-by-id";
    let mine = app.create_expense(user, &expense("4.00")).await;
    let ledgers = app.get("/v1/ledgers", user).await.expect_json(200);
    let personal = str_of(&ledgers["items"][0], "id");
    let base = format!("/v1/ledgers/{personal}");
    let listed = app
        .get(&format!("{base}/expenses"), user)
        .await
        .expect_json(200);
    assert_eq!(listed, app.list(user, &[]).await);
    let created = app
        .post_json(&format!("{base}/expenses"), user, &expense("5.00"))
        .await;
    let id = id_of(&created.expect_json(201));
    assert_eq!(
        created.header("location"),
        Some(format!("{base}/expenses/{id}").as_str())
    );
    assert_eq!(app.get_expense(user, &id).await["amount"], "5.00");
    assert_eq!(
        ids(&app.list_all(user, &[]).await),
        vec![id, id_of(&mine)],
        "one ledger, two ways to name it"
    );
    // Its owner's data only: a stranger naming it gets 404.
    app.get(&format!("{base}/expenses"), STRANGER)
        .await
        .problem(404);
}

#[tokio::test]
async fn idempotency_keys_are_per_user_and_ledger() {
    let app = spawn_app(AppOptions::default()).await;
    let (_, base) = pair(&app, "Keys").await;
    let post = |path: String, user: &'static str, key: &'static str| {
        let request = app
            .authed(Method::POST, &path, user)
            .header("content-type", "application/json")
            .header("idempotency-key", key)
            .body(expense("2.00").to_string());
        send(request)
    };
    let in_ledger = format!("{base}/expenses");
    let first = post(in_ledger.clone(), EDITOR, "k").await;
    let first_body = first.expect_json(201);
    let again = post(in_ledger.clone(), EDITOR, "k").await;
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.expect_json(201), first_body);
    // Another member, or the same user in their personal ledger: afresh.
    let owner = post(in_ledger.clone(), OWNER, "k").await;
    assert_eq!(owner.header("idempotent-replayed"), None);
    assert_ne!(id_of(&owner.expect_json(201)), id_of(&first_body));
    let personal = post("/v1/expenses".into(), EDITOR, "k").await;
    assert_eq!(personal.header("idempotent-replayed"), None);
    personal.assert_status(201);
    let listed = app
        .get(&format!("{in_ledger}?limit=200"), OWNER)
        .await
        .expect_json(200);
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);
    // Categories take a key too.
    let category = |user: &'static str| {
        send(
            app.authed(Method::POST, &format!("{base}/categories"), user)
                .header("content-type", "application/json")
                .header("idempotency-key", "c")
                .body(json!({"name": "Rent"}).to_string()),
        )
    };
    let made = category(EDITOR).await.expect_json(201);
    let replayed = category(EDITOR).await;
    assert_eq!(replayed.header("idempotent-replayed"), Some("true"));
    assert_eq!(replayed.expect_json(201), made);
    category(OWNER).await.problem(409);
}

/// A fresh expense and category (with a budget) of the ledger, made by its
/// owner, for a case to act on.
async fn fixture(app: &TestApp, base: &str) -> (String, String) {
    let category = app
        .post_json(
            &format!("{base}/categories"),
            OWNER,
            &json!({"name": unique_name()}),
        )
        .await
        .expect_json(201);
    let category = id_of(&category);
    app.put_json(
        &format!("{base}/budgets/{category}"),
        OWNER,
        &json!({"amount": "50.00", "currency": "EUR"}),
    )
    .await
    .expect_json(200);
    let expense = app
        .post_json(
            &format!("{base}/expenses"),
            OWNER,
            &with(expense("9.99"), json!({"category_id": category})),
        )
        .await
        .expect_json(201);
    (id_of(&expense), category)
}

/// Every resource operation in a ledger × every kind of caller → its
/// status; a refused request changes nothing.
async fn resource_matrix(app: &TestApp) {
    let ledger = household(app).await;
    let base = format!("/v1/ledgers/{ledger}");
    let callers = [OWNER, EDITOR, VIEWER, STRANGER, REMOVED, INVITED];
    let read = [200, 200, 200, 404, 404, 404];
    let write = |ok: u16| [ok, ok, 403, 404, 404, 404];
    type Case = (
        Method,
        &'static str,
        Option<(&'static str, String)>,
        [u16; 6],
    );
    // Paths name {e} (an expense) and {c} (a category), made afresh for
    // each call so that allowed destructive calls have something to act on.
    let json_body = |v: Value| Some(("application/json", v.to_string()));
    let cases: Vec<Case> = vec![
        (Method::GET, "/expenses", None, read),
        (Method::GET, "/expenses/{e}", None, read),
        (Method::GET, "/expenses/export", None, read),
        (Method::GET, "/categories", None, read),
        (Method::GET, "/categories/{c}", None, read),
        (Method::GET, "/budgets", None, read),
        (Method::GET, "/reports/summary", None, read),
        (
            Method::POST,
            "/expenses",
            json_body(expense("1.00")),
            write(201),
        ),
        (
            Method::POST,
            "/expenses/import",
            Some((
                "text/csv",
                "date,amount,currency\n2026-11-01,1.00,EUR\n".into(),
            )),
            write(201),
        ),
        (
            Method::PATCH,
            "/expenses/{e}",
            json_body(json!({"amount": "2.00"})),
            write(200),
        ),
        (Method::DELETE, "/expenses/{e}", None, write(204)),
        (
            Method::POST,
            "/categories",
            json_body(json!({"name": "{n}"})),
            write(201),
        ),
        (
            Method::PATCH,
            "/categories/{c}",
            json_body(json!({"color": "#123456"})),
            write(200),
        ),
        (Method::DELETE, "/categories/{c}", None, write(204)),
        (
            Method::PUT,
            "/budgets/{c}",
            json_body(json!({"amount": "7.00", "currency": "EUR"})),
            write(200),
        ),
        (Method::DELETE, "/budgets/{c}", None, write(204)),
        // The role is checked before the request itself: a viewer's bad
        // body is 403, not 422.
        (
            Method::POST,
            "/expenses",
            json_body(json!({"amount": 1})),
            [422, 422, 403, 404, 404, 404],
        ),
    ];
    for (method, template, body, expected) in &cases {
        for (caller, status) in callers.iter().zip(expected) {
            let (e, c) = fixture(app, &base).await;
            let path = format!("{base}{}", template.replace("{e}", &e).replace("{c}", &c));
            let before = contents(app, &base).await;
            let mut request = app.authed(method.clone(), &path, caller);
            if let Some((content_type, body)) = body {
                // `{n}`: a name no category has yet.
                let body = body.replace("{n}", &unique_name());
                request = request.header("content-type", *content_type).body(body);
            }
            let resp = send(request)
                .await
                .context(format!("{method} {path} as {caller}"));
            resp.assert_status(*status);
            if *status >= 400 {
                resp.problem(*status);
                assert_eq!(
                    contents(app, &base).await,
                    before,
                    "{method} {path} as {caller} changed something"
                );
            }
        }
    }
    // A malformed ledger id is 404 like any other.
    app.get("/v1/ledgers/not-an-id/expenses", OWNER)
        .await
        .problem(404);
}

#[tokio::test]
async fn no_role_reaches_what_it_must_not_in_a_ledger_on_mariadb() {
    let app = spawn_app(AppOptions::default()).await;
    resource_matrix(&app).await;
}

#[tokio::test]
async fn no_role_reaches_what_it_must_not_in_a_ledger_on_sqlite() {
    let app = spawn_app(AppOptions::default().sqlite()).await;
    resource_matrix(&app).await;
}

#[tokio::test]
async fn members_writing_at_once_read_each_other_s_writes() {
    let app = spawn_app(AppOptions::default()).await;
    let (_, base) = pair(&app, "Busy").await;
    let list = format!("{base}/expenses?limit=200");
    // Read after write across members, through the cache: each write
    // answers, then the other member's (cached) read must show it.
    for i in 0..10 {
        let (writer, reader) = if i % 2 == 0 {
            (OWNER, EDITOR)
        } else {
            (EDITOR, OWNER)
        };
        app.get(&list, reader).await.expect_json(200);
        let made = app
            .post_json(&format!("{base}/expenses"), writer, &expense("1.00"))
            .await
            .expect_json(201);
        let seen = app.get(&list, reader).await.expect_json(200);
        assert!(
            ids(seen["items"].as_array().unwrap()).contains(&id_of(&made)),
            "{reader} must read {writer}'s write at once"
        );
    }
    // Then many writes and reads by both at once: no 5xx, none lost.
    let mut requests = Vec::new();
    for i in 0..60 {
        let user = if i % 2 == 0 { OWNER } else { EDITOR };
        requests.push(
            app.authed(Method::POST, &format!("{base}/expenses"), user)
                .header("content-type", "application/json")
                .body(expense("2.00").to_string()),
        );
        requests.push(app.authed(Method::GET, &list, user));
    }
    let answers = all_at_once(requests).await;
    let created: Vec<String> = answers
        .iter()
        .step_by(2)
        .map(|r| id_of(&r.expect_json(201)))
        .collect();
    for r in answers.iter().skip(1).step_by(2) {
        r.assert_status(200);
    }
    for reader in [OWNER, EDITOR] {
        let seen = app.get(&list, reader).await.expect_json(200);
        let seen = ids(seen["items"].as_array().unwrap());
        assert_eq!(seen.len(), 70, "{reader} sees every write");
        assert!(created.iter().all(|id| seen.contains(id)));
    }
}

#[tokio::test]
async fn a_removed_member_reads_and_writes_nothing_from_the_moment_it_answers() {
    let app = spawn_app(AppOptions::default()).await;
    let (_, base) = pair(&app, "Leaving").await;
    let made = app
        .post_json(&format!("{base}/expenses"), EDITOR, &expense("3.00"))
        .await
        .expect_json(201);
    let path = format!("{base}/expenses/{}", id_of(&made));
    // Warm the editor's cached reads, then downgrade, then remove.
    app.get(&path, EDITOR).await.expect_json(200);
    app.patch(
        &format!("{base}/members/{EDITOR}"),
        OWNER,
        &json!({"role": "viewer"}),
        None,
    )
    .await
    .expect_json(200);
    app.post_json(&format!("{base}/expenses"), EDITOR, &expense("3.00"))
        .await
        .problem(403);
    app.get(&path, EDITOR).await.expect_json(200);
    app.delete(&format!("{base}/members/{EDITOR}"), OWNER, None)
        .await
        .assert_status(204);
    app.get(&path, EDITOR).await.problem(404);
    app.get(&format!("{base}/expenses"), EDITOR)
        .await
        .problem(404);
    app.delete(&path, EDITOR, None).await.problem(404);
    app.get(&path, OWNER).await.expect_json(200);
}

/// 40 writes by EDITOR with `end` (a removal or a deletion) among them,
/// all at once: each write is either stored and acknowledged, or refused
/// with 404 (none fails otherwise); once `end` has answered, EDITOR's
/// writes are refused. Answers how many were acknowledged.
async fn writes_racing(app: &TestApp, base: &str, end: reqwest::RequestBuilder) -> usize {
    let write = || {
        app.authed(Method::POST, &format!("{base}/expenses"), EDITOR)
            .header("content-type", "application/json")
            .body(expense("1.00").to_string())
    };
    let mut requests: Vec<reqwest::RequestBuilder> = (0..40).map(|_| write()).collect();
    requests.insert(20, end);
    let answers = all_at_once(requests).await;
    answers[20].assert_status(204);
    let mut acknowledged = 0;
    for (i, answer) in answers.iter().enumerate() {
        match answer.status {
            _ if i == 20 => {}
            201 => acknowledged += 1,
            404 => {
                answer.problem(404);
            }
            other => panic!("a racing write answered {other}: {}", answer.body),
        }
    }
    send(write()).await.problem(404);
    acknowledged
}

#[tokio::test]
async fn writes_racing_a_removal_are_stored_exactly_when_acknowledged() {
    let app = spawn_app(AppOptions::default()).await;
    let (_, base) = pair(&app, "Race").await;
    let removal = app.authed(Method::DELETE, &format!("{base}/members/{EDITOR}"), OWNER);
    let acknowledged = writes_racing(&app, &base, removal).await;
    let stored = app
        .get(&format!("{base}/expenses?limit=200"), OWNER)
        .await
        .expect_json(200);
    assert_eq!(
        stored["items"].as_array().unwrap().len(),
        acknowledged,
        "stored exactly the acknowledged writes"
    );
}

#[tokio::test]
async fn writes_racing_a_ledger_s_deletion_end_with_it() {
    let app = spawn_app(AppOptions::default()).await;
    let (_, base) = pair(&app, "Doomed").await;
    let deletion = app.authed(Method::DELETE, &base, OWNER);
    writes_racing(&app, &base, deletion).await;
    app.get(&format!("{base}/expenses"), OWNER)
        .await
        .problem(404);
}

/// A read in a ledger answers the ledger's 404 before its own 400 or 404,
/// however its membership was learnt (the cache or the database), on both
/// backends.
async fn reads_check_the_ledger_first(app: &TestApp) {
    let (_, base) = pair(app, "Order").await;
    let bad_query = format!("{base}/expenses?limit=0");
    let no_such = format!("{base}/expenses/0190aaaa-0000-7000-8000-000000000000");
    let malformed = format!("{base}/categories/not-an-id");
    let bad_month = format!("{base}/budgets?month=2026-13");
    for _ in 0..2 {
        // Twice: the second time from a warm cache.
        app.get(&bad_query, EDITOR).await.problem(400);
        app.get(&no_such, EDITOR).await.problem(404);
        app.get(&malformed, EDITOR).await.problem(404);
        app.get(&bad_month, EDITOR).await.problem(400);
        app.get(&format!("{base}/expenses"), EDITOR)
            .await
            .expect_json(200);
        for path in [&bad_query, &bad_month] {
            let refused = app.get(path, STRANGER).await.problem(404);
            assert!(refused.get("errors").is_none(), "{path}: {refused}");
        }
        app.get("/v1/ledgers/not-an-id/expenses?limit=0", EDITOR)
            .await
            .problem(404);
    }
}

#[tokio::test]
async fn reads_check_the_ledger_first_on_mariadb_and_redis() {
    reads_check_the_ledger_first(&spawn_app(AppOptions::default()).await).await;
}

#[tokio::test]
async fn reads_check_the_ledger_first_on_sqlite() {
    reads_check_the_ledger_first(&spawn_app(AppOptions::default().sqlite()).await).await;
}
