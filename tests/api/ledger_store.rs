//! The ledger part of the store contract (members, roles, invitations),
//! on SQLite and on MariaDB, straight through the `LedgerStore` trait;
//! with races: first requests making one personal ledger, many users
//! accepting one code, owners demoting each other.

use std::sync::Arc;

use shared::config::DB_STATEMENT_TIMEOUT;
use shared::domain::ledger::{code_hash, new_invitation_code, Invitation, Ledger, Role};
use shared::domain::money::Currency;
use shared::domain::{new_id, now_micros, UserId};
use shared::store::ledgers::{
    Accepted, Checked, LAST_OWNER, OWN_PERSONAL_MEMBERSHIP, PERSONAL_LEDGER,
};
use shared::store::mysql::{MysqlBackend, MysqlSettings};
use shared::store::{Actor, DynStore, SqlStore};

use crate::helpers::{TestDb, SQL_MODE};

async fn sqlite() -> DynStore {
    let store: DynStore = Arc::new(SqlStore::sqlite(":memory:", DB_STATEMENT_TIMEOUT).unwrap());
    store.migrate().await.unwrap();
    store
}

async fn mysql(db: &TestDb) -> DynStore {
    let settings = MysqlSettings {
        url: db.url.clone(),
        pool_max: 16,
        sql_mode: Some(SQL_MODE.into()),
        connect_timeout: shared::config::DB_CONNECT_TIMEOUT,
        statement_timeout: DB_STATEMENT_TIMEOUT,
        iam_auth: false,
        ca_bundle: None,
    };
    let store: DynStore = Arc::new(SqlStore::new(
        Arc::new(MysqlBackend::new(&settings).unwrap()),
        DB_STATEMENT_TIMEOUT,
    ));
    store.migrate().await.unwrap();
    store
}

fn user(name: &str) -> UserId {
    UserId::parse(name).unwrap()
}

/// `who` acting in `ledger`.
fn in_ledger(who: &UserId, ledger: &Ledger) -> Actor {
    Actor {
        user: who.clone(),
        key: ledger.key.clone(),
        shared_ledger: (!ledger.personal).then(|| ledger.id.clone()),
    }
}

fn shared_ledger(name: &str) -> Ledger {
    let id = new_id();
    let now = now_micros();
    Ledger {
        key: id.clone(),
        id,
        name: name.into(),
        home_currency: Currency::parse("EUR"),
        personal: false,
        created_at: now,
        updated_at: now,
    }
}

/// An invitation to `ledger` and its code.
fn invitation(ledger: &Ledger, role: Role, lifetime: i64) -> (Invitation, String) {
    let now = now_micros();
    let invitation = Invitation {
        id: new_id(),
        ledger_id: ledger.id.clone(),
        role,
        created_at: now,
        expires_at: now + lifetime,
    };
    (invitation, new_invitation_code())
}

const DAY: i64 = 24 * 3600 * 1_000_000;

async fn invite(store: &DynStore, by: &UserId, ledger: &Ledger, role: Role) -> String {
    let (invitation, code) = invitation(ledger, role, 7 * DAY);
    assert_eq!(
        store
            .create_invitation(by, &invitation, &code_hash(&code), None)
            .await
            .unwrap(),
        Checked::Done(())
    );
    code
}

async fn role_of(store: &DynStore, who: &UserId, ledger: &Ledger) -> Option<Role> {
    store
        .membership(who, &ledger.id)
        .await
        .unwrap()
        .map(|(_, role)| role)
}

