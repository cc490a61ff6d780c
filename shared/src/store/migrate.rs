//! Versioned schema migrations, one list per backend with the same version
//! numbers. Each backend applies them under a lock (GET_LOCK on MySQL, an
//! immediate transaction on SQLite) so that concurrent starts are safe.
//! Migrations are expand-then-contract: the previous release must keep
//! working on the new schema while a deployment is under way.

/// One migration: its version, name and SQL (statements separated by `;`
/// at the end of a line).
#[derive(Clone, Copy, Debug)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

impl Migration {
    /// The statements, in order.
    pub fn statements(&self) -> impl Iterator<Item = &'static str> {
        self.sql
            .split(";\n")
            .map(strip_comments)
            .filter(|s| !s.is_empty())
    }
}

fn strip_comments(statement: &'static str) -> &'static str {
    let mut rest = statement.trim();
    while rest.starts_with("--") {
        rest = rest.split_once('\n').map_or("", |(_, tail)| tail).trim();
    }
    rest.trim_end_matches(';').trim()
}

macro_rules! migrations {
    ($dir:literal: $($version:literal => $name:literal),* $(,)?) => {
        &[$(Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!("../../../migrations/", $dir, "/", $name, ".sql")),
        }),*]
    };
}

pub const MYSQL: &[Migration] = migrations!("mysql":
    1 => "0001_expenses",
    2 => "0002_budgets_idempotency",
    3 => "0003_list_filter_indexes",
    4 => "0004_expense_rollups",
    5 => "0005_tag_dates",
    6 => "0006_ledgers",
);
pub const SQLITE: &[Migration] = migrations!("sqlite":
    1 => "0001_expenses",
    2 => "0002_budgets_idempotency",
    3 => "0003_list_filter_indexes",
    4 => "0004_expense_rollups",
    5 => "0005_tag_dates",
    6 => "0006_ledgers",
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_backends_have_the_same_versions_in_order() {
        let versions =
            |list: &[Migration]| list.iter().map(|m| (m.version, m.name)).collect::<Vec<_>>();
        assert_eq!(versions(MYSQL), versions(SQLITE));
        for list in [MYSQL, SQLITE] {
            assert!(list.windows(2).all(|w| w[0].version < w[1].version));
            assert!(list
                .iter()
                .all(|m| m.name.starts_with(&format!("{:04}_", m.version))));
        }
    }

    #[test]
    fn the_migration_folders_hold_exactly_the_listed_files() {
        for (dir, list) in [("mysql", MYSQL), ("sqlite", SQLITE)] {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations/").to_owned() + dir;
            let mut files: Vec<String> = std::fs::read_dir(path)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            files.sort();
            let listed: Vec<String> = list.iter().map(|m| format!("{}.sql", m.name)).collect();
            assert_eq!(files, listed, "migrations/{dir}");
        }
    }

    #[test]
    fn statements_split_without_comments() {
        let first = MYSQL[0].statements().next().unwrap();
        assert!(first.starts_with("CREATE TABLE categories"), "{first}");
        assert_eq!(MYSQL[0].statements().count(), 3);
        assert_eq!(SQLITE[0].statements().count(), 7);
    }
}
