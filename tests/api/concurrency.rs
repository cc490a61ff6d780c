//! Concurrency is normal use: 64 clients writing at once, for one user and
//! for many, on every write route. No answer is a 5xx, and every write
//! that was acknowledged is found afterwards. (On MariaDB these used to
//! deadlock: a tag rewrite's range delete and REPEATABLE READ's gap locks
//! made creates of different users, updates and category deletions wait
//! on each other.)

use std::collections::{HashMap, HashSet};

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

const WRITERS: usize = 64;

/// Runs `WRITERS` copies of `work` at once (each given its index) and
/// returns their results in index order.
async fn all_at_once<F, Fut, T>(work: F) -> Vec<T>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let tasks: Vec<_> = (0..WRITERS).map(|i| tokio::spawn(work(i))).collect();
    let mut results = Vec::with_capacity(WRITERS);
    for task in tasks {
        results.push(task.await.expect("a writer panicked"));
    }
    results
}

/// The writes above were not merely rescued by the store's retry: no
/// transaction deadlocked or timed out waiting for a lock at all.
fn assert_no_transaction_was_retried(app: &TestApp) {
    let retried: Vec<String> = app
        .output()
        .into_iter()
        .filter(|line| line.contains("retrying a transaction"))
        .collect();
    assert!(
        retried.is_empty(),
        "transactions were retried: {retried:#?}"
    );
}

/// `WRITERS` clients each create `each` expenses (with tags, some in
/// `category`) for `user_of(i)`; all must answer 201. Returns each user's
/// acknowledged ids.
async fn create_many(
    app: &TestApp,
    each: usize,
    category: &str,
    user_of: fn(usize) -> String,
) -> HashMap<String, HashSet<String>> {
    let results = all_at_once(|i| {
        let requests: Vec<_> = (0..each)
            .map(|n| {
                let mut body = with(
                    expense_body("1.25", "EUR", &format!("2026-05-{:02}", 1 + (i + n) % 28)),
                    json!({"tags": ["common", format!("t{}", n % 3)]}),
                );
                if n % 2 == 0 {
                    body["category_id"] = json!(category);
                }
                app.authed(Method::POST, "/v1/expenses", &user_of(i))
                    .json(&body)
            })
            .collect();
        async move {
            let mut made = Vec::new();
            for request in requests {
                let resp = send(request).await;
                let body = resp.expect_json(201);
                made.push(id_of(&body));
            }
            (i, made)
        }
    })
    .await;
    let mut by_user: HashMap<String, HashSet<String>> = HashMap::new();
    for (i, made) in results {
        by_user.entry(user_of(i)).or_default().extend(made);
    }
    by_user
}