async fn contract(store: DynStore) {
    let (alice, bob, carol, dave) = (user("alice"), user("bob"), user("carol"), user("dave"));
    let now = now_micros();

    // A personal ledger is made once and keyed by the user.
    let personal = store.personal_ledger(&alice, now).await.unwrap();
    assert!(personal.personal);
    assert_eq!(personal.key, "alice");
    assert_eq!(store.personal_ledger(&alice, now).await.unwrap(), personal);
    assert_eq!(role_of(&store, &alice, &personal).await, Some(Role::Owner));

    // A shared ledger, its owner, and what a non-member sees.
    let flat = shared_ledger("flat");
    store.create_ledger(&alice, &flat, None).await.unwrap();
    assert_eq!(role_of(&store, &alice, &flat).await, Some(Role::Owner));
    assert_eq!(role_of(&store, &bob, &flat).await, None);
    assert_eq!(
        store
            .update_ledger(&bob, &flat.id, "x", None, now)
            .await
            .unwrap(),
        Checked::NotMember
    );

    // Invitations: single use, listed until used, 200 again for who used it.
    let code = invite(&store, &alice, &flat, Role::Editor).await;
    assert_eq!(
        store
            .invitations(&flat.id, now_micros())
            .await
            .unwrap()
            .len(),
        1
    );
    let joined = store
        .accept_invitation(&bob, &code_hash(&code), now_micros())
        .await
        .unwrap();
    assert!(matches!(&joined, Accepted::Member(l, Role::Editor) if l.id == flat.id));
    assert_eq!(
        store
            .accept_invitation(&bob, &code_hash(&code), now_micros())
            .await
            .unwrap(),
        joined
    );
    assert_eq!(
        store
            .accept_invitation(&carol, &code_hash(&code), now_micros())
            .await
            .unwrap(),
        Accepted::NoSuchCode
    );
    assert!(store
        .invitations(&flat.id, now_micros())
        .await
        .unwrap()
        .is_empty());

    // An existing member gets AlreadyMember and the code stays unused.
    let second = invite(&store, &alice, &flat, Role::Viewer).await;
    assert_eq!(
        store
            .accept_invitation(&bob, &code_hash(&second), now_micros())
            .await
            .unwrap(),
        Accepted::AlreadyMember
    );
    assert!(matches!(
        store
            .accept_invitation(&carol, &code_hash(&second), now_micros())
            .await
            .unwrap(),
        Accepted::Member(_, Role::Viewer)
    ));

    // Revoked and expired codes are gone; unknown ones never existed.
    let revoked = invite(&store, &alice, &flat, Role::Viewer).await;
    let listed = store.invitations(&flat.id, now_micros()).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        store
            .revoke_invitation(&bob, &flat.id, &listed[0].id, now_micros())
            .await
            .unwrap(),
        Checked::Forbidden,
        "an editor cannot revoke"
    );
    assert_eq!(
        store
            .revoke_invitation(&alice, &flat.id, &listed[0].id, now_micros())
            .await
            .unwrap(),
        Checked::Done(())
    );
    assert_eq!(
        store
            .revoke_invitation(&alice, &flat.id, &listed[0].id, now_micros())
            .await
            .unwrap(),
        Checked::Missing
    );
    let (expiring, expired) = invitation(&flat, Role::Viewer, 1);
    store
        .create_invitation(&alice, &expiring, &code_hash(&expired), None)
        .await
        .unwrap();
    for code in [revoked, expired, new_invitation_code()] {
        assert_eq!(
            store
                .accept_invitation(&dave, &code_hash(&code), now_micros() + 10)
                .await
                .unwrap(),
            Accepted::NoSuchCode
        );
    }
    let (not_owner, _) = invitation(&flat, Role::Viewer, DAY);
    assert_eq!(
        store
            .create_invitation(&carol, &not_owner, &code_hash("x"), None)
            .await
            .unwrap(),
        Checked::Forbidden
    );

    // Members, by join time; roles change only by an owner, and a ledger
    // keeps an owner.
    let members = store.members(&flat.id).await.unwrap();
    let names: Vec<&str> = members.iter().map(|m| m.user_id.as_str()).collect();
    assert_eq!(names, vec!["alice", "bob", "carol"]);
    assert_eq!(
        store
            .set_role(&bob, &flat.id, "carol", Role::Editor)
            .await
            .unwrap(),
        Checked::Forbidden
    );
    assert_eq!(
        store
            .set_role(&alice, &flat.id, "alice", Role::Editor)
            .await
            .unwrap(),
        Checked::Refused(LAST_OWNER)
    );
    assert_eq!(
        store
            .remove_member(&alice, &flat.id, "alice")
            .await
            .unwrap(),
        Checked::Refused(LAST_OWNER)
    );
    assert_eq!(
        store
            .set_role(&alice, &flat.id, "dave", Role::Editor)
            .await
            .unwrap(),
        Checked::Missing
    );
    assert!(matches!(
        store.set_role(&alice, &flat.id, "bob", Role::Owner).await.unwrap(),
        Checked::Done(m) if m.role == Role::Owner
    ));
    assert!(matches!(
        store
            .set_role(&alice, &flat.id, "alice", Role::Viewer)
            .await
            .unwrap(),
        Checked::Done(_)
    ));
    assert_eq!(
        store
            .update_ledger(&alice, &flat.id, "x", None, now)
            .await
            .unwrap(),
        Checked::Forbidden,
        "alice is a viewer now"
    );
    // Leaving needs no role; removing someone else needs an owner.
    assert_eq!(
        store
            .remove_member(&carol, &flat.id, "alice")
            .await
            .unwrap(),
        Checked::Forbidden
    );
    assert_eq!(
        store
            .remove_member(&carol, &flat.id, "carol")
            .await
            .unwrap(),
        Checked::Done(())
    );
    assert_eq!(role_of(&store, &carol, &flat).await, None);

    // Changing and deleting the ledger.
    let renamed = store
        .update_ledger(&bob, &flat.id, "Flat 3", None, now_micros())
        .await
        .unwrap();
    assert!(
        matches!(&renamed, Checked::Done(l) if l.name == "Flat 3" && l.home_currency.is_none())
    );
    let ledgers = store.ledgers_of(&alice).await.unwrap();
    let ids: Vec<&str> = ledgers.iter().map(|(l, _)| l.id.as_str()).collect();
    assert_eq!(
        ids,
        vec![personal.id.as_str(), flat.id.as_str()],
        "personal first"
    );
    assert_eq!(
        store
            .delete_ledger(&alice, &flat.id, now_micros())
            .await
            .unwrap(),
        Checked::Forbidden
    );
    assert_eq!(
        store
            .delete_ledger(&bob, &flat.id, now_micros())
            .await
            .unwrap(),
        Checked::Done(())
    );
    assert_eq!(
        role_of(&store, &bob, &flat).await,
        None,
        "gone for every member"
    );
    assert_eq!(store.ledgers_of(&alice).await.unwrap().len(), 1);

    // The personal ledger: never deleted, its user's membership fixed, but
    // others may join it and be made owners.
    assert_eq!(
        store
            .delete_ledger(&alice, &personal.id, now_micros())
            .await
            .unwrap(),
        Checked::Refused(PERSONAL_LEDGER)
    );
    let code = invite(&store, &alice, &personal, Role::Editor).await;
    store
        .accept_invitation(&dave, &code_hash(&code), now_micros())
        .await
        .unwrap();
    store
        .set_role(&alice, &personal.id, "dave", Role::Owner)
        .await
        .unwrap();
    for change in [
        store
            .set_role(&dave, &personal.id, "alice", Role::Viewer)
            .await
            .unwrap(),
        refusal(
            store
                .remove_member(&dave, &personal.id, "alice")
                .await
                .unwrap(),
        ),
        refusal(
            store
                .remove_member(&alice, &personal.id, "alice")
                .await
                .unwrap(),
        ),
    ] {
        assert_eq!(change, Checked::Refused(OWN_PERSONAL_MEMBERSHIP));
    }
    let (dave_sees, _) = store
        .membership(&dave, &personal.id)
        .await
        .unwrap()
        .unwrap();
    assert!(!dave_sees.view("dave", Role::Owner).personal);
    assert!(dave_sees.view("alice", Role::Owner).personal);
}

