//! The ledgers migration (0006) on a database the release before ledgers
//! filled, on MariaDB and SQLite: the schema is brought to version 5 with
//! that release's migrations, rows are written with that release's own
//! statements (kept here verbatim, as it sends them), then this release
//! migrates and reads them as each user's personal ledger. The release
//! before keeps writing on the migrated schema (expand, then contract),
//! and both releases' rows read alike.

use std::sync::Arc;

use serde_json::json;
use shared::config::DB_STATEMENT_TIMEOUT;
use shared::domain::category::Category;
use shared::domain::expense::{parse_new, Expense};
use shared::domain::filter::ListQuery;
use shared::domain::report::SummaryRequest;
use shared::domain::{new_id, now_micros, UserId};
use shared::store::backend::Backend;
use shared::store::migrate::{Migration, MYSQL, SQLITE};
use shared::store::mysql::{MysqlBackend, MysqlSettings};
use shared::store::sql::{
    insert_params, insert_tags, upsert_budget, Dialect, Param, INSERT_CATEGORY,
};
use shared::store::{Actor, DynStore, SqlStore};
use time::{Date, Month};

use crate::helpers::{TestDb, SQL_MODE};

/// The last version the release before ledgers applied.
const BEFORE_LEDGERS: i64 = 5;

/// That release's INSERT of one expense: every column but `created_by`
/// and `updated_by`, which it did not know.
const PREVIOUS_INSERT_EXPENSE: &str = "INSERT INTO expenses (id, user_id, amount_minor, \
     amount_scaled, currency, expense_date, category_id, merchant, merchant_folded, description, \
     description_folded, tags, version, created_at, updated_at) \
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

/// Brings an empty database to the schema the release before ledgers left:
/// its migrations, recorded as its `migrate` records them.
async fn schema_before_ledgers(backend: &Arc<dyn Backend>) {
    let (migrations, tracking): (&[Migration], &str) = match backend.dialect() {
        Dialect::Mysql => (
            MYSQL,
            "CREATE TABLE schema_migrations (version BIGINT NOT NULL PRIMARY KEY, \
             name VARCHAR(200) NOT NULL, applied_at BIGINT NOT NULL) ENGINE=InnoDB",
        ),
        Dialect::Sqlite => (
            SQLITE,
            "CREATE TABLE schema_migrations (version INTEGER NOT NULL PRIMARY KEY, \
             name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
        ),
    };
    backend
        .exec(tracking, vec![])
        .await
        .expect("tracking table");
    for migration in migrations.iter().filter(|m| m.version <= BEFORE_LEDGERS) {
        for statement in migration.statements() {
            backend
                .exec(statement, vec![])
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", migration.name));
        }
        backend
            .exec(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                vec![migration.version.into(), migration.name.into(), 0i64.into()],
            )
            .await
            .expect("recorded");
    }
}

fn expense(body: serde_json::Value, by: &UserId) -> Expense {
    let now = now_micros();
    Expense {
        id: new_id(),
        fields: parse_new(body.as_object().expect("an object")).expect("a valid expense"),
        version: 1,
        created_at: now,
        updated_at: now,
        created_by: by.as_str().into(),
        updated_by: by.as_str().into(),
    }
}

/// Writes `e` for `user` the way the release before ledgers did: the
/// expense (without who wrote it) and its tag rows.
async fn previous_release_writes(backend: &Arc<dyn Backend>, user: &UserId, e: &Expense) {
    let mut params = insert_params(user.as_str(), e);
    params.truncate(15);
    backend
        .exec(PREVIOUS_INSERT_EXPENSE, params)
        .await
        .expect("the previous release's insert");
    let tags = &e.fields.tags;
    if !tags.is_empty() {
        let date = shared::domain::text::format_date(e.fields.date);
        let params: Vec<Param> = tags
            .iter()
            .flat_map(|tag| {
                [
                    e.id.as_str().into(),
                    user.as_str().into(),
                    tag.as_str().into(),
                    date.as_str().into(),
                ]
            })
            .collect();
        backend
            .exec(&insert_tags(tags.len()), params)
            .await
            .expect("its tags");
    }
}

