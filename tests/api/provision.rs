//! The migrate step's user provisioning, against MariaDB: the app user may
//! read and write data but not change the schema; the migrator may both.
//! The test creates its own users and database and drops them after.

use mysql_async::prelude::Queryable;
use shared::provision::{provision_users, DbUser};

use crate::helpers::{random_hex, test_database_url, unique_name};

async fn connect(url: &str) -> mysql_async::Conn {
    mysql_async::Conn::new(mysql_async::Opts::from_url(url).unwrap())
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {url}: {e}"))
}

/// `TEST_DATABASE_URL` as `user`, in `database`.
fn url_as(user: &DbUser, database: &str) -> String {
    let mut url = reqwest::Url::parse(&test_database_url()).unwrap();
    url.set_username(&user.name).unwrap();
    url.set_password(Some(&user.password)).unwrap();
    url.set_path(&format!("/{database}"));
    url.to_string()
}

#[tokio::test]
async fn provisioning_creates_a_data_user_and_a_schema_user() {
    let database = unique_name();
    let app = DbUser {
        name: format!("{database}_a"),
        password: format!("App-{}", random_hex(24)),
    };
    let migrator = DbUser {
        name: format!("{database}_m"),
        password: format!("Mig-{}", random_hex(24)),
    };
    let admin = test_database_url();
    let master = mysql_async::Opts::from_url(&admin).unwrap();

    let (db, a, m) = (database.clone(), app.clone(), migrator.clone());
    let outcome = async move {
        let (database, app, migrator) = (db, a, m);
        provision_users(master.clone(), &database, &app, &migrator)
            .await
            .unwrap();
        // Twice is fine (every deployment runs it), and applies new passwords.
        let rotated = DbUser {
            password: format!("Rot-{}", random_hex(24)),
            ..app.clone()
        };
        provision_users(master.clone(), &database, &rotated, &migrator)
            .await
            .unwrap();

        let mut as_migrator = connect(&url_as(&migrator, &database)).await;
        as_migrator
            .query_drop("CREATE TABLE t (id INT PRIMARY KEY)")
            .await
            .unwrap();
        let mut as_app = connect(&url_as(&rotated, &database)).await;
        as_app.query_drop("INSERT INTO t VALUES (1)").await.unwrap();
        let count: Option<i64> = as_app.query_first("SELECT COUNT(*) FROM t").await.unwrap();
        assert_eq!(count, Some(1));
        assert!(
            as_app.query_drop("CREATE TABLE u (id INT)").await.is_err(),
            "the app user changed the schema"
        );
        assert!(
            as_app.query_drop("DROP TABLE t").await.is_err(),
            "the app user dropped a table"
        );
        let old =
            mysql_async::Conn::new(mysql_async::Opts::from_url(&url_as(&app, &database)).unwrap())
                .await;
        assert!(old.is_err(), "the old password still works after rotation");
        // Unsafe input never reaches SQL.
        let evil = DbUser {
            name: "x'; DROP DATABASE mysql; --".into(),
            ..app.clone()
        };
        assert!(provision_users(master.clone(), &database, &evil, &migrator)
            .await
            .is_err());
    };
    let result = tokio::spawn(outcome).await;

    // Clean up what this test created, whatever happened.
    let mut root = connect(&admin).await;
    for user in [&app.name, &migrator.name] {
        root.query_drop(format!("DROP USER IF EXISTS '{user}'@'%'"))
            .await
            .unwrap();
    }
    root.query_drop(format!("DROP DATABASE IF EXISTS `{database}`"))
        .await
        .unwrap();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic.into_panic());
    }
}