/// A `Checked<()>` as the `Checked<Member>` it is compared with.
fn refusal(checked: Checked<()>) -> Checked<shared::domain::ledger::Member> {
    match checked {
        Checked::Refused(why) => Checked::Refused(why),
        other => panic!("not refused: {other:?}"),
    }
}

async fn races(store: DynStore) {
    // Racing first requests make one personal ledger.
    let erin = user("erin");
    let firsts: Vec<_> = (0..16)
        .map(|_| {
            let store = store.clone();
            let erin = erin.clone();
            tokio::spawn(async move { store.personal_ledger(&erin, now_micros()).await })
        })
        .collect();
    let mut ids = Vec::new();
    for first in firsts {
        ids.push(first.await.unwrap().unwrap().id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "one personal ledger");
    assert_eq!(store.ledgers_of(&erin).await.unwrap().len(), 1);

    // Of many users accepting one code, exactly one joins.
    let owner = user("owner");
    let ledger = shared_ledger("race");
    store.create_ledger(&owner, &ledger, None).await.unwrap();
    let code = invite(&store, &owner, &ledger, Role::Viewer).await;
    let accepts: Vec<_> = (0..16)
        .map(|i| {
            let store = store.clone();
            let hash = code_hash(&code);
            tokio::spawn(async move {
                store
                    .accept_invitation(&user(&format!("racer-{i}")), &hash, now_micros())
                    .await
            })
        })
        .collect();
    let mut joined = 0;
    for accept in accepts {
        match accept.await.unwrap().unwrap() {
            Accepted::Member(..) => joined += 1,
            Accepted::NoSuchCode => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(joined, 1);
    assert_eq!(store.members(&ledger.id).await.unwrap().len(), 2);

    // The same user racing themselves joins once and hears 200 each time.
    let code = invite(&store, &owner, &ledger, Role::Editor).await;
    let accepts: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            let hash = code_hash(&code);
            tokio::spawn(async move {
                store
                    .accept_invitation(&user("frank"), &hash, now_micros())
                    .await
            })
        })
        .collect();
    for accept in accepts {
        assert!(matches!(
            accept.await.unwrap().unwrap(),
            Accepted::Member(_, Role::Editor)
        ));
    }
    assert_eq!(store.members(&ledger.id).await.unwrap().len(), 3);

    // Two owners demoting each other at once leave one owner.
    let (gina, hal) = (user("gina"), user("hal"));
    let pair = shared_ledger("pair");
    store.create_ledger(&gina, &pair, None).await.unwrap();
    let code = invite(&store, &gina, &pair, Role::Editor).await;
    store
        .accept_invitation(&hal, &code_hash(&code), now_micros())
        .await
        .unwrap();
    store
        .set_role(&gina, &pair.id, "hal", Role::Owner)
        .await
        .unwrap();
    let demotions: Vec<_> = [(gina.clone(), "hal"), (hal.clone(), "gina")]
        .into_iter()
        .map(|(by, whom)| {
            let store = store.clone();
            let id = pair.id.clone();
            tokio::spawn(async move { store.set_role(&by, &id, whom, Role::Editor).await })
        })
        .collect();
    let mut outcomes = Vec::new();
    for demotion in demotions {
        outcomes.push(demotion.await.unwrap().unwrap());
    }
    let owners = store
        .members(&pair.id)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.role == Role::Owner)
        .count();
    assert_eq!(owners, 1, "{outcomes:?}");
    assert!(
        outcomes.iter().any(|o| matches!(o, Checked::Done(_))),
        "{outcomes:?}"
    );
}