async fn migrates_the_previous_release_s_data(backend: Arc<dyn Backend>) {
    schema_before_ledgers(&backend).await;
    let (alice, bob) = (
        UserId::parse("old-alice").unwrap(),
        UserId::parse("old-bob").unwrap(),
    );
    let now = now_micros();
    let food = Category {
        id: new_id(),
        name: "Food".into(),
        color: Some("#aa00ff".into()),
        created_at: now,
        updated_at: now,
    };
    backend
        .exec(
            INSERT_CATEGORY,
            vec![
                food.id.as_str().into(),
                alice.as_str().into(),
                food.name.as_str().into(),
                food.folded_name().into(),
                food.color.clone().into(),
                now.into(),
                now.into(),
            ],
        )
        .await
        .expect("the previous release's category");
    backend
        .exec(
            upsert_budget(backend.dialect()),
            vec![
                alice.as_str().into(),
                food.id.as_str().into(),
                5000i64.into(),
                "EUR".into(),
                now.into(),
                now.into(),
                5000i64.into(),
                "EUR".into(),
                now.into(),
            ],
        )
        .await
        .expect("the previous release's budget");
    let written = [
        (&alice, json!({"amount": "12.50", "currency": "EUR", "date": "2026-11-03", "category_id": food.id, "merchant": "Market", "tags": ["weekly", "home"]})),
        (&alice, json!({"amount": "7.50", "currency": "EUR", "date": "2026-11-20", "category_id": food.id})),
        (&alice, json!({"amount": "300", "currency": "JPY", "date": "2026-10-01", "description": "Tea"})),
        (&bob, json!({"amount": "1.00", "currency": "USD", "date": "2026-11-05", "tags": ["home"]})),
    ]
    .map(|(user, body)| (user.clone(), expense(body, user)));
    for (user, e) in &written {
        previous_release_writes(&backend, user, e).await;
    }

    // This release migrates: only the ledgers migration is left to apply.
    let store: DynStore = Arc::new(SqlStore::new(backend.clone(), DB_STATEMENT_TIMEOUT));
    assert_eq!(store.migrate().await.expect("migrated"), 1);

    // Each user's rows are their personal ledger's, written by them.
    let all = ListQuery::parse(&[("limit".into(), "200".into())]).unwrap();
    for user in [&alice, &bob] {
        let mine = Actor::personal(user);
        let mut expected: Vec<&Expense> = written
            .iter()
            .filter(|(by, _)| by == user)
            .map(|(_, e)| e)
            .collect();
        expected.sort_by(|a, b| (b.fields.date, &b.id).cmp(&(a.fields.date, &a.id)));
        let listed = store.list_expenses(&mine, &all).await.unwrap();
        assert_eq!(listed.iter().collect::<Vec<_>>(), expected, "{user:?}");
        for e in &expected {
            let got = store.get_expense(&mine, &e.id).await.unwrap();
            assert_eq!(got.as_ref(), Some(*e), "created_by falls back to the owner");
        }
        let tagged = ListQuery::parse(&[("tag".into(), "home".into())]).unwrap();
        assert_eq!(store.list_expenses(&mine, &tagged).await.unwrap().len(), 1);
        let ledger = store.personal_ledger(user, now_micros()).await.unwrap();
        assert!(ledger.personal);
        assert_eq!(
            ledger.key,
            user.as_str(),
            "the key the rows were filed under"
        );
    }
    let mine = Actor::personal(&alice);
    assert_eq!(
        store.list_categories(&mine).await.unwrap(),
        vec![food.clone()]
    );
    let november = (
        Date::from_calendar_date(2026, Month::November, 1).unwrap(),
        Date::from_calendar_date(2026, Month::November, 30).unwrap(),
    );
    let statuses = store
        .budget_statuses(&mine, november.0, november.1)
        .await
        .unwrap();
    assert_eq!(
        statuses
            .iter()
            .map(|s| (s.budget.category_id.as_str(), s.spent))
            .collect::<Vec<_>>(),
        vec![(food.id.as_str(), 2000)],
        "12.50 + 7.50 EUR of the 50.00 budget"
    );
    let by_category = SummaryRequest::parse(&[]).unwrap().query;
    // In a fixed order (the store's is the view's to impose).
    let totals = |groups: Vec<shared::domain::report::SummaryGroup>| {
        let mut rows: Vec<_> = groups
            .into_iter()
            .map(|g| (g.key, g.currency.code().to_owned(), g.total, g.count))
            .collect();
        rows.sort();
        rows
    };
    let expected_totals = vec![
        (None, "JPY".to_owned(), 300, 1),
        (Some(food.id.clone()), "EUR".to_owned(), 2000, 2),
    ];
    assert_eq!(
        totals(store.summary(&mine, &by_category).await.unwrap()),
        expected_totals
    );

    // While the deployment runs, the previous release keeps writing on the
    // migrated schema; its rows read as the owner's too.
    let late = expense(
        json!({"amount": "2.00", "currency": "EUR", "date": "2026-11-21", "category_id": food.id}),
        &alice,
    );
    previous_release_writes(&backend, &alice, &late).await;
    assert_eq!(
        store.get_expense(&mine, &late.id).await.unwrap(),
        Some(late)
    );
    // And this release's writes sit beside them.
    let new = expense(
        json!({"amount": "1.00", "currency": "EUR", "date": "2026-11-22"}),
        &alice,
    );
    store.insert_expense(&mine, &new, None).await.unwrap();
    assert_eq!(store.list_expenses(&mine, &all).await.unwrap().len(), 5);

    // The rollups' backfill covers the old rows like the new ones.
    store.backfill().await.expect("backfilled");
    assert_eq!(
        totals(store.summary(&mine, &by_category).await.unwrap()),
        vec![
            (None, "EUR".to_owned(), 100, 1),
            (None, "JPY".to_owned(), 300, 1),
            (Some(food.id.clone()), "EUR".to_owned(), 2200, 3),
        ]
    );
}

#[tokio::test]
async fn mariadb_migrates_the_previous_release_s_data_into_personal_ledgers() {
    let db = TestDb::create().await;
    let settings = MysqlSettings {
        url: db.url.clone(),
        pool_max: 4,
        sql_mode: Some(SQL_MODE.into()),
        connect_timeout: shared::config::DB_CONNECT_TIMEOUT,
        statement_timeout: DB_STATEMENT_TIMEOUT,
        iam_auth: false,
        ca_bundle: None,
    };
    migrates_the_previous_release_s_data(Arc::new(MysqlBackend::new(&settings).unwrap())).await;
}

#[tokio::test]
async fn sqlite_migrates_the_previous_release_s_data_into_personal_ledgers() {
    let dir = std::env::temp_dir().join(format!("et-migration-{}", new_id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("old.db");
    let backend = shared::store::sqlite::SqliteBackend::open(path.to_str().unwrap()).unwrap();
    migrates_the_previous_release_s_data(Arc::new(backend)).await;
    std::fs::remove_dir_all(&dir).unwrap();
}
