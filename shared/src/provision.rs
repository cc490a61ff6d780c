//! The migrate step's first part on RDS: as the master user, create the
//! database and the two users everything else runs as — `expense_app`
//! (data only: SELECT, INSERT, UPDATE, DELETE) and `expense_migrator`
//! (schema changes) — with the passwords kept in Secrets Manager, which
//! RDS Proxy also uses to reach the database. Idempotent: run on every
//! deployment, it also applies rotated passwords.

use mysql_async::prelude::Queryable;

use crate::store::StoreError;

/// A database user and its password.
#[derive(Clone)]
pub struct DbUser {
    pub name: String,
    pub password: String,
}

impl std::fmt::Debug for DbUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbUser")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

const DATA_PRIVILEGES: &str = "SELECT, INSERT, UPDATE, DELETE";
const SCHEMA_PRIVILEGES: &str =
    "SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, DROP, INDEX, REFERENCES";

/// Names go into SQL as identifiers: lower-case letters, digits, `_`.
fn valid_name(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Passwords go into SQL as literals (CREATE USER takes no placeholders):
/// printable ASCII without quotes, backslash or space, 16+ characters.
fn valid_password(password: &str) -> bool {
    password.len() >= 16
        && password
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'\'' | b'"' | b'\\' | b'`'))
}

/// Creates or updates `database`, `app` and `migrator`, connected with
/// `master` (the master user's credentials, over TLS on RDS).
pub async fn provision_users(
    master: mysql_async::Opts,
    database: &str,
    app: &DbUser,
    migrator: &DbUser,
) -> Result<(), StoreError> {
    for name in [database, &app.name, &migrator.name] {
        if !valid_name(name) {
            return Err(StoreError::Internal(format!(
                "unusable database name {name:?}"
            )));
        }
    }
    for user in [app, migrator] {
        if !valid_password(&user.password) {
            return Err(StoreError::Internal(format!(
                "the password of {} must be 16+ printable ASCII characters without quotes or backslashes",
                user.name
            )));
        }
    }
    let mut conn = mysql_async::Conn::new(master)
        .await
        .map_err(|e| StoreError::Unavailable(format!("cannot connect as the master user: {e}")))?;
    let mut statements = vec![format!(
        "CREATE DATABASE IF NOT EXISTS `{database}` CHARACTER SET utf8mb4"
    )];
    for (user, privileges) in [(app, DATA_PRIVILEGES), (migrator, SCHEMA_PRIVILEGES)] {
        let (name, password) = (&user.name, &user.password);
        statements.push(format!(
            "CREATE USER IF NOT EXISTS '{name}'@'%' IDENTIFIED BY '{password}'"
        ));
        statements.push(format!(
            "ALTER USER '{name}'@'%' IDENTIFIED BY '{password}'"
        ));
        statements.push(format!(
            "GRANT {privileges} ON `{database}`.* TO '{name}'@'%'"
        ));
    }
    for statement in &statements {
        conn.query_drop(statement).await.map_err(|e| {
            // The statement holds a password: name the failure, not the SQL.
            StoreError::Internal(format!(
                "provisioning failed: {}",
                e.to_string()
                    .replace(&app.password, "***")
                    .replace(&migrator.password, "***")
            ))
        })?;
    }
    let _ = conn.disconnect().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_safe_names_and_passwords_reach_sql() {
        assert!(valid_name("expense_app") && valid_name("expenses"));
        for bad in [
            "",
            "Expense",
            "a-b",
            "a b",
            "a`b",
            "x'; DROP",
            &"a".repeat(33),
        ] {
            assert!(!valid_name(bad), "{bad}");
        }
        assert!(valid_password("Abc123!#$%&()*+,-./:;<=>?@[]^_{|}~"));
        for bad in [
            "short",
            "has space inside ok",
            "quote'inside-password",
            "back\\slash-password-x",
            "dq\"inside-password-xx",
        ] {
            assert!(!valid_password(bad), "{bad}");
        }
    }
}
