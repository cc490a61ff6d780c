//! Users see and change only their own expenses: another user's expense
//! answers exactly as a missing one, and never appears in a list, even
//! when the owner's reads are cached in Redis.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

const ALICE: &str = "alice";
const BOB: &str = "bob";

/// One request of `user` on the expense `id`.
async fn attempt(
    app: &TestApp,
    user: &str,
    method: &Method,
    if_match: Option<&str>,
    id: &str,
) -> Resp {
    let path = expense_path(id);
    match *method {
        Method::GET => app.get(&path, user).await,
        Method::PATCH => {
            app.patch(&path, user, &json!({"merchant": "hijacked"}), if_match)
                .await
        }
        Method::DELETE => app.delete(&path, user, if_match).await,
        _ => unreachable!("no such attempt"),
    }
}

/// The 404 problem with the id written as `{id}`, to compare two answers.
fn without_id(resp: &Resp, id: &str) -> Value {
    let problem = resp.problem(404).to_string().replace(id, "{id}");
    serde_json::from_str(&problem).expect("still JSON")
}

#[tokio::test]
async fn another_users_expense_answers_exactly_like_a_missing_one() {
    let app = spawn_app(AppOptions::default()).await;
    let body = with(
        expense_body("42.00", "USD", "2026-06-01"),
        json!({"merchant": "Alice's secret shop", "tags": ["private"]}),
    );
    let hers = app.create_expense(ALICE, &body).await;
    let id = id_of(&hers);
    // Alice's reads are cached before Bob asks.
    assert_eq!(app.get_expense(ALICE, &id).await, hers);
    assert_eq!(ids(&app.list_all(ALICE, &[]).await), vec![id.clone()]);

    let missing = unused_id();
    let attempts = [
        (Method::GET, None),
        (Method::PATCH, None),
        (Method::PATCH, Some(etag(1))),
        (Method::DELETE, None),
        (Method::DELETE, Some(etag(1))),
    ];
    for (method, if_match) in &attempts {
        let on_hers = attempt(&app, BOB, method, if_match.as_deref(), &id).await;
        let on_missing = attempt(&app, BOB, method, if_match.as_deref(), &missing).await;
        assert_eq!(
            without_id(&on_hers, &id),
            without_id(&on_missing, &missing),
            "{method} {if_match:?} on another user's expense must answer as on a missing one"
        );
        assert_eq!(
            on_hers.header("content-type"),
            on_missing.header("content-type"),
            "{method}: same Content-Type as for a missing expense"
        );
    }

    for params in [
        &[][..],
        &[("q", "secret")][..],
        &[("tag", "private")][..],
        &[("currency", "USD")][..],
    ] {
        assert!(
            app.list_all(BOB, params).await.is_empty(),
            "Bob's list with {params:?} must not show Alice's expense"
        );
    }
    assert_eq!(
        app.get_expense(ALICE, &id).await,
        hers,
        "Alice's expense is untouched"
    );
    assert_eq!(
        ids(&app.list_all(ALICE, &[]).await),
        vec![id],
        "Alice still lists it"
    );
}

#[tokio::test]
async fn each_user_lists_only_their_own_expenses() {
    let app = spawn_app(AppOptions::default()).await;
    // Look-alike subjects are different users: `sub` is compared exactly.
    let users = [ALICE, "ALICE", "alice:g1", "alice*", BOB];
    let mut owned = Vec::new();
    for user in users {
        let body = with(
            expense_body("1.00", "USD", "2026-06-01"),
            json!({"merchant": user}),
        );
        let expense = app.create_expense(user, &body).await;
        // Warm each user's cache entries.
        app.get_expense(user, &id_of(&expense)).await;
        app.list(user, &[]).await;
        owned.push((user, id_of(&expense)));
    }
    for (user, id) in &owned {
        assert_eq!(
            ids(&app.list_all(user, &[]).await),
            vec![id.clone()],
            "{user:?} must list exactly their own expense"
        );
        for (other, other_id) in &owned {
            if other != user {
                app.get(&expense_path(other_id), user)
                    .await
                    .context(format!("{user:?} reading {other:?}'s expense"))
                    .problem(404);
            }
        }
    }
    // A user's write does not disturb another user's cached reads.
    app.patch(
        &expense_path(&owned[0].1),
        ALICE,
        &json!({"merchant": "changed"}),
        None,
    )
    .await
    .expect_json(200);
    let ids_of_bob = ids(&app.list_all(BOB, &[]).await);
    assert_eq!(ids_of_bob, vec![owned[4].1.clone()]);
    assert_eq!(
        app.get_expense("ALICE", &owned[1].1).await["merchant"],
        "ALICE"
    );
}
