#!/usr/bin/env bash
# Builds every Lambda function for arm64 (provided.al2023) as a zip, where
# Terraform's api module looks for them (with CARGO_TARGET_DIR unset):
#   target/lambda/<function>/bootstrap.zip
#
#   scripts/package.sh                 # every function
#   scripts/package.sh get-expense     # only these
#
# Installs cargo-lambda and zig (its cross-linker) from PyPI, and the
# aarch64 Rust target, when they are missing. Prints each zip's size.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

CARGO_LAMBDA_VERSION=1.9.2
ZIGLANG_VERSION=0.17.1
if [[ "$(cargo lambda --version 2>/dev/null)" != "cargo-lambda $CARGO_LAMBDA_VERSION"* ]]; then
  echo "package.sh: installing cargo-lambda $CARGO_LAMBDA_VERSION and ziglang $ZIGLANG_VERSION from PyPI" >&2
  python3 -m pip install --quiet "cargo-lambda==$CARGO_LAMBDA_VERSION" "ziglang==$ZIGLANG_VERSION"
fi
rustup target list --installed | grep -qx aarch64-unknown-linux-gnu ||
  rustup target add aarch64-unknown-linux-gnu

# Every function is a package under functions/ (routes, fallback, migrate,
# purge-idempotency): the same list routes.json and the templates use.
if [[ $# -gt 0 ]]; then
  functions=("$@")
else
  mapfile -t functions < <(find functions -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort)
fi
packages=()
for function in "${functions[@]}"; do
  packages+=(--package "$function")
done

# aws-lc's CPU-jitter entropy adds ~50 ms to cold starts; not needed here.
export AWS_LC_SYS_NO_JITTER_ENTROPY=1
cargo lambda build --release --arm64 --output-format zip "${packages[@]}"

for function in "${functions[@]}"; do
  zip="${CARGO_TARGET_DIR:-target}/lambda/$function/bootstrap.zip"
  printf '%-22s %8s bytes\n' "$function" "$(stat -c %s "$zip")"
done
