#!/usr/bin/env bash
# Fuzzing of the parsers that see client bytes, with cargo-fuzz (libFuzzer).
# The fuzz crate is fuzz/ (its own workspace; targets in fuzz/fuzz_targets,
# checks in fuzz/src/lib.rs).
#
#   scripts/fuzz.sh build                     build every target
#   scripts/fuzz.sh check                     build, then replay the seeds
#                                             (fuzz/corpus) and minimized
#                                             crashes (fuzz/regressions)
#                                             through the binaries, and run
#                                             the fuzz crate's own tests
#                                             (fuzz/tests): no fuzzing; CI
#   scripts/fuzz.sh run [SECONDS] [TARGET...] fuzz each target (all by
#                                             default) for SECONDS (60), one
#                                             after the other; exits non-zero
#                                             on a crash, naming the artifact
#   scripts/fuzz.sh list                      the targets
#
# Stable Rust: built with `cargo fuzz build --sanitizer none` (sanitizers
# need nightly; the code under test is safe Rust, and libFuzzer's coverage
# instrumentation, -Cpasses=sancov-module, works on stable).
#
# Environment:
#   FUZZ_TARGET_DIR  build directory (default fuzz/target); CI points it
#                    at a cache outside the clone so that builds are reused
#   FUZZ_WORK_DIR    libFuzzer's working corpora, one folder per target
#                    (default fuzz/work); the seeds in fuzz/corpus are only
#                    read, never written
#   FUZZ_ARGS        extra libFuzzer flags for `run`, e.g. "-max_len=8192"
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD

CARGO_FUZZ_VERSION=0.13.2
TARGETS=(money cursor expense_json list_query csv_import jwt_header)

