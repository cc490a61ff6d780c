#!/usr/bin/env bash
# Builds the one Lambda binary every function runs, for arm64
# (provided.al2023), as a zip where Terraform's api module looks for it
# (with CARGO_TARGET_DIR unset):
#   target/lambda/bootstrap/bootstrap.zip
# Each function's handler (its name in routes.json) chooses its job. The
# build leaves SQLite out (the bootstrap package's default features).
#
#   scripts/package.sh
#
# Installs cargo-lambda and zig (its cross-linker) from PyPI, and the
# aarch64 Rust target, when they are missing. Prints the zip's size.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

CARGO_LAMBDA_VERSION=1.9.2
ZIGLANG_VERSION=0.17.1
if [[ "$(cargo lambda --version 2>/dev/null)" != "cargo-lambda $CARGO_LAMBDA_VERSION"* ]]; then
  echo "package.sh: installing cargo-lambda $CARGO_LAMBDA_VERSION and ziglang $ZIGLANG_VERSION from PyPI" >&2
  python3 -m pip install --quiet "cargo-lambda==$CARGO_LAMBDA_VERSION" "ziglang==$ZIGLANG_VERSION"
fi
rustup target list --installed | grep -x aarch64-unknown-linux-gnu >/dev/null ||
  rustup target add aarch64-unknown-linux-gnu

# aws-lc's CPU-jitter entropy adds ~50 ms to cold starts; not needed here.
export AWS_LC_SYS_NO_JITTER_ENTROPY=1
start=$SECONDS
cargo lambda build --release --arm64 --output-format zip --package bootstrap
zip="${CARGO_TARGET_DIR:-target}/lambda/bootstrap/bootstrap.zip"
printf 'package.sh: %s: %s bytes, built in %ss\n' "$zip" "$(stat -c %s "$zip")" "$((SECONDS - start))"
