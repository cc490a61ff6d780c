//! The harness: a fresh MariaDB database and Redis key prefix per test, the
//! `server` binary started on a free port against them, tokens, and request
//! helpers that fail the test on any 5xx answer.
//!
//! Environment: `TEST_DATABASE_URL` (default `mysql://root@127.0.0.1:3306`)
//! and `TEST_REDIS_URL` (default `redis://127.0.0.1:6379`). When a test needs
//! one of them and it is unreachable, the test fails loudly: it never skips.
//! Only databases named `et_test_<pid>_<hex>` and Redis keys under this
//! app's own `et_test_<pid>_<hex>:` prefix are ever created or removed.

mod csv_text;
mod names;
mod requests;
mod resources;
mod server_process;
mod test_db;
mod test_redis;
mod tokens;

pub use csv_text::*;
pub use names::*;
pub use requests::*;
pub use resources::*;
pub use server_process::*;
pub use test_db::*;
pub use test_redis::*;
pub use tokens::*;

pub const DEFAULT_DATABASE_URL: &str = "mysql://root@127.0.0.1:3306";
pub const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";
/// MySQL 8's default `sql_mode`, so that MariaDB is as strict as production.
pub const SQL_MODE: &str = "ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,\
                        ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION";
pub const MERGE_PATCH: &str = "application/merge-patch+json";
pub const JSON: &str = "application/json";
