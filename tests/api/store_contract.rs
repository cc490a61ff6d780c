//! The store contract: one suite, run against SQLite and against MariaDB
//! (with MySQL 8's sql_mode), straight through the `Store` trait.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use shared::config::{DB_CONNECT_TIMEOUT, DB_STATEMENT_TIMEOUT};
use shared::domain::expense::{parse_new, Expense};
use shared::domain::filter::ListQuery;
use shared::domain::{new_id, now_micros, UserId};
use shared::store::migrate::MYSQL as MIGRATIONS;
use shared::store::mysql::{MysqlBackend, MysqlSettings};
use shared::store::{
    cursor_after, Actor, Completion, DynStore, SqlStore, Store, StoreError, StoredResponse,
    WriteOutcome,
};

use crate::helpers::{TestDb, SQL_MODE};

fn mysql_settings(db: &TestDb) -> MysqlSettings {
    MysqlSettings {
        url: db.url.clone(),
        pool_max: 4,
        sql_mode: Some(SQL_MODE.into()),
        connect_timeout: DB_CONNECT_TIMEOUT,
        statement_timeout: DB_STATEMENT_TIMEOUT,
        iam_auth: false,
        ca_bundle: None,
    }
}

fn sqlite() -> DynStore {
    Arc::new(SqlStore::sqlite(":memory:", DB_STATEMENT_TIMEOUT).unwrap())
}

fn mysql(db: &TestDb) -> DynStore {
    Arc::new(SqlStore::new(
        Arc::new(MysqlBackend::new(&mysql_settings(db)).unwrap()),
        DB_STATEMENT_TIMEOUT,
    ))
}

fn user(name: &str) -> Actor {
    Actor::personal(&UserId::parse(name).unwrap())
}

fn expense(body: serde_json::Value) -> Expense {
    let now = now_micros();
    Expense {
        id: new_id(),
        fields: parse_new(body.as_object().unwrap()).unwrap(),
        version: 1,
        created_at: now,
        updated_at: now,
        created_by: "alice".into(),
        updated_by: "alice".into(),
    }
}

fn query(text: &str) -> ListQuery {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(text.as_bytes())
        .into_owned()
        .collect();
    ListQuery::parse(&pairs).unwrap()
}

