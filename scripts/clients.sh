#!/usr/bin/env bash
# API clients generated from the server's own OpenAPI document, used against
# the real server:
#   scripts/clients.sh
#
# Starts the already built `server` binary (debug; CI builds it before this
# runs) on a free loopback port against a scratch MariaDB database
# (et_clients_<pid>, dropped afterwards; scripts/lib/scratch_server.sh) and the local Redis under a key
# prefix of its own (deleted afterwards), fetches GET /openapi.json, then:
#   1. lints it with Redocly CLI (`recommended` rules): any error fails,
#      warnings are printed;
#   2. Python: generates a client with openapi-python-client, type-checks
#      clients/python/scenario.py against it (mypy --strict) and runs it;
#   3. TypeScript: generates types with openapi-typescript, type-checks
#      clients/typescript/scenario.ts (tsc), requires tsc to reject every
#      marked line of clients/typescript/invalid.ts and nothing else, and runs
#      the scenario (tsx) with openapi-fetch.
# Both scenarios call every operation of the document and assert the answers.
# Exits non-zero on the first failed step.
#
# Tools are pinned: scripts/requirements-clients.txt (a virtualenv of its own,
# reinstalled when that file changes) and clients/typescript/package-lock.json
# (npm ci). Environment: CARGO_TARGET_DIR, CLIENTS_VENV, NPM_CACHE.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib/venv.sh
source scripts/lib/scratch_server.sh

readonly TS_DIR=clients/typescript

