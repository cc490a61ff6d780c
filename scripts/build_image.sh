#!/usr/bin/env bash
# Builds the EKS image without a Docker daemon: buildah, from binaries built
# on this host (deploy/docker/Dockerfile.prebuilt), into buildah's local
# storage; optionally also writes it to an OCI archive.
#
#   cargo build --release --locked -p server     # first (not done here)
#   scripts/build_image.sh [--arch amd64|arm64] [--tag NAME:TAG] [--base IMAGE]
#                          [--archive FILE.tar]
#
#   --arch     architecture of the image (default: this host's). The EKS
#              module's default nodes are Graviton (arm64): on an x86_64 host
#              cross-compile first, e.g. `cargo lambda build --release --arm64
#              -p server` (zig links against an old glibc); the
#              binaries are then taken from target/aarch64-unknown-linux-gnu/
#              release. Dockerfile.prebuilt runs nothing, so no emulation is
#              needed to build a foreign-architecture image.
#   --tag      image name (default expense-api:<git short sha>)
#   --base     the distroless base to build on, if not gcr.io's: a mirror
#              (REGISTRY/distroless/cc-debian12:nonroot), or an image already
#              in buildah's storage (e.g. loaded with
#              `buildah pull docker-archive:distroless.tar`)
#   --archive  also write the image to FILE.tar (oci-archive), e.g. to load
#              it elsewhere (`skopeo copy oci-archive:FILE.tar docker://...`)
#
# What works where:
#   - Docker engine or BuildKit available (a CI runner, a laptop): use the
#     root Dockerfile instead (`docker build .`); it compiles inside the
#     image and needs crates.io and the two base images from the network.
#   - No daemon, network to a registry with the distroless base: this script
#     (buildah with --isolation chroot and the vfs storage driver, which work
#     unprivileged-in-a-container and without overlayfs).
#   - No daemon, no registry (this workspace: only the package registries
#     are reachable): buildah itself installs from Debian and builds, but the
#     base image cannot be pulled; the script says so and exits 2, unless
#     --base names a copy already in local storage.
# Not wired into CI. The binaries must need glibc <= 2.36 (what distroless
# cc-debian12 has: build on Debian 12, or link against an older glibc) and be
# built for the nodes' architecture; the script checks both with readelf.
#
# Exit status: 0 built; 1 usage or missing binaries; 2 base image
# unavailable; 3 no buildah and it could not be installed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

tag="expense-api:$(git rev-parse --short HEAD 2>/dev/null || echo dev)"
base=gcr.io/distroless/cc-debian12:nonroot
archive=""
case "$(uname -m)" in
  x86_64) host_arch=amd64 ;;
  aarch64 | arm64) host_arch=arm64 ;;
  *) host_arch="$(uname -m)" ;;
esac
arch="$host_arch"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --arch) arch="$2"; shift 2 ;;
    --tag) tag="$2"; shift 2 ;;
    --base) base="$2"; shift 2 ;;
    --archive) archive="$2"; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "build_image.sh: unknown argument $1 (see --help)" >&2; exit 1 ;;
  esac
done

say() { echo "build_image.sh: $*" >&2; }

# vfs and chroot: no overlayfs, no user namespaces or runc needed, so it works
# inside an unprivileged container too (slower and bigger on disk than the
# defaults; override with STORAGE_DRIVER / BUILDAH_ISOLATION).
export STORAGE_DRIVER="${STORAGE_DRIVER:-vfs}"
export BUILDAH_ISOLATION="${BUILDAH_ISOLATION:-chroot}"

# 1. the builder
if ! command -v buildah >/dev/null 2>&1; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    say "buildah is missing; installing it from Debian's packages"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq buildah >/dev/null; }; then
      say "could not install buildah (apt-get install -y buildah failed)"
      exit 3
    fi
  else
    say "buildah is missing: install it (Debian/Ubuntu: apt-get install buildah), or use 'docker build .' where a Docker engine exists"
    exit 3
  fi
fi
say "$(buildah --version)"

# 2. the binaries
case "$arch" in
  amd64) triple=x86_64-unknown-linux-gnu; machine="X86-64" ;;
  arm64) triple=aarch64-unknown-linux-gnu; machine="AArch64" ;;
  *) say "--arch must be amd64 or arm64, not $arch"; exit 1 ;;
esac
if [[ "$arch" == "$host_arch" ]]; then
  release="${CARGO_TARGET_DIR:-target}/release"
  build_hint="cargo build --release --locked -p server"
else
  release="${CARGO_TARGET_DIR:-target}/$triple/release"
  build_hint="cargo lambda build --release --$arch -p server (or cargo build --target $triple)"
fi
missing=0
for bin in server; do
  if [[ ! -x "$release/$bin" ]]; then
    say "missing $release/$bin: run '$build_hint' first"
    missing=1
  elif command -v readelf >/dev/null 2>&1; then
    if ! readelf -h "$release/$bin" | grep "Machine:.*$machine" >/dev/null; then
      say "$release/$bin is not a $arch ($machine) binary"
      missing=1
    fi
    newest=$(readelf -V "$release/$bin" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)
    if [[ -n "$newest" ]] && [[ "$(printf '%s\n' "$newest" GLIBC_2.36 | sort -V | tail -1)" != GLIBC_2.36 ]]; then
      say "$release/$bin needs $newest, newer than distroless cc-debian12's glibc 2.36: build it on Debian 12"
      missing=1
    fi
  fi
done

# 3. the base image, for that architecture: local storage first, then its
# registry
local_arch=$(buildah inspect --type image --format '{{.OCIv1.Architecture}}' "$base" 2>/dev/null || true)
if [[ "$local_arch" != "$arch" ]]; then
  say "pulling the base image $base ($arch)"
  if ! buildah pull --quiet --arch "$arch" "$base" >/dev/null; then
    say "cannot get the base image $base."
    say "  Needs either a registry reachable from here that serves it (gcr.io, or a"
    say "  mirror: --base MIRROR/distroless/cc-debian12:nonroot), or a copy in"
    say "  buildah's local storage (buildah pull docker-archive:FILE.tar or"
    say "  oci-archive:FILE.tar, then --base with its name)."
    exit 2
  fi
fi
[[ $missing -eq 0 ]] || exit 1

# 4. build from a context of just the two binaries
context="$(mktemp -d)"
trap 'rm -rf "$context"' EXIT
cp "$release/server" "$context/"
buildah bud --pull=never --arch "$arch" --from "$base" -f deploy/docker/Dockerfile.prebuilt -t "$tag" "$context"
if [[ -n "$archive" ]]; then
  buildah push "$tag" "oci-archive:$archive:$tag"
  say "wrote $archive"
fi
say "built $tag ($arch; buildah images; push with: buildah push $tag docker://REGISTRY/REPOSITORY:TAG)"