/// The contract every store keeps.
async fn contract(store: DynStore) {
    assert_eq!(
        store.migrate().await.unwrap(),
        MIGRATIONS.len(),
        "first migration run"
    );
    assert_eq!(
        store.migrate().await.unwrap(),
        0,
        "migrations are idempotent"
    );
    store.ping().await.unwrap();

    let (alice, bob) = (user("alice"), user("bob"));
    let full = expense(json!({
        "amount": "999999999999", "currency": "BHD", "date": "2026-11-28",
        "merchant": "Café \"Ünïcode\" 😀", "description": "'; DROP TABLE expenses; --",
        "tags": ["b", "a", "%"],
    }));
    store.insert_expense(&alice, &full, None).await.unwrap();
    assert_eq!(
        store.get_expense(&alice, &full.id).await.unwrap(),
        Some(full.clone())
    );
    assert_eq!(
        store.get_expense(&bob, &full.id).await.unwrap(),
        None,
        "scoped by user"
    );

    // Conditional updates.
    let mut changed = full.clone();
    // One tag kept, two dropped, one added.
    changed.fields.tags = vec!["%".into(), "z".into()];
    changed.version = 2;
    assert_eq!(
        store.update_expense(&bob, &full, &changed).await.unwrap(),
        WriteOutcome::NotFound
    );
    assert_eq!(
        store.update_expense(&alice, &full, &changed).await.unwrap(),
        WriteOutcome::Done
    );
    assert_eq!(
        store.update_expense(&alice, &full, &changed).await.unwrap(),
        WriteOutcome::VersionMismatch
    );
    assert_eq!(
        store.get_expense(&alice, &full.id).await.unwrap(),
        Some(changed.clone())
    );
    let by_tag = store.list_expenses(&alice, &query("tag=z")).await.unwrap();
    assert_eq!(by_tag.len(), 1, "tags rewritten on update");
    let kept = store
        .list_expenses(&alice, &query("tag=%25"))
        .await
        .unwrap();
    assert_eq!(kept.len(), 1, "a tag kept on update");
    assert!(store
        .list_expenses(&alice, &query("tag=a"))
        .await
        .unwrap()
        .is_empty());

    // Categories must be the caller's.
    let mut categorised = expense(json!({"amount": "1", "currency": "EUR", "date": "2026-01-01"}));
    categorised.fields.category_id = Some(new_id());
    assert!(matches!(
        store.insert_expense(&alice, &categorised, None).await,
        Err(StoreError::UnknownCategory)
    ));
    assert_eq!(
        store.get_expense(&alice, &categorised.id).await.unwrap(),
        None,
        "nothing stored"
    );

    // Deletes.
    assert_eq!(
        store.delete_expense(&bob, &full.id, None).await.unwrap(),
        WriteOutcome::NotFound
    );
    assert_eq!(
        store
            .delete_expense(&alice, &full.id, Some(1))
            .await
            .unwrap(),
        WriteOutcome::VersionMismatch
    );
    assert_eq!(
        store
            .delete_expense(&alice, &full.id, Some(2))
            .await
            .unwrap(),
        WriteOutcome::Done
    );
    assert_eq!(
        store.delete_expense(&alice, &full.id, None).await.unwrap(),
        WriteOutcome::NotFound
    );

    // Listing: order, filters and keyset pages.
    let mut made = Vec::new();
    for i in 0..30 {
        let e = expense(json!({
            "amount": format!("{}.5", i + 1), "currency": if i % 3 == 0 { "JPY" } else { "USD" },
            "date": format!("2026-03-{:02}", 1 + i % 5),
            "merchant": if i % 2 == 0 { "Shop_100%" } else { "Market" },
            "tags": if i % 4 == 0 { json!(["team"]) } else { json!([]) },
        }).as_object().map(|o| {
            let mut o = o.clone();
            if i % 3 == 0 { o.insert("amount".into(), json!(format!("{}", i + 1))); }
            serde_json::Value::Object(o)
        }).unwrap());
        store.insert_expense(&alice, &e, None).await.unwrap();
        made.push(e);
    }
    store
        .insert_expense(
            &bob,
            &expense(json!({"amount": "1", "currency": "USD", "date": "2026-03-01"})),
            None,
        )
        .await
        .unwrap();
    let mut expected = made.clone();
    expected.sort_by(|a, b| (b.fields.date, &b.id).cmp(&(a.fields.date, &a.id)));

    let mut walked = Vec::new();
    let mut q = query("limit=7");
    loop {
        let mut page = store.list_expenses(&alice, &q).await.unwrap();
        let more = page.len() > q.limit;
        page.truncate(q.limit);
        q.after = page.last().map(cursor_after);
        walked.extend(page);
        if !more {
            break;
        }
    }
    assert_eq!(
        walked, expected,
        "pages cover everything once, date desc then id desc"
    );

    let count = |text: &'static str| {
        let store = Arc::clone(&store);
        let alice = alice.clone();
        async move {
            store
                .list_expenses(&alice, &query(text))
                .await
                .unwrap()
                .len()
        }
    };
    assert_eq!(count("limit=200&currency=JPY").await, 10);
    assert_eq!(count("limit=200&tag=team").await, 8);
    assert_eq!(
        count("limit=200&q=_100%25").await,
        15,
        "q is literal, % and _ included"
    );
    assert_eq!(count("limit=200&q=market").await, 15, "q ignores case");
    assert_eq!(count("limit=200&from=2026-03-02&to=2026-03-03").await, 12);
    assert_eq!(
        count("limit=200&min_amount=10&max_amount=11.5").await,
        2,
        "10 JPY and 11.5 USD"
    );
    assert_eq!(count("limit=200&category_id=none").await, 30);
    assert_eq!(count("limit=200&category_id=nothing-like-it").await, 0);
}