async fn every_create_is_found(app: &TestApp) {
    // One user, 64 clients; the category's owner is that user.
    let one = |_: usize| "crowd-one".to_owned();
    let category = app.create_category(&one(0), "Shared").await;
    let made = create_many(app, 6, &id_of(&category), one).await;
    let listed: HashSet<String> = ids(&app.list_all(&one(0), &[]).await).into_iter().collect();
    assert_eq!(
        listed,
        made[&one(0)],
        "every acknowledged create, and no other"
    );
    assert_eq!(made[&one(0)].len(), WRITERS * 6);
    let tagged = app.list_all(&one(0), &[("tag", "common")]).await;
    assert_eq!(tagged.len(), WRITERS * 6, "every create's tags stored");

    // 64 users, one client each. Each has a category of its own.
    let many = |i: usize| format!("crowd-{i}");
    let mut categories = Vec::new();
    for i in 0..WRITERS {
        categories.push(id_of(&app.create_category(&many(i), "Own").await));
    }
    let results = all_at_once(|i| {
        let requests: Vec<_> = (0..4)
            .map(|n| {
                let body = with(
                    expense_body("2.50", "USD", "2026-06-01"),
                    json!({"tags": [format!("n{n}")], "category_id": categories[i]}),
                );
                app.authed(Method::POST, "/v1/expenses", &many(i))
                    .json(&body)
            })
            .collect();
        async move {
            let mut made = HashSet::new();
            for request in requests {
                made.insert(id_of(&send(request).await.expect_json(201)));
            }
            made
        }
    })
    .await;
    for (i, made) in results.into_iter().enumerate() {
        let listed: HashSet<String> = ids(&app.list_all(&many(i), &[]).await)
            .into_iter()
            .collect();
        assert_eq!(listed, made, "{}'s acknowledged creates", many(i));
    }
    assert_no_transaction_was_retried(app);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_creating_clients_lose_nothing_on_mariadb() {
    every_create_is_found(&spawn_app(AppOptions::default()).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_creating_clients_lose_nothing_on_sqlite() {
    every_create_is_found(&spawn_app(AppOptions::default().sqlite().no_cache()).await).await;
}

/// Racing conditional updates (each changing tags) and deletes of the
/// same expenses: each answer is a success, 412 (someone else won) or 404
/// (deleted); the stored state is the last acknowledged one.
async fn racing_updates_and_deletes(app: &TestApp) {
    const USER: &str = "racer";
    let mut targets = Vec::new();
    for n in 0..16 {
        let body = with(
            expense_body("3.00", "EUR", "2026-07-01"),
            json!({"tags": ["start", format!("own{n}")]}),
        );
        targets.push(
            app.post_json("/v1/expenses", USER, &body)
                .await
                .expect_json(201),
        );
    }
    let results = all_at_once(|i| {
        let target = targets[i % targets.len()].clone();
        let id = id_of(&target);
        let read = app.authed(Method::GET, &expense_path(&id), USER);
        let app_client = (app.url(&expense_path(&id)), app.token(USER));
        async move {
            let client = http_client();
            let (url, token) = app_client;
            let mut outcomes = Vec::new();
            for round in 0..3 {
                let current = send(read.try_clone().expect("a GET can be cloned")).await;
                if current.status == 404 {
                    outcomes.push((404, None));
                    break;
                }
                let etag = current.header("etag").expect("an ETag").to_owned();
                let request = if i % 8 == 7 && round == 2 {
                    client.delete(&url)
                } else {
                    client
                        .patch(&url)
                        .header("content-type", "application/merge-patch+json")
                        .body(
                            json!({
                                "amount": format!("{}.00", 4 + i),
                                "tags": [format!("w{i}"), format!("r{round}"), "start"],
                            })
                            .to_string(),
                        )
                };
                let resp = send(request.bearer_auth(&token).header("if-match", etag)).await;
                assert!(
                    matches!(resp.status, 200 | 204 | 404 | 412),
                    "{}: {} {}",
                    resp.what,
                    resp.status,
                    resp.body
                );
                outcomes.push((resp.status, (resp.status == 200).then(|| resp.json())));
            }
            (id, outcomes)
        }
    })
    .await;
    let mut deleted = HashSet::new();
    let mut last: HashMap<String, Value> = HashMap::new();
    for (id, outcomes) in results {
        for (status, body) in outcomes {
            if status == 204 {
                deleted.insert(id.clone());
            }
            if let Some(body) = body {
                let newer = last
                    .get(&id)
                    .is_none_or(|seen| seen["version"].as_i64() < body["version"].as_i64());
                if newer {
                    last.insert(id.clone(), body);
                }
            }
        }
    }
    for target in &targets {
        let id = id_of(target);
        let stored = app.get(&expense_path(&id), USER).await;
        if deleted.contains(&id) {
            stored.assert_status(404);
            continue;
        }
        let expected = last.get(&id).unwrap_or(target);
        assert_eq!(
            &stored.expect_json(200),
            expected,
            "the last acknowledged update of {id}"
        );
        // The tag rows follow the expense's tags.
        for tag in expected["tags"].as_array().into_iter().flatten() {
            let tag = tag.as_str().expect("a tag");
            let tagged = ids(&app.list_all(USER, &[("tag", tag)]).await);
            assert!(tagged.contains(&id), "{id} is listed under its tag {tag}");
        }
    }
    let all_updated: Vec<Value> = app.list_all(USER, &[("tag", "start")]).await;
    assert_eq!(
        all_updated.len(),
        targets.len() - deleted.len(),
        "every remaining expense keeps its tag `start`"
    );
    assert_no_transaction_was_retried(app);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_updates_and_deletes_keep_the_last_acknowledged_state_on_mariadb() {
    racing_updates_and_deletes(&spawn_app(AppOptions::default()).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_updates_and_deletes_keep_the_last_acknowledged_state_on_sqlite() {
    racing_updates_and_deletes(&spawn_app(AppOptions::default().sqlite().no_cache()).await).await;
}

/// 64 imports of 50 rows at once, all naming the same five new categories
/// (in different cases): every import is created, each category once.
async fn imports_naming_the_same_new_categories(app: &TestApp) {
    const USER: &str = "importer";
    const NAMES: [&str; 5] = ["Food", "Rent", "Travel", "Books", "Games"];
    let results = all_at_once(|i| {
        let mut csv = csv_record(&["date", "amount", "currency", "category", "tags"]);
        for row in 0..50 {
            let name = NAMES[(i + row) % NAMES.len()];
            let name = if i % 2 == 0 {
                name.to_uppercase()
            } else {
                name.to_owned()
            };
            csv.push_str(&csv_record(&[
                &format!("2026-08-{:02}", 1 + row % 28),
                "1.00",
                "EUR",
                &name,
                &format!("i{i}"),
            ]));
        }
        let request = app
            .authed(Method::POST, "/v1/expenses/import", USER)
            .header("content-type", "text/csv")
            .body(csv);
        send(request)
    })
    .await;
    for resp in &results {
        assert_eq!(
            resp.expect_json(201),
            json!({"imported": 50}),
            "{}",
            resp.what
        );
    }
    let categories = app.categories(USER).await;
    assert_eq!(
        categories.len(),
        NAMES.len(),
        "each name once: {categories:?}"
    );
    let mut total = 0;
    for category in &categories {
        total += app
            .list_all(USER, &[("category_id", &id_of(category))])
            .await
            .len();
    }
    assert_eq!(total, WRITERS * 50, "every imported row, in its category");
    for i in [0, WRITERS - 1] {
        let tagged = app.list_all(USER, &[("tag", &format!("i{i}"))]).await;
        assert_eq!(tagged.len(), 50, "import {i}'s rows");
    }
    assert_no_transaction_was_retried(app);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_imports_naming_the_same_new_categories_on_mariadb() {
    imports_naming_the_same_new_categories(&spawn_app(AppOptions::default()).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_imports_naming_the_same_new_categories_on_sqlite() {
    imports_naming_the_same_new_categories(
        &spawn_app(AppOptions::default().sqlite().no_cache()).await,
    )
    .await;
}

/// Creates into a category, budgets on it and the category's deletion, all
/// at once: creates answer 201 (or 422 once the category is gone), and an
/// acknowledged expense survives the deletion, uncategorised.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_category_deleted_while_clients_write_into_it_on_mariadb() {
    const USER: &str = "deleter";
    let app = spawn_app(AppOptions::default()).await;
    let category = id_of(&app.create_category(USER, "Doomed").await);
    let results = all_at_once(|i| {
        let request = match i {
            0 => app.authed(Method::DELETE, &category_path(&category), USER),
            i if i % 4 == 1 => app
                .authed(Method::PUT, &budget_path(&category), USER)
                .json(&json!({"amount": format!("{i}.00"), "currency": "EUR"})),
            _ => app.authed(Method::POST, "/v1/expenses", USER).json(&with(
                expense_body("5.00", "EUR", "2026-09-09"),
                json!({"category_id": category, "tags": ["doomed"]}),
            )),
        };
        async move { (i, send(request).await) }
    })
    .await;
    let mut created = HashSet::new();
    for (i, resp) in &results {
        let allowed: &[u16] = match i {
            0 => &[204],
            // 404: the category is gone.
            i if i % 4 == 1 => &[200, 404],
            _ => &[201, 422],
        };
        assert!(
            allowed.contains(&resp.status),
            "{}: {} {}",
            resp.what,
            resp.status,
            resp.body
        );
        if resp.status == 201 && i % 4 != 1 {
            created.insert(id_of(&resp.json()));
        }
    }
    let listed: HashSet<String> = ids(&app.list_all(USER, &[("tag", "doomed")]).await)
        .into_iter()
        .collect();
    assert_eq!(listed, created, "every acknowledged create");
    for item in app.list_all(USER, &[]).await {
        assert_eq!(
            item["category_id"],
            Value::Null,
            "the category is gone: {item}"
        );
    }
    app.get(&category_path(&category), USER)
        .await
        .assert_status(404);
    assert_no_transaction_was_retried(&app);
}
