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
echo "deployed $env"