/// Idempotency records: one claim per key, leases, completion, purge.
async fn idempotency_contract(store: DynStore) {
    store.migrate().await.unwrap();
    let alice = "alice".to_owned();
    let hour = 3_600_000_000;
    let now = now_micros();
    let claim = |now: i64| {
        let store = Arc::clone(&store);
        let alice = alice.clone();
        async move {
            store
                .idempotency_begin(&alice, "k1", "fp", now, now + 30_000_000, now + 24 * hour)
                .await
                .unwrap()
        }
    };
    assert_eq!(claim(now).await, None, "the first claim wins");
    let pending = claim(now).await.expect("the key is held");
    assert_eq!(
        (pending.fingerprint.as_str(), pending.response.is_none()),
        ("fp", true)
    );
    // Keys are per user.
    assert_eq!(
        store
            .idempotency_begin("bob", "k1", "other", now, now + 1, now + hour)
            .await
            .unwrap(),
        None
    );
    // The lease protects the first request; after it, one retry takes over.
    assert!(!store
        .idempotency_take_over(&alice, "k1", now, now + 60_000_000)
        .await
        .unwrap());
    let later = now + 31_000_000;
    assert!(store
        .idempotency_take_over(&alice, "k1", later, later + 30_000_000)
        .await
        .unwrap());
    assert!(
        !store
            .idempotency_take_over(&alice, "k1", later, later + 30_000_000)
            .await
            .unwrap(),
        "only once"
    );
    let completion = Completion {
        owner: alice.clone(),
        key: "k1".into(),
        response: StoredResponse {
            status: 201,
            headers: vec![("etag".into(), "\"1\"".into())],
            body: b"{}".to_vec(),
        },
    };
    store.idempotency_complete(&completion).await.unwrap();
    assert_eq!(
        claim(later).await.unwrap().response,
        Some(completion.response.clone())
    );
    // Abandoning forgets only pending keys.
    store.idempotency_abandon(&alice, "k1").await.unwrap();
    assert!(claim(later).await.is_some(), "a completed key is kept");
    // Expired records neither block a new claim nor survive a purge.
    let tomorrow = now + 25 * hour;
    assert_eq!(
        claim(tomorrow).await,
        None,
        "an expired key is claimed afresh"
    );
    assert_eq!(
        store.purge_idempotency(now + 50 * hour).await.unwrap(),
        2,
        "alice's and bob's"
    );
}

#[tokio::test]
async fn sqlite_keeps_the_idempotency_contract() {
    idempotency_contract(sqlite()).await;
}

#[tokio::test]
async fn mariadb_keeps_the_idempotency_contract() {
    let db = TestDb::create().await;
    idempotency_contract(mysql(&db)).await;
}

#[tokio::test]
async fn sqlite_keeps_the_store_contract() {
    contract(sqlite()).await;
}

#[tokio::test]
async fn mariadb_keeps_the_store_contract() {
    let db = TestDb::create().await;
    contract(mysql(&db)).await;
}

#[tokio::test]
async fn concurrent_migrations_apply_once() {
    let db = TestDb::create().await;
    let stores: Vec<DynStore> = (0..4).map(|_| mysql(&db)).collect();
    let runs = stores.iter().map(|s| {
        let s = Arc::clone(s);
        tokio::spawn(async move { s.migrate().await })
    });
    let mut applied = 0;
    for run in runs {
        applied += run.await.unwrap().expect("every concurrent start succeeds");
    }
    assert_eq!(
        applied,
        MIGRATIONS.len(),
        "each migration applied by exactly one process"
    );
}

#[tokio::test]
async fn an_unreachable_mysql_is_unavailable_quickly() {
    let port = crate::helpers::free_port();
    let settings = MysqlSettings {
        url: format!("mysql://root@127.0.0.1:{port}/nothing"),
        pool_max: 1,
        sql_mode: None,
        connect_timeout: Duration::from_secs(2),
        statement_timeout: Duration::from_secs(5),
        iam_auth: false,
        ca_bundle: None,
    };
    let store = SqlStore::mysql(&settings).await.unwrap();
    let started = std::time::Instant::now();
    assert!(matches!(
        store.ping().await,
        Err(StoreError::Unavailable(_))
    ));
    // A generous bound: this checks that the timeout exists, not speed.
    assert!(started.elapsed() < Duration::from_secs(10));
}
