#!/usr/bin/env bash
# The project's single test command: scripts/test.sh [extra cargo-nextest args]
#
# Starts MariaDB and Redis if needed (scripts/services.sh), then runs every
# test of the workspace with cargo-nextest (debug profile). Tests that need
# the services read TEST_DATABASE_URL and TEST_REDIS_URL; the defaults below
# are the local services.
#   e.g. scripts/test.sh -p shared          # one crate
#        scripts/test.sh money              # tests whose name contains "money"
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

start=$SECONDS
trap 'rc=$?; echo "test.sh: finished in $((SECONDS - start))s (exit $rc)" >&2' EXIT

bash scripts/services.sh

export TEST_DATABASE_URL="${TEST_DATABASE_URL:-mysql://root@127.0.0.1:3306}"
export TEST_REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379}"

if ! cargo nextest --version >/dev/null 2>&1; then
  echo "test.sh: installing cargo-nextest" >&2
  # Its own temporary target dir, not the project's build cache.
  env -u CARGO_TARGET_DIR cargo install cargo-nextest --locked
fi

# Every binary first: the Lambda tests run the real `bootstrap`, which cargo
# builds for a test run only when the test is in its own package.
cargo build --workspace --bins
cargo nextest run --workspace --no-fail-fast "$@"