target_dir=${FUZZ_TARGET_DIR:-$root/fuzz/target}
work_dir=${FUZZ_WORK_DIR:-$root/fuzz/work}
# Absolute, since cargo fuzz runs cargo from fuzz/.
[[ $target_dir = /* ]] || target_dir=$root/$target_dir
[[ $work_dir = /* ]] || work_dir=$root/$work_dir
triple=$(rustc -vV | sed -n 's/^host: //p')
build_flags=(--sanitizer none --target-dir "$target_dir")

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
}

ensure_cargo_fuzz() {
  if [[ "$(cargo fuzz --version 2>/dev/null)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]]; then
    echo "fuzz.sh: installing cargo-fuzz $CARGO_FUZZ_VERSION" >&2
    # Its own temporary target dir, not a build cache of the project's.
    env -u CARGO_TARGET_DIR cargo install cargo-fuzz --locked --version "$CARGO_FUZZ_VERSION"
  fi
}

build() {
  ensure_cargo_fuzz
  local start=$SECONDS
  # cargo fuzz build runs cargo from fuzz/, against fuzz/Cargo.toml.
  (cd fuzz && cargo fuzz build "${build_flags[@]}")
  echo "fuzz.sh: built ${#TARGETS[@]} targets in $((SECONDS - start))s" \
    "($target_dir/$triple/release)"
}

binary() { echo "$target_dir/$triple/release/$1"; }

# Replays seeds and regressions through the built binaries: libFuzzer runs
# each file given on its command line once and exits non-zero on a crash.
check() {
  build
  local failed=0 passed=0 target files
  for target in "${TARGETS[@]}"; do
    files=()
    for dir in "fuzz/corpus/$target" "fuzz/regressions/$target"; do
      [[ -d $dir ]] && while IFS= read -r -d '' f; do files+=("$f"); done \
        < <(find "$dir" -type f -print0 | sort -z)
    done
    if ((${#files[@]} == 0)); then
      echo "fuzz.sh: $target has no seeds" >&2
      failed=1
      continue
    fi
    # libFuzzer runs each file named on its command line once, no fuzzing.
    local log
    log=$(mktemp)
    if "$(binary "$target")" -runs=1 "${files[@]}" >"$log" 2>&1; then
      echo "fuzz.sh: check $target: ${#files[@]} inputs ok"
      passed=$((passed + 1))
    else
      echo "fuzz.sh: check $target FAILED:" >&2
      tail -n 40 "$log" >&2
      failed=1
    fi
    rm -f "$log"
  done
  echo "fuzz: $passed passed, $((${#TARGETS[@]} - passed)) failed"
  # The regression tests that assert what a fixed crash must now give: a
  # debug build, in CARGO_TARGET_DIR when set (CI's, which already holds
  # the workspace's debug dependencies), not in the fuzz build directory.
  cargo test --manifest-path fuzz/Cargo.toml || failed=1
  return "$failed"
}

# One target for $2 seconds; prints runs, coverage and crashes.
run_one() {
  local target=$1 seconds=$2 log rc=0 start=$SECONDS
  mkdir -p "$work_dir/$target"
  log="$work_dir/$target.log"
  local dict=()
  [[ -f fuzz/dicts/$target.dict ]] && dict=("-dict=$root/fuzz/dicts/$target.dict")
  # shellcheck disable=SC2086 # FUZZ_ARGS is a list of flags
  (cd fuzz && cargo fuzz run "${build_flags[@]}" "$target" \
    "$work_dir/$target" "$root/fuzz/corpus/$target" -- \
    -max_total_time="$seconds" -print_final_stats=1 "${dict[@]}" ${FUZZ_ARGS:-}) \
    >"$log" 2>&1 || rc=$?
  local runs cov ft corpus artifact
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1 || true)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2 || true)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2 || true)
  corpus=$(grep -o 'corp: [0-9]*/[0-9]*[a-zA-Z]*' "$log" | tail -n 1 | cut -d' ' -f2 || true)
  artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1 || true)
  # libFuzzer's own count of seconds, else (after a crash) the wall time.
  local took
  took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1 || true)
  took=${took:-$((SECONDS - start))}
  if ((rc == 0)); then
    printf '%-13s %5ss  runs %-10s cov %-6s ft %-6s corpus %-12s crashes 0\n' \
      "$target" "$took" "${runs:-?}" "${cov:-?}" "${ft:-?}" "${corpus:-?}"
    return 0
  fi
  printf '%-13s %5ss  runs %-10s cov %-6s ft %-6s corpus %-12s crashes 1\n' \
    "$target" "$took" "${runs:-?}" "${cov:-?}" "${ft:-?}" "${corpus:-?}"
  echo "fuzz.sh: $target failed (exit $rc); log: $log" >&2
  if [[ -n $artifact ]]; then
    echo "fuzz.sh: artifact: $artifact" >&2
    echo "fuzz.sh: reproduce: (cd fuzz && cargo fuzz run ${build_flags[*]} $target $artifact)" >&2
    echo "fuzz.sh: minimize:  (cd fuzz && cargo fuzz tmin ${build_flags[*]} $target $artifact)" >&2
  fi
  grep -m 1 -A 30 -E "panicked at|==[0-9]+== ERROR|ERROR: libFuzzer" "$log" >&2 || tail -n 30 "$log" >&2
  return 1
}

run() {
  local seconds=${1:-60}
  [[ $seconds =~ ^[0-9]+$ ]] || usage
  shift || true
  local targets=("$@")
  ((${#targets[@]})) || targets=("${TARGETS[@]}")
  build
  local failed=()
  for target in "${targets[@]}"; do
    run_one "$target" "$seconds" || failed+=("$target")
  done
  if ((${#failed[@]})); then
    echo "fuzz.sh: crashes in: ${failed[*]}" >&2
    return 1
  fi
}

case "${1:-}" in
  build) build ;;
  check) check ;;
  run) shift; run "$@" ;;
  list) printf '%s\n' "${TARGETS[@]}" ;;
  *) usage ;;
esac
