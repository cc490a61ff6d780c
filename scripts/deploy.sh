#!/usr/bin/env bash
# Deploys one environment with Terraform, in the order that keeps the
# running release working (CI never runs this; it needs AWS credentials):
#
#   1. package     build the one Lambda binary (scripts/package.sh)
#   2. migrate     apply the new code's migrations with the new `migrate`
#                  function BEFORE any other code changes. Migrations are
#                  expand-only (new tables, columns with defaults, indexes),
#                  so the release still serving keeps working on them.
#   3. apply       terraform apply: new function versions are published, but
#                  the `live` aliases the ALB targets still name the old ones
#   4. shift       move each function's `live` alias to its new version
#                  (the alias is what the ALB target groups invoke)
#   5. backfill    once no old version can still be running a request (the
#                  request functions' timeout after the shift), invoke
#                  `migrate` with {"backfill": true}: it recomputes what the
#                  old release wrote without keeping it (report rollups, tag
#                  rows' dates), then switches reports and tag pages to it.
#                  Until then they read the expenses, correct but slower.
#                  Safe to repeat; with EKS pods also serving, run it only
#                  after their rollout too (deploy/k8s/README.md).
#
#   scripts/deploy.sh dev|staging|prod
#
# Rolling back is step 4 with the previous versions: the schema is still
# compatible because migrations only expand. Contracting (dropping what the
# old code used) is a later migration, deployed once no release uses it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
env="${1:?usage: scripts/deploy.sh dev|staging|prod}"
dir="terraform/envs/$env"
[[ -d "$dir" ]] || { echo "deploy.sh: no environment $dir" >&2; exit 2; }
tf() { terraform -chdir="$dir" "$@"; }

echo "==> 1. package"
bash scripts/package.sh

echo "==> 2. migrate (new migrate code, old application code)"
tf init -input=false
tf apply -input=false -auto-approve \
  -target='module.api.aws_lambda_function.this["migrate"]' \
  -target='module.api.aws_lambda_alias.live["migrate"]'
migrate="$(tf output -raw migrate_function_name)"
aws lambda invoke --function-name "$migrate" --qualifier live --payload '{}' \
  --cli-binary-format raw-in-base64-out /tmp/migrate-result.json
cat /tmp/migrate-result.json; echo
grep -q '"applied"' /tmp/migrate-result.json || { echo "deploy.sh: migration failed" >&2; exit 1; }

echo "==> 3. apply: publish the new versions, live aliases kept where they are"
pins="$(tf output -json function_names | python3 -c '
import json, subprocess, sys
pins = {}
for name, function in json.load(sys.stdin).items():
    alias = subprocess.run(["aws", "lambda", "get-alias", "--function-name", function, "--name", "live",
                            "--query", "FunctionVersion", "--output", "text"],
                           capture_output=True, text=True)
    if alias.returncode == 0 and name != "migrate":
        pins[name] = alias.stdout.strip()
print(json.dumps(pins))
')"
tf apply -input=false -auto-approve -var="pinned_versions=$pins"

echo "==> 4. shift the live aliases to the new versions"
tf apply -input=false -auto-approve

echo "==> 5. backfill, once no old version serves"
# An old version's invocation that began before the shift ends within the
# function timeout; wait for the longest of them, plus a margin.
wait_s="$(tf output -json function_names | python3 -c '
import json, subprocess, sys
longest = 0
for name, function in json.load(sys.stdin).items():
    if name == "migrate":
        continue
    out = subprocess.run(["aws", "lambda", "get-function-configuration", "--function-name", function,
                          "--qualifier", "live", "--query", "Timeout", "--output", "text"],
                         capture_output=True, text=True, check=True)
    longest = max(longest, int(out.stdout.strip()))
print(longest + 5)
')"
echo "waiting ${wait_s}s for requests at the old versions to finish"
sleep "$wait_s"
aws lambda invoke --function-name "$migrate" --qualifier live --payload '{"backfill": true}' \
  --cli-binary-format raw-in-base64-out --cli-read-timeout 0 /tmp/backfill-result.json
cat /tmp/backfill-result.json; echo
grep -q '"backfilled_users"' /tmp/backfill-result.json || {
  echo "deploy.sh: the backfill did not finish (reports keep reading the expenses meanwhile);" >&2
  echo "  run it again, or \`server backfill\` with the migrator's DATABASE_URL from a host in the VPC" >&2
  exit 1
}
echo "deployed $env"
