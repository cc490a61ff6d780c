//! The Redis cache: reads always follow the caller's writes, repeated reads
//! are served from Redis, and a dead or silent Redis only costs latency.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::helpers::*;

const USER: &str = "cached";

/// Asserts that the list (one page of up to 200) holds exactly `expected`
/// ids, and that the item with `id` (if given) equals `item`.
async fn assert_listed(app: &TestApp, expected: &[String], item: Option<&Value>, what: &str) {
    let page = app.list(USER, &[("limit", "200")]).await;
    let items = page["items"].as_array().cloned().unwrap_or_default();
    let mut listed = ids(&items);
    listed.sort();
    let mut wanted = expected.to_vec();
    wanted.sort();
    assert_eq!(
        listed, wanted,
        "{what}: the list must show exactly the live expenses"
    );
    if let Some(item) = item {
        let id = id_of(item);
        let found = items.iter().find(|i| id_of(i) == id);
        assert_eq!(
            found,
            Some(item),
            "{what}: the list must show the latest state of {id}"
        );
    }
}

#[tokio::test]
async fn every_read_sees_the_write_before_it() {
    let app = spawn_app(AppOptions::default()).await;
    let first = app
        .create_expense(
            USER,
            &with(
                expense_body("1.00", "EUR", "2026-05-01"),
                json!({"merchant": "m000-x"}),
            ),
        )
        .await;
    let id = id_of(&first);
    let path = expense_path(&id);
    let mut live = vec![id.clone()];
    // Warm the cache with the first state.
    assert_eq!(app.get_expense(USER, &id).await, first);
    assert_listed(&app, &live, Some(&first), "before any patch").await;

    for i in 1..=200_i64 {
        let merchant = format!("m{i:03}-x");
        let patched = app
            .patch(
                &path,
                USER,
                &json!({"amount": format!("{i}.00"), "merchant": merchant}),
                None,
            )
            .await
            .expect_json(200);
        assert_eq!(patched["version"], i + 1, "iteration {i}: version");
        let what = format!("iteration {i}");
        assert_eq!(
            app.get_expense(USER, &id).await,
            patched,
            "{what}: GET right after PATCH is stale"
        );
        assert_listed(&app, &live, Some(&patched), &what).await;
        let found = app.list(USER, &[("q", merchant.as_str())]).await;
        assert_eq!(
            ids(found["items"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()),
            vec![id.clone()],
            "{what}: a search for the new merchant must find it"
        );
        if i % 20 == 0 {
            let extra = app
                .create_expense(USER, &expense_body("2.00", "EUR", "2026-05-02"))
                .await;
            live.push(id_of(&extra));
            assert_listed(
                &app,
                &live,
                Some(&extra),
                &format!("{what}, after a create"),
            )
            .await;
        }
        if i % 40 == 0 {
            let gone = live.pop().expect("an extra expense");
            app.delete(&expense_path(&gone), USER, None)
                .await
                .assert_status(204);
            app.get(&expense_path(&gone), USER).await.problem(404);
            assert_listed(&app, &live, None, &format!("{what}, after a delete")).await;
        }
    }

    let keys = redis_keys(&test_redis_url(), &app.cache_prefix).await;
    assert!(
        !keys.is_empty(),
        "the app wrote no Redis key under its CACHE_KEY_PREFIX {}",
        app.cache_prefix
    );
}

#[tokio::test]
async fn repeated_reads_are_served_from_redis() {
    let redis = RedisServer::start().await;
    let app = spawn_app(AppOptions::default().redis_url(&redis.url)).await;
    let created = app
        .create_expense(USER, &expense_body("3.00", "USD", "2026-05-01"))
        .await;
    let id = id_of(&created);
    // The first read may miss and fill the cache.
    assert_eq!(app.get_expense(USER, &id).await, created);
    app.list(USER, &[]).await;

    let before = redis_stat(&redis.url, "keyspace_hits").await;
    for _ in 0..10 {
        assert_eq!(app.get_expense(USER, &id).await, created);
    }
    let after = redis_stat(&redis.url, "keyspace_hits").await;
    assert!(
        after >= before + 10,
        "10 repeated GETs of one expense must each hit Redis: keyspace_hits went {before} → {after}"
    );

    let keys = redis_keys(&redis.url, "").await;
    assert!(!keys.is_empty(), "the app stored nothing in Redis");
    let stray: Vec<&String> = keys
        .iter()
        .filter(|k| !k.starts_with(&app.cache_prefix))
        .collect();
    assert!(
        stray.is_empty(),
        "every key must start with CACHE_KEY_PREFIX {}; found {stray:?}",
        app.cache_prefix
    );
}

#[tokio::test]
async fn requests_succeed_when_redis_dies_mid_run() {
    let mut redis = RedisServer::start().await;
    let app = spawn_app(AppOptions::default().redis_url(&redis.url)).await;
    let health = app.health().await;
    assert_eq!(health["checks"]["cache"], "ok", "Redis is up: {health}");

    let mut live: Vec<String> = Vec::new();
    for i in 0..60 {
        if i == 20 {
            redis.kill();
        }
        let what = format!(
            "iteration {i}{}",
            if i >= 20 { " (Redis dead)" } else { "" }
        );
        let created = app
            .create_expense(
                USER,
                &with(
                    expense_body("5.00", "USD", "2026-05-03"),
                    json!({"merchant": format!("r{i}")}),
                ),
            )
            .await;
        let id = id_of(&created);
        live.push(id.clone());
        assert_eq!(
            app.get_expense(USER, &id).await,
            created,
            "{what}: GET after create"
        );
        let patched = app
            .patch(
                &expense_path(&id),
                USER,
                &json!({"description": format!("d{i}")}),
                None,
            )
            .await
            .expect_json(200);
        assert_eq!(
            app.get_expense(USER, &id).await,
            patched,
            "{what}: GET after patch"
        );
        assert_listed(&app, &live, Some(&patched), &what).await;
        if i % 10 == 9 {
            let gone = live.remove(0);
            app.delete(&expense_path(&gone), USER, None)
                .await
                .assert_status(204);
            app.get(&expense_path(&gone), USER).await.problem(404);
            assert_listed(&app, &live, None, &format!("{what}, after a delete")).await;
        }
    }

    let health = app.health().await;
    assert_eq!(
        health,
        json!({"status": "ok", "checks": {"database": "ok", "cache": "unavailable"}}),
        "with Redis dead, health is still 200 and says so"
    );
}

/// A TCP server that accepts connections and never answers: a hung Redis.
struct BlackHole {
    url: String,
    task: JoinHandle<()>,
}

impl BlackHole {
    async fn start() -> BlackHole {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a local port");
        let port = listener.local_addr().expect("its address").port();
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                held.push(stream);
            }
        });
        BlackHole {
            url: format!("redis://127.0.0.1:{port}"),
            task,
        }
    }
}

