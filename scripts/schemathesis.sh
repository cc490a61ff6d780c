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
# Environment: ST_MAX_EXAMPLES (test cases per operation and phase, for every
# operation; default schemathesis.toml's: 500, 100 for the ledger forms of the
# resource routes) and ST_SEED (default 1).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib/venv.sh
source scripts/lib/scratch_server.sh

# The budget is schemathesis.toml's unless ST_MAX_EXAMPLES overrides it.
budget=()
[[ -n "${ST_MAX_EXAMPLES:-}" ]] && budget=(--max-examples "$ST_MAX_EXAMPLES")
readonly SEED="${ST_SEED:-1}"

log() { printf 'schemathesis.sh: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

# --- Schemathesis, pinned, in the shared virtualenv -----------------------------
venv="${INFRA_VENV:-$HOME/.cache/expense-tracker/infra-venv}"
ensure_venv "$venv" scripts/requirements-infra.txt
st="$venv/bin/st"
want="$(sed -n 's/^schemathesis==//p' scripts/requirements-infra.txt)"
have="$("$st" --version 2>/dev/null | awk '{print $NF}')"
[[ -n "$want" && "$have" == "$want" ]] || die "expected schemathesis $want in $venv, found '${have:-none}'"

# --- services and the server binary ---------------------------------------------
bash scripts/services.sh
cargo build --quiet -p server
server_bin="${CARGO_TARGET_DIR:-target}/debug/server"

start_scratch_server schema "$server_bin"

token="$(mint_token schemathesis)"

# --- the run --------------------------------------------------------------------------
# schemathesis.toml (repository root) is read from the working directory.
args=(run "$base/openapi.json"
  --checks all
  "${budget[@]}"
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
