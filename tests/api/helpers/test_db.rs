//! A MariaDB database of its own for each test.

use mysql_async::prelude::Queryable;

use super::*;

/// A database of its own for one test, dropped with it.
pub struct TestDb {
    pub name: String,
    /// `DATABASE_URL` for the server: `TEST_DATABASE_URL` with this database.
    pub url: String,
    admin_url: String,
}

impl TestDb {
    pub async fn create() -> TestDb {
        let admin_url = test_database_url();
        let name = unique_name();
        let mut conn = mysql_connect(&admin_url).await;
        // The server's default character set, not a binary collation: the
        // server's migrations must choose collations themselves.
        conn.query_drop(format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
            .await
            .unwrap_or_else(|e| panic!("cannot create test database {name} at {admin_url}: {e}"));
        let _ = conn.disconnect().await;
        let url = url_with_database(&admin_url, &name);
        TestDb {
            name,
            url,
            admin_url,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (url, name) = (self.admin_url.clone(), self.name.clone());
        let dropped = run_on_side_runtime(move || async move {
            let opts = mysql_async::Opts::from_url(&url).map_err(|e| e.to_string())?;
            let mut conn = mysql_async::Conn::new(opts)
                .await
                .map_err(|e| e.to_string())?;
            // A connection of this test left inside a transaction holds
            // metadata locks that DROP DATABASE would wait for without end
            // (lock_wait_timeout defaults to a year): wait a while, then end
            // this test's own connections and drop it, reporting the leak.
            conn.query_drop("SET SESSION lock_wait_timeout = 30")
                .await
                .map_err(|e| e.to_string())?;
            let drop_it = format!("DROP DATABASE IF EXISTS `{name}`");
            let leak = match conn.query_drop(&drop_it).await {
                Ok(()) => None,
                Err(e) => {
                    let holders: Vec<u64> = conn
                        .exec(
                            "SELECT id FROM information_schema.processlist \
                             WHERE db = ? AND id <> CONNECTION_ID()",
                            (&name,),
                        )
                        .await
                        .map_err(|e| e.to_string())?;
                    for id in &holders {
                        let _ = conn.query_drop(format!("KILL CONNECTION {id}")).await;
                    }
                    conn.query_drop(&drop_it).await.map_err(|e| e.to_string())?;
                    Some(format!(
                        "{e}; ended {} connections of the test",
                        holders.len()
                    ))
                }
            };
            conn.disconnect().await.map_err(|e| e.to_string())?;
            leak.map_or(Ok(()), Err)
        });
        if let Err(e) = dropped {
            eprintln!("could not drop test database {}: {e}", self.name);
        }
    }
}

async fn mysql_connect(url: &str) -> mysql_async::Conn {
    let opts = mysql_async::Opts::from_url(url)
        .unwrap_or_else(|e| panic!("TEST_DATABASE_URL={url:?} is not a MySQL URL: {e}"));
    mysql_async::Conn::new(opts).await.unwrap_or_else(|e| {
        panic!(
            "MariaDB is unreachable at {url} ({e}): start it, or point TEST_DATABASE_URL at \
             one; these tests never skip"
        )
    })
}

/// `base` (a server URL, maybe with a path and query) naming `database`.
fn url_with_database(base: &str, database: &str) -> String {
    let mut url = reqwest::Url::parse(base)
        .unwrap_or_else(|e| panic!("TEST_DATABASE_URL={base:?} is not a URL: {e}"));
    url.set_path(&format!("/{database}"));
    url.to_string()
}
