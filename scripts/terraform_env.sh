# Sourced (not run) by scripts/validate_terraform.sh and
# scripts/rehearse_terraform.sh: the Terraform environment both use.
#
#   terraform_env DIR
#
# - a TF_CLI_CONFIG_FILE that is named but missing is unset (it only makes
#   every command warn);
# - CHECKPOINT_DISABLE=1 (no version check against the network),
#   TF_IN_AUTOMATION=1, TF_INPUT=0;
# - when TF_PROVIDER_MIRROR (default /opt/tf-plugins) is a directory, a CLI
#   configuration DIR/cli.tfrc that installs the hashicorp providers from
#   that filesystem mirror only (no network), exported as
#   TF_CLI_CONFIG_FILE, and tf_mirror set to the mirror; otherwise tf_mirror
#   is empty and providers come from the registry.

terraform_env() { # dir
  local dir=$1
  if [[ -n ${TF_CLI_CONFIG_FILE:-} && ! -e $TF_CLI_CONFIG_FILE ]]; then
    unset TF_CLI_CONFIG_FILE
  fi
  export CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1 TF_INPUT=0
  tf_mirror=${TF_PROVIDER_MIRROR:-/opt/tf-plugins}
  if [[ -d $tf_mirror ]]; then
    cat >"$dir/cli.tfrc" <<TFRC
provider_installation {
  filesystem_mirror {
    path    = "$tf_mirror"
    include = ["registry.terraform.io/hashicorp/*"]
  }
}
TFRC
    export TF_CLI_CONFIG_FILE=$dir/cli.tfrc
  else
    tf_mirror=
  fi
}
