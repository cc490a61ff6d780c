//! Black-box HTTP end-to-end tests of the `server` binary: each test starts
//! its own server process against a fresh database (MariaDB unless said)
//! and, where it asks for one, a private Redis key prefix, then talks to it
//! over HTTP only. See `helpers/` for the harness and the environment
//! variables it reads (`TEST_DATABASE_URL`, `TEST_REDIS_URL`).

mod helpers;

mod auth;
mod budgets;
mod cache;
mod categories;
mod concurrency;
mod csv;
mod errors;
mod expenses;
mod failures;
mod idempotency;
mod isolation;
mod lambda_events;
mod lambda_runtime;
mod ledger_data;
mod ledger_migration;
mod ledger_store;
mod ledgers;
mod list;
mod list_plans;
mod mariadb_server;
mod non_ascii_ids;
mod ops;
mod pki;
mod provision;
mod reports;
mod rollups;
mod routes_json;
mod server_binary;
mod shutdown;
mod store_contract;
mod tls;
mod watch_router;
