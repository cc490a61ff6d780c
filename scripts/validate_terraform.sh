#!/usr/bin/env bash
# `terraform fmt -check` of terraform/, then `terraform init -backend=false`
# and `terraform validate` of every environment, in a copy of terraform/
# (the clone gets no .terraform directories or lock files).
#
# Providers come from a filesystem mirror when TF_PROVIDER_MIRROR (default
# /opt/tf-plugins) is a directory, so no network is needed; otherwise from
# the Terraform registry. No AWS credentials are used.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# CHECKPOINT_DISABLE, TF_IN_AUTOMATION, TF_INPUT and the provider mirror's
# CLI configuration (scripts/terraform_env.sh, shared with the rehearsal).
source scripts/terraform_env.sh
terraform_env "$work"

# The first line printed without a pipe into head: under pipefail, head
# closing early kills terraform with SIGPIPE (exit 141) whenever it is still
# writing.
tf_version=$(terraform version)
echo "${tf_version%%$'\n'*}"
if [[ -n $tf_mirror ]]; then echo "providers from the mirror $tf_mirror"; fi
terraform fmt -check -recursive -diff terraform

cp -r terraform "$work/"

for env_dir in "$work"/terraform/envs/*/; do
  env=$(basename "$env_dir")
  if ! terraform -chdir="$env_dir" init -backend=false -no-color >"$work/init-$env.log" 2>&1; then
    cat "$work/init-$env.log" >&2
    echo "validate_terraform.sh: terraform init failed in envs/$env" >&2
    exit 1
  fi
  printf 'envs/%s: ' "$env"
  terraform -chdir="$env_dir" validate -no-color
done
