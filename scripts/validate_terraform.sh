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

# A CLI configuration named but missing only makes every command warn.
if [[ -n ${TF_CLI_CONFIG_FILE:-} && ! -e $TF_CLI_CONFIG_FILE ]]; then
  unset TF_CLI_CONFIG_FILE
fi
# No version check against the network, and the first line printed without
# a pipe into head: under pipefail, head closing early kills terraform with
# SIGPIPE (exit 141) whenever it is still writing.
export CHECKPOINT_DISABLE=1
tf_version=$(terraform version)
echo "${tf_version%%$'\n'*}"
terraform fmt -check -recursive -diff terraform

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r terraform "$work/"
mirror=${TF_PROVIDER_MIRROR:-/opt/tf-plugins}
if [[ -d $mirror ]]; then
  cat >"$work/cli.tfrc" <<TFRC
provider_installation {
  filesystem_mirror {
    path    = "$mirror"
    include = ["registry.terraform.io/hashicorp/*"]
  }
}
TFRC
  export TF_CLI_CONFIG_FILE="$work/cli.tfrc"
  echo "providers from the mirror $mirror"
fi
export TF_IN_AUTOMATION=1 TF_INPUT=0

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