/// A deleted ledger's rows are purged in batches; nothing else is touched.
async fn purge(store: DynStore) {
    use shared::domain::category::Category;
    use shared::domain::expense::{parse_new, Expense};
    let owner = user("purging-owner");
    let gone = shared_ledger("gone");
    let kept = shared_ledger("kept");
    for ledger in [&gone, &kept] {
        store.create_ledger(&owner, ledger, None).await.unwrap();
        let key = in_ledger(&owner, ledger);
        let now = now_micros();
        let category = Category {
            id: new_id(),
            name: "Food".into(),
            color: None,
            created_at: now,
            updated_at: now,
        };
        store.insert_category(&key, &category, None).await.unwrap();
        // More than one batch of rows, tags and rollups included.
        let expenses: Vec<Expense> = (0..1200)
            .map(|i| Expense {
                id: new_id(),
                fields: parse_new(
                    serde_json::json!({"amount": "1.00", "currency": "EUR", "date": format!("2026-{:02}-01", 1 + i % 12),
                                       "category_id": category.id, "tags": ["a", "b"]})
                    .as_object()
                    .unwrap(),
                )
                .unwrap(),
                version: 1,
                created_at: now,
                updated_at: now,
                created_by: owner.as_str().into(),
                updated_by: owner.as_str().into(),
            })
            .collect();
        store
            .import_expenses(&key, &[], &expenses, None)
            .await
            .unwrap();
    }
    let code = invite(&store, &owner, &gone, Role::Viewer).await;
    assert_eq!(
        store.purge_deleted_ledgers().await.unwrap(),
        0,
        "nothing deleted yet"
    );
    store
        .delete_ledger(&owner, &gone.id, now_micros())
        .await
        .unwrap();
    let purged = store.purge_deleted_ledgers().await.unwrap();
    assert!(purged > 1200 * 3, "expenses, their tags and more: {purged}");
    assert_eq!(
        store.purge_deleted_ledgers().await.unwrap(),
        0,
        "runs again safely"
    );
    let all = shared::domain::filter::ListQuery::parse(&[("limit".into(), "200".into())]).unwrap();
    assert!(store
        .list_expenses(&in_ledger(&owner, &gone), &all)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .list_categories(&in_ledger(&owner, &gone))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store
            .accept_invitation(&user("late"), &code_hash(&code), now_micros())
            .await
            .unwrap(),
        Accepted::NoSuchCode
    );
    assert_eq!(
        store
            .list_expenses(&in_ledger(&owner, &kept), &all)
            .await
            .unwrap()
            .len(),
        201
    );
    assert_eq!(
        store
            .list_categories(&in_ledger(&owner, &kept))
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(store.ledgers_of(&owner).await.unwrap().len(), 1);
}

#[tokio::test]
async fn sqlite_purges_deleted_ledgers() {
    purge(sqlite().await).await;
}

#[tokio::test]
async fn mariadb_purges_deleted_ledgers() {
    let db = TestDb::create().await;
    purge(mysql(&db).await).await;
}

#[tokio::test]
async fn sqlite_keeps_the_ledger_contract() {
    contract(sqlite().await).await;
}

#[tokio::test]
async fn mariadb_keeps_the_ledger_contract() {
    let db = TestDb::create().await;
    contract(mysql(&db).await).await;
}

#[tokio::test]
async fn sqlite_ledger_races_end_in_one_outcome() {
    races(sqlite().await).await;
}

#[tokio::test]
async fn mariadb_ledger_races_end_in_one_outcome() {
    let db = TestDb::create().await;
    races(mysql(&db).await).await;
}

/// The store itself refuses a write by someone the ledger no longer lets
/// write, whatever the dispatcher checked before: a viewer is `Forbidden`,
/// a removed member or anyone in a deleted ledger is `NotMember`, and the
/// refused write leaves nothing behind. (Dispatch checks first; this is
/// what closes the gap between that check and the write.)
async fn writers(store: DynStore) {
    use shared::domain::category::Category;
    use shared::domain::expense::{parse_new, Expense};
    use shared::store::StoreError;
    let (owner, viewer, gone) = (user("w-owner"), user("w-viewer"), user("w-gone"));
    let ledger = shared_ledger("checked");
    store.create_ledger(&owner, &ledger, None).await.unwrap();
    for (who, role) in [(&viewer, Role::Viewer), (&gone, Role::Editor)] {
        let code = invite(&store, &owner, &ledger, role).await;
        store
            .accept_invitation(who, &code_hash(&code), now_micros())
            .await
            .unwrap();
    }
    let now = now_micros();
    let category = Category {
        id: new_id(),
        name: "Kept".into(),
        color: None,
        created_at: now,
        updated_at: now,
    };
    store
        .insert_category(&in_ledger(&owner, &ledger), &category, None)
        .await
        .unwrap();
    store
        .remove_member(&owner, &ledger.id, gone.as_str())
        .await
        .unwrap();
    let expense = |by: &UserId| Expense {
        id: new_id(),
        fields: parse_new(
            serde_json::json!({"amount": "1.00", "currency": "EUR", "date": "2026-12-01"})
                .as_object()
                .unwrap(),
        )
        .unwrap(),
        version: 1,
        created_at: now,
        updated_at: now,
        created_by: by.as_str().into(),
        updated_by: by.as_str().into(),
    };
    let new_category = Category {
        id: new_id(),
        name: "Refused".into(),
        ..category.clone()
    };
    let attempts = |who: &UserId| {
        let actor = in_ledger(who, &ledger);
        let (store, expense, new_category, kept) = (
            store.clone(),
            expense(who),
            new_category.clone(),
            category.id.clone(),
        );
        async move {
            [
                store.insert_expense(&actor, &expense, None).await.err(),
                store
                    .insert_category(&actor, &new_category, None)
                    .await
                    .err(),
                store.delete_budget(&actor, &kept).await.err(),
                store
                    .delete_category(&actor, &kept, now_micros())
                    .await
                    .err(),
            ]
        }
    };
    let refused =
        |errors: [Option<StoreError>; 4], expected: fn(&StoreError) -> bool, who: &str| {
            for error in errors {
                assert!(error.as_ref().is_some_and(expected), "{who}: {error:?}");
            }
        };
    refused(
        attempts(&viewer).await,
        |e| matches!(e, StoreError::Forbidden),
        "viewer",
    );
    refused(
        attempts(&gone).await,
        |e| matches!(e, StoreError::NotMember),
        "removed member",
    );
    store
        .delete_ledger(&owner, &ledger.id, now_micros())
        .await
        .unwrap();
    refused(
        attempts(&owner).await,
        |e| matches!(e, StoreError::NotMember),
        "owner of a deleted ledger",
    );
    // Nothing refused was stored (read as the owner, whose reads the store
    // does not gate: dispatch does).
    let owner_view = in_ledger(&owner, &ledger);
    let all = shared::domain::filter::ListQuery::parse(&[]).unwrap();
    assert!(store
        .list_expenses(&owner_view, &all)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store.list_categories(&owner_view).await.unwrap(),
        vec![category]
    );
}

#[tokio::test]
async fn sqlite_store_refuses_writers_the_ledger_refuses() {
    writers(sqlite().await).await;
}

#[tokio::test]
async fn mariadb_store_refuses_writers_the_ledger_refuses() {
    let db = TestDb::create().await;
    writers(mysql(&db).await).await;
}
