#!/usr/bin/env bash
# Offline checks of the deployment definitions; no AWS account needed.
#   - cfn-lint and `sam validate --lint` on the SAM template, its
#     generated per-route resources against scripts/sam_routes.py, and its
#     listener rules against routes.json
#   - terraform/ parses, and every module argument, variable, local, module
#     output and resource reference resolves (our own checker, which needs
#     no Terraform), then, where Terraform is installed, `terraform fmt
#     -check` and `terraform init -backend=false` + `terraform validate` of
#     each environment (providers from TF_PROVIDER_MIRROR, default
#     /opt/tf-plugins, when that directory exists; else the registry)
#   - checkov on terraform/ and the template: zero failed checks (every
#     skip is an inline comment with its reason)
# routes.json itself is checked against the route table by the test suite.
# The pinned tools live in a virtualenv reused across runs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib/venv.sh

venv="${INFRA_VENV:-$HOME/.cache/expense-tracker/infra-venv}"
ensure_venv "$venv" scripts/requirements-infra.txt
py="$venv/bin/python"
sam_venv="${SAM_VENV:-$HOME/.cache/expense-tracker/sam-venv}"
ensure_venv "$sam_venv" scripts/requirements-sam.txt

step() { printf '\n--> %s\n' "$*"; }

step "cfn-lint template.yaml"
"$venv/bin/cfn-lint" template.yaml

step "sam validate --lint template.yaml (offline: the transform and cfn-lint, no AWS calls)"
SAM_CLI_TELEMETRY=0 AWS_ACCESS_KEY_ID=none AWS_SECRET_ACCESS_KEY=none \
  "$sam_venv/bin/sam" validate --lint --template template.yaml --region us-east-1

step "SAM per-route resources are what scripts/sam_routes.py writes from routes.json"
"$py" scripts/sam_routes.py --check

step "SAM listener rules = routes.json"
"$py" scripts/check_sam_routes.py

step "terraform references (the checker's own tests, then terraform/)"
"$py" scripts/check_terraform.py --self-test
"$py" scripts/check_terraform.py

step "terraform fmt and validate (each environment)"
if command -v terraform >/dev/null; then
  bash scripts/validate_terraform.sh
else
  echo "terraform is not installed: fmt and validate skipped (the reference checker above ran)"
fi

step "checkov terraform/"
"$venv/bin/checkov" -d terraform --framework terraform --skip-download --quiet --compact

step "checkov template.yaml"
"$venv/bin/checkov" -f template.yaml --framework cloudformation --skip-download --quiet --compact