log() { printf 'clients.sh: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}
step() { printf '\n=== clients.sh: %s\n' "$*" >&2; }


# --- tools, pinned --------------------------------------------------------------------
step "tools"
venv="${CLIENTS_VENV:-$HOME/.cache/expense-tracker/clients-venv}"
ensure_venv "$venv" scripts/requirements-clients.txt
want="$(sed -n 's/^openapi-python-client==//p' scripts/requirements-clients.txt)"
have="$("$venv/bin/pip" show openapi-python-client 2>/dev/null | sed -n 's/^Version: //p')"
[[ -n "$want" && "$have" == "$want" ]] || die "expected openapi-python-client $want in $venv, found '${have:-none}'"
# The generator formats its output with ruff (one of its dependencies) when
# ruff is on PATH; without it the code is valid but unformatted.
export PATH="$venv/bin:$PATH"

export npm_config_cache="${NPM_CACHE:-$HOME/.cache/expense-tracker/npm}"
(cd "$TS_DIR" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error)

# --- services and the server binary ---------------------------------------------
bash scripts/services.sh
server_bin="${CARGO_TARGET_DIR:-target}/debug/server"

start_scratch_server clients "$server_bin"

# The document exactly as the running server serves it.
spec="$work/openapi.json"
curl -fsS --max-time 30 -o "$spec" "$base/openapi.json" || die "GET $base/openapi.json failed"
"$venv/bin/python" -c 'import json, sys; json.load(open(sys.argv[1]))' "$spec" || die "GET /openapi.json is not JSON"
operations="$("$venv/bin/python" -c '
import json, sys
doc = json.load(open(sys.argv[1]))
print(sum(1 for item in doc["paths"].values() for m in item if m in ("get", "put", "post", "delete", "patch")))
' "$spec")"
log "openapi.json: $(wc -c <"$spec") bytes, $operations operations"

# --- 1. Redocly lint ---------------------------------------------------------------------------
step "redocly lint --extends recommended"
# The JSON report is parsed for the counts; stderr only carries Redocly's
# banners (a boxed Node.js 20 deprecation notice) and is shown on failure.
set +e
(cd "$TS_DIR" && npx --no-install redocly lint --extends recommended --format json "$spec") \
  >"$work/lint.json" 2>"$work/lint.err"
lint_rc=$?
set -e
read -r lint_errors lint_warnings < <("$venv/bin/python" - "$work/lint.json" <<'PY'
import json, sys
try:
    report = json.load(open(sys.argv[1]))
except ValueError:
    print("? ?")
    sys.exit()
for p in report["problems"]:
    where = ", ".join(loc.get("pointer", "?") for loc in p.get("location", []))
    print(f"  {p['severity']}: {p['ruleId']}: {p['message']} (at {where})", file=sys.stderr)
print(report["totals"]["errors"], report["totals"]["warnings"])
PY
)
log "redocly: $lint_errors errors, $lint_warnings warnings (exit $lint_rc)"
if ! [[ "$lint_errors" =~ ^[0-9]+$ && "$lint_warnings" =~ ^[0-9]+$ ]]; then
  grep -v '[║╔╚]' "$work/lint.err" >&2 || true
  die "redocly lint produced no report"
fi
((lint_errors == 0 && lint_rc == 0)) || die "redocly lint found errors in the document"

# --- 2. Python: openapi-python-client ------------------------------------------------------
step "python: openapi-python-client $want"
set +e
(cd "$work" && openapi-python-client generate --path "$spec" --output-path "$work/python-client" \
  --overwrite --meta setup) >"$work/generate-python.log" 2>&1
gen_rc=$?
set -e
cat "$work/generate-python.log" >&2
((gen_rc == 0)) || die "openapi-python-client failed (exit $gen_rc)"
# Its warnings, verbatim, for the summary: everything after its "Warning(s)" line.
py_warnings="$(sed -n '/^Warning(s) encountered/,$p' "$work/generate-python.log" | grep -v '^\s*$' || true)"

# The generated package is used in place (PYTHONPATH), so nothing of one
# run's document stays in the shared virtualenv.
log "mypy --strict clients/python/scenario.py"
MYPYPATH="$work/python-client" mypy --strict --no-incremental --cache-dir=/dev/null clients/python/scenario.py ||
  die "clients/python/scenario.py does not type-check against the generated client"
log "running clients/python/scenario.py against $base"
# Two users per scenario (it checks isolation and imports one user's export
# into the other's empty account), and other users for each language: each
# scenario starts from empty accounts and asserts exact totals.
BASE_URL="$base" TOKEN="$(mint_token python-alice)" TOKEN2="$(mint_token python-bob)" PYTHONPATH="$work/python-client" \
  python clients/python/scenario.py | tee "$work/python.out"
py_checks="$(sed -n 's/^python scenario: \([0-9]*\) checks passed.*/\1/p' "$work/python.out")"

# --- 3. TypeScript: openapi-typescript + openapi-fetch ------------------------------------
step "typescript: openapi-typescript, tsc, openapi-fetch"
rm -rf "$TS_DIR/generated"
mkdir -p "$TS_DIR/generated"
(cd "$TS_DIR" && npx --no-install openapi-typescript "$spec" -o generated/api.d.ts)
(cd "$TS_DIR" && npx --no-install tsc --noEmit -p .) || die "clients/typescript/scenario.ts does not type-check against the generated types"
log "scenario.ts type-checks"

# invalid.ts must not compile, and exactly its lines marked `; // rejects: ...`
# must be the ones in error: a marked case that tsc accepts, or an error
# elsewhere (a broken import would reject everything for the wrong reason),
# fails the run.
marked="$(grep -n '; // rejects: ' "$TS_DIR/invalid.ts" | cut -d: -f1 | sort -n | tr '\n' ' ')"
[[ -n "$marked" ]] || die "invalid.ts has no marked cases"
printf '{ "extends": "../tsconfig.json", "files": ["../invalid.ts"] }\n' >"$TS_DIR/generated/tsconfig.invalid.json"
set +e
(cd "$TS_DIR" && npx --no-install tsc --noEmit --pretty false -p generated/tsconfig.invalid.json) >"$work/invalid.out" 2>&1
invalid_rc=$?
set -e
((invalid_rc != 0)) || die "tsc accepted clients/typescript/invalid.ts"
rejected="$(sed -n 's/^invalid\.ts(\([0-9]*\),.*/\1/p' "$work/invalid.out" | sort -n -u | tr '\n' ' ')"
if [[ "$rejected" != "$marked" ]]; then
  cat "$work/invalid.out" >&2
  die "tsc rejected lines [$rejected] of invalid.ts; its marked cases are lines [$marked]"
fi
# The same file with `// @ts-expect-error` above every marked line must compile
# cleanly (an unused directive is an error): each case is rejected on its own.
awk '/; \/\/ rejects: /{ match($0, /^ */); print substr($0, 1, RLENGTH) "// @ts-expect-error"} { print }' \
  "$TS_DIR/invalid.ts" >"$TS_DIR/generated/typecheck_rejects.ts"
sed -i 's#"\./generated/api\.js"#"./api.js"#' "$TS_DIR/generated/typecheck_rejects.ts"
printf '{ "extends": "../tsconfig.json", "files": ["typecheck_rejects.ts"] }\n' >"$TS_DIR/generated/tsconfig.rejects.json"
(cd "$TS_DIR" && npx --no-install tsc --noEmit -p generated/tsconfig.rejects.json) ||
  die "generated/typecheck_rejects.ts (invalid.ts with @ts-expect-error) does not compile"
ts_rejected=$(wc -w <<<"$marked")
log "tsc rejects all $ts_rejected marked cases of invalid.ts, and nothing else"
while IFS= read -r line; do log "  rejected: ${line#*// rejects: }"; done < <(grep '; // rejects: ' "$TS_DIR/invalid.ts")

log "running clients/typescript/scenario.ts against $base"
(cd "$TS_DIR" && BASE_URL="$base" TOKEN="$(mint_token ts-alice)" TOKEN2="$(mint_token ts-bob)" npx --no-install tsx scenario.ts) | tee "$work/ts.out"
ts_checks="$(sed -n 's/^typescript scenario: \([0-9]*\) checks passed.*/\1/p' "$work/ts.out")"

# --- summary -------------------------------------------------------------------------------------------
step "summary"
{
  echo "openapi.json: $operations operations"
  echo "redocly lint (recommended): $lint_errors errors, $lint_warnings warnings"
  if [[ -n "$py_warnings" ]]; then
    echo "openapi-python-client $want warnings:"
    sed 's/^/  | /' <<<"$py_warnings"
  else
    echo "openapi-python-client $want: no warnings"
  fi
  echo "python scenario: ${py_checks:-?} checks passed"
  echo "typescript: invalid.ts rejected on all $ts_rejected marked cases"
  echo "typescript scenario: ${ts_checks:-?} checks passed"
  echo "result: PASSED"
} >&2
