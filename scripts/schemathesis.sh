#!/usr/bin/env bash
# Property-based tests of the HTTP API from its own OpenAPI document:
#   scripts/schemathesis.sh [extra `st run` arguments]
#
# Builds the real `server` binary (debug), starts it on a free loopback port
# against a scratch MariaDB database (et_schema_<pid>, created here and
# dropped afterwards) and the local Redis under a key prefix of its own
# (those keys are deleted afterwards), mints a token, and runs Schemathesis
# against GET /openapi.json with every check on, a fixed example budget and
# a fixed seed. Operation-specific expectations that OpenAPI cannot express
# live in schemathesis.toml. Exits with Schemathesis's status.
#
# Schemathesis (pinned in scripts/requirements-infra.txt) lives in the same
# virtualenv as the infrastructure checkers (scripts/check_infra.sh).
# Environment: ST_MAX_EXAMPLES (test cases per operation and phase, default
# 500: about 75 s of testing on 2 cores) and ST_SEED (default 1).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

readonly MYSQL_HOST=127.0.0.1 MYSQL_PORT=3306
readonly REDIS_HOST=127.0.0.1 REDIS_PORT=6379
readonly MAX_EXAMPLES="${ST_MAX_EXAMPLES:-500}"
readonly SEED="${ST_SEED:-1}"
# MySQL 8's default sql_mode: MariaDB as strict as production.
readonly SQL_MODE="ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION"

log() { printf 'schemathesis.sh: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

start=$SECONDS

# --- Schemathesis, pinned, in the shared virtualenv -----------------------------
venv="${INFRA_VENV:-$HOME/.cache/expense-tracker/infra-venv}"
stamp="$venv/requirements.txt"
if ! cmp -s scripts/requirements-infra.txt "$stamp" 2>/dev/null; then
  log "installing $(grep -cv '^#' scripts/requirements-infra.txt) pinned tools into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r scripts/requirements-infra.txt
  cp scripts/requirements-infra.txt "$stamp"
fi
st="$venv/bin/st"
want="$(sed -n 's/^schemathesis==//p' scripts/requirements-infra.txt)"
have="$("$st" --version 2>/dev/null | awk '{print $NF}')"
[[ -n "$want" && "$have" == "$want" ]] || die "expected schemathesis $want in $venv, found '${have:-none}'"

# --- services and the server binary ---------------------------------------------
bash scripts/services.sh
cargo build --quiet -p server
server_bin="${CARGO_TARGET_DIR:-target}/debug/server"
[[ -x "$server_bin" ]] || die "no server binary at $server_bin"

work="$(mktemp -d "${TMPDIR:-/tmp}/schemathesis.XXXXXX")"
db="et_schema_$$"
prefix="et_schema_$$_$(od -An -N4 -tx4 /dev/urandom | tr -d ' '):"
server_pid=""
db_created=0

mysql_cli() {
  timeout 30 mariadb --protocol=TCP -h"$MYSQL_HOST" -P"$MYSQL_PORT" -uroot --connect-timeout=5 "$@"
}

cleanup() {
  local rc=$?
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if ((db_created)); then
    mysql_cli -e "DROP DATABASE IF EXISTS \`$db\`" || log "could not drop database $db"
  fi
  # Only this run's keys; the prefix has no glob characters.
  timeout 30 redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" --scan --pattern "${prefix}*" |
    while IFS= read -r key; do
      timeout 5 redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" DEL "$key" >/dev/null
    done || log "could not delete the Redis keys under $prefix"
  if ((rc != 0)) && [[ -s "$work/server.log" ]]; then
    log "last lines of the server log:"
    tail -n 30 "$work/server.log" >&2
  fi
  rm -rf "$work"
  log "finished in $((SECONDS - start))s (exit $rc)"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mysql_cli -e "CREATE DATABASE \`$db\` CHARACTER SET utf8mb4"
db_created=1

jwt_secret="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"

env -i PATH="$PATH" HOME="$HOME" \
  DATABASE_URL="mysql://root@$MYSQL_HOST:$MYSQL_PORT/$db" \
  DATABASE_SQL_MODE="$SQL_MODE" \
  REDIS_URL="redis://$REDIS_HOST:$REDIS_PORT" \
  CACHE_KEY_PREFIX="$prefix" \
  JWT_SECRET="$jwt_secret" \
  HOST=127.0.0.1 PORT=0 LOG_FORMAT=text RUST_LOG="${RUST_LOG:-warn}" \
  "$server_bin" >"$work/server.log" 2>&1 &
server_pid=$!

base=""
for _ in $(seq 1 600); do
  base="$(sed -n 's#^listening on \(http://[0-9.:]*\)$#\1#p' "$work/server.log")"
  [[ -n "$base" ]] && break
  kill -0 "$server_pid" 2>/dev/null || die "the server exited while starting"
  sleep 0.1
done
[[ -n "$base" ]] || die "the server did not start within 60s"
log "server on $base (database $db, Redis prefix $prefix)"

token="$(env -i PATH="$PATH" JWT_SECRET="$jwt_secret" "$server_bin" token --user schemathesis --hours 1)"

# --- the run --------------------------------------------------------------------------
# schemathesis.toml (repository root) is read from the working directory.
args=(run "$base/openapi.json"
  --checks all
  --max-examples "$MAX_EXAMPLES"
  --seed "$SEED"
  --generation-database none
  --workers 2
  --no-color
  --report ndjson --report-ndjson-path "$work/events.ndjson"
  "$@")
log "st ${args[*]} --header 'Authorization: Bearer <token>'"
set +e
"$st" "${args[@]}" --header "Authorization: Bearer $token"
status=$?
set -e

"$venv/bin/python" - "$work/events.ndjson" "$status" <<'PY' || true
import json, sys
from collections import Counter

path, status = sys.argv[1], int(sys.argv[2])
examples: Counter = Counter()
results: Counter = Counter()
failed: Counter = Counter()
with open(path, encoding="utf-8") as events:
    for line in events:
        finished = json.loads(line).get("ScenarioFinished")
        if not finished:
            continue
        recorder = finished.get("recorder") or {}
        label = recorder.get("label") or "?"
        examples[label] += len(recorder.get("cases") or {})
        for checks in (recorder.get("checks") or {}).values():
            for check in checks:
                outcome = str(check.get("status")).lower()
                results[outcome] += 1
                if outcome == "failure":
                    failed[check.get("name")] += 1
operations = [label for label in examples if label != "Stateful tests"]
print(f"\nschemathesis.sh: {sum(examples.values())} test cases recorded, over {len(operations)} operations and the stateful phase:")
for label in sorted(examples):
    print(f"  {examples[label]:6d}  {label}")
print("schemathesis.sh: check results: " + ", ".join(f"{n} {k}" for k, n in sorted(results.items())))
for name, n in sorted(failed.items()):
    print(f"  failed: {name} x{n}")
print(f"schemathesis.sh: result: {'PASSED' if status == 0 else 'FAILED'} (st exit {status})")
PY
exit "$status"