impl Drop for BlackHole {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Sends one request, asserting it answers well within 2 s.
async fn within_2s<T>(what: &str, request: impl std::future::Future<Output = T>) -> T {
    let started = Instant::now();
    let answer = tokio::time::timeout(Duration::from_secs(10), request)
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer within 10 s while Redis is silent"));
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(2),
        "{what} took {took:?} while Redis is silent"
    );
    answer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_succeed_quickly_when_redis_never_answers() {
    let hole = BlackHole::start().await;
    let app = spawn_app(AppOptions::default().redis_url(&hole.url)).await;
    let mut live: Vec<String> = Vec::new();
    let mut requests = 0;
    while requests < 50 {
        let i = requests;
        let created = within_2s(
            "create",
            app.create_expense(
                USER,
                &with(
                    expense_body("6.00", "USD", "2026-05-04"),
                    json!({"merchant": format!("h{i}")}),
                ),
            ),
        )
        .await;
        let id = id_of(&created);
        live.push(id.clone());
        let fetched = within_2s("get", app.get_expense(USER, &id)).await;
        assert_eq!(fetched, created);
        let patched = within_2s(
            "patch",
            app.patch(
                &expense_path(&id),
                USER,
                &json!({"merchant": format!("h{i}-patched")}),
                None,
            ),
        )
        .await
        .expect_json(200);
        let page = within_2s("list", app.list(USER, &[("limit", "200")])).await;
        assert_eq!(
            page["items"][0], patched,
            "the newest expense leads the list in its latest state"
        );
        assert_eq!(page["items"].as_array().map(Vec::len), Some(live.len()));
        let health = within_2s("health", app.health()).await;
        assert_eq!(
            health,
            json!({"status": "ok", "checks": {"database": "ok", "cache": "unavailable"}}),
            "a silent Redis is reported as unavailable"
        );
        requests += 5;
    }
}

/// Calls per command so far, from `INFO commandstats`, without INFO and
/// PING (which `redis_connection`, used to read the stats, sends).
async fn command_calls(url: &str) -> std::collections::HashMap<String, u64> {
    redis_info(url, "commandstats")
        .await
        .lines()
        .filter_map(|line| {
            let (name, stats) = line.trim().strip_prefix("cmdstat_")?.split_once(':')?;
            let calls = stats.split(',').find_map(|s| s.strip_prefix("calls="))?;
            Some((name.to_owned(), calls.parse().ok()?))
        })
        .filter(|(name, _)| name != "info" && name != "ping")
        .collect()
}

fn delta(
    before: &std::collections::HashMap<String, u64>,
    after: &std::collections::HashMap<String, u64>,
) -> std::collections::HashMap<String, u64> {
    after
        .iter()
        .map(|(name, n)| (name.clone(), n - before.get(name).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// A cached read costs Redis one command (the generation and the entry in
/// one MGET), and concurrent misses of one entry are computed and stored
/// once in a process, the other requests waiting for that result.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cached_read_is_one_round_trip_and_a_miss_is_computed_once() {
    let redis = RedisServer::start().await;
    let app = spawn_app(AppOptions::default().redis_url(&redis.url)).await;
    let created = app
        .create_expense(USER, &expense_body("3.00", "USD", "2026-05-01"))
        .await;
    let id = id_of(&created);
    assert_eq!(
        app.get_expense(USER, &id).await,
        created,
        "the filling read"
    );

    let before = command_calls(&redis.url).await;
    for _ in 0..10 {
        assert_eq!(app.get_expense(USER, &id).await, created);
    }
    let used = delta(&before, &command_calls(&redis.url).await);
    assert_eq!(
        used,
        [("mget".to_owned(), 10)].into_iter().collect(),
        "10 cached reads, 10 commands in all"
    );

    // Enough rows that a summary takes a while to compute, so that the
    // concurrent requests below all miss.
    for _ in 0..4 {
        let mut csv = csv_record(&["date", "amount", "currency", "merchant"]);
        for i in 0..5000 {
            csv.push_str(&csv_record(&[
                &format!("2026-04-{:02}", 1 + i % 28),
                "1.00",
                "EUR",
                &format!("m{}", i % 100),
            ]));
        }
        app.import_csv_ok(USER, csv, 5000).await;
    }
    let before = command_calls(&redis.url).await;
    let requests: Vec<_> = (0..32)
        .map(|_| {
            let request = app
                .authed(Method::GET, "/v1/reports/summary", USER)
                .query(&[("group_by", "merchant")]);
            tokio::spawn(send(request))
        })
        .collect();
    let mut bodies = Vec::new();
    for request in requests {
        bodies.push(request.await.expect("a request task").expect_json(200));
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "one answer");
    let used = delta(&before, &command_calls(&redis.url).await);
    let stored = used.get("setex").or(used.get("set")).copied().unwrap_or(0);
    println!("32 concurrent misses of one summary stored it {stored} time(s): {used:?}");
    // Once, unless a request missed just before the entry was stored and
    // looked for a computation just after it ended: rare, and still not 32.
    assert!(
        (1..=3).contains(&stored),
        "32 concurrent misses computed and stored the summary {stored} times: {used:?}"
    );
}

/// Under `/v1/ledgers/{id}` a cached read learns the caller's membership
/// in the MGET that fetches its body: one command. The membership stays
/// cached across the ledger's data writes (its generation is the
/// members'), and any change of members stops every cached membership at
/// once: shown by taking a member out of the database behind the server's
/// back (still served from the cache) until an owner's change of another
/// member's role moves the members' generation (then 404).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cached_read_in_a_ledger_learns_the_membership_in_the_same_round_trip() {
    use crate::ledgers::{accept, create_ledger, invite, EDITOR, OWNER, VIEWER};
    use mysql_async::prelude::Queryable;

    let redis = RedisServer::start().await;
    let app = spawn_app(AppOptions::default().redis_url(&redis.url)).await;
    let ledger = id_of(&create_ledger(&app, OWNER, "Cached").await);
    for (user, role) in [(EDITOR, "editor"), (VIEWER, "viewer")] {
        let code = invite(&app, OWNER, &ledger, role).await;
        accept(&app, user, &code).await.expect_json(200);
    }
    let base = format!("/v1/ledgers/{ledger}");
    let made = app
        .post_json(
            &format!("{base}/expenses"),
            OWNER,
            &expense_body("3.00", "EUR", "2026-11-02"),
        )
        .await
        .expect_json(201);
    let path = format!("{base}/expenses/{}", id_of(&made));
    assert_eq!(
        app.get(&path, EDITOR).await.expect_json(200),
        made,
        "the filling read"
    );

    let before = command_calls(&redis.url).await;
    for _ in 0..10 {
        assert_eq!(app.get(&path, EDITOR).await.expect_json(200), made);
    }
    let used = delta(&before, &command_calls(&redis.url).await);
    assert_eq!(
        used,
        [("mget".to_owned(), 10)].into_iter().collect(),
        "10 cached reads in a shared ledger, membership included: 10 commands"
    );

    // The personal ledger through its id: the membership in the ledger's
    // namespace, the body under its owner's: two.
    let personal = app.get("/v1/ledgers", OWNER).await.expect_json(200)["items"][0]["id"]
        .as_str()
        .expect("the personal ledger's id")
        .to_owned();
    let own = app
        .create_expense(OWNER, &expense_body("4.00", "EUR", "2026-11-03"))
        .await;
    let own_path = format!("/v1/ledgers/{personal}/expenses/{}", id_of(&own));
    assert_eq!(app.get(&own_path, OWNER).await.expect_json(200), own);
    let before = command_calls(&redis.url).await;
    for _ in 0..10 {
        assert_eq!(app.get(&own_path, OWNER).await.expect_json(200), own);
    }
    let used = delta(&before, &command_calls(&redis.url).await);
    assert_eq!(used, [("mget".to_owned(), 20)].into_iter().collect());

    // Behind the server's back, EDITOR stops being a member: the cached
    // membership still serves, also after a data write by the owner.
    let url = app.database_url().expect("MariaDB");
    let mut conn = mysql_async::Conn::from_url(url)
        .await
        .expect("a connection");
    conn.exec_drop(
        "DELETE FROM ledger_members WHERE ledger_id = ? AND user_id = ?",
        (ledger.as_str(), EDITOR),
    )
    .await
    .expect("the member row deleted");
    conn.disconnect().await.expect("disconnected");
    app.post_json(
        &format!("{base}/expenses"),
        OWNER,
        &expense_body("5.00", "EUR", "2026-11-04"),
    )
    .await
    .expect_json(201);
    let page = app
        .get(&format!("{base}/expenses"), EDITOR)
        .await
        .expect_json(200);
    assert_eq!(
        page["items"].as_array().map(Vec::len),
        Some(2),
        "a new body, computed under the cached membership"
    );
    // A change of members (another member's role) moves the members'
    // generation: the database is asked again, and says no.
    app.patch(
        &format!("{base}/members/{VIEWER}"),
        OWNER,
        &json!({"role": "editor"}),
        None,
    )
    .await
    .expect_json(200);
    app.get(&path, EDITOR).await.problem(404);
    app.get(&format!("{base}/expenses"), EDITOR)
        .await
        .problem(404);
    assert_eq!(app.get(&path, VIEWER).await.expect_json(200), made);
}
