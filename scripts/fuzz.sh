#!/usr/bin/env bash
# `make fuzz`: every cargo-fuzz target for a bounded time (FUZZ_SECONDS each, default 45).
# Needs a nightly toolchain (libFuzzer + sanitizer flags) and cargo-fuzz; installs the pinned
# cargo-fuzz when missing. The committed seeds under fuzz/corpus/<target> are read, never
# written: new inputs go to <cargo target dir>/fuzz-corpus/<target> (./target unless
# CARGO_TARGET_DIR says otherwise), so the repo's corpora stay small; logs to
# <cargo target dir>/fuzz-logs. A crash leaves its input under fuzz/artifacts/<target>/ and fails
# the run.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo_target=$(cargo metadata --format-version 1 --no-deps \
  | "${PYTHON:-python3}" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')

CARGO_FUZZ_VERSION=0.13.1
FUZZ_SECONDS=${FUZZ_SECONDS:-45}
NIGHTLY=${FUZZ_TOOLCHAIN:-nightly}

if ! rustup run "$NIGHTLY" rustc --version >/dev/null 2>&1; then
  rustup toolchain install "$NIGHTLY" --profile minimal
fi
if [ "$(cargo fuzz --version 2>/dev/null | awk '{print $2}')" != "$CARGO_FUZZ_VERSION" ]; then
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi

mapfile -t targets < <(cd fuzz && cargo +"$NIGHTLY" fuzz list)
[ "$#" -gt 0 ] && targets=("$@")
cd fuzz
cargo +"$NIGHTLY" fuzz build
mkdir -p "$cargo_target/fuzz-logs"
for t in "${targets[@]}"; do
  work="$cargo_target/fuzz-corpus/$t"
  log="$cargo_target/fuzz-logs/$t.log"
  mkdir -p "$work"
  echo "== fuzz $t for ${FUZZ_SECONDS}s (log: $log)"
  status=0
  cargo +"$NIGHTLY" fuzz run "$t" "$work" "corpus/$t" -- \
    -max_total_time="$FUZZ_SECONDS" -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    >"$log" 2>&1 || status=$?
  grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" | sed 's/^/   /' || true
  if [ "$status" -ne 0 ]; then
    tail -n 40 "$log" >&2
    echo "make fuzz: $t failed (exit $status); the input is under fuzz/artifacts/$t/" >&2
    exit 1
  fi
done
echo "make fuzz: ${#targets[@]} targets, ${FUZZ_SECONDS}s each, no crash"
