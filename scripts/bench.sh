#!/usr/bin/env bash
# `make bench`: benchmarks (not timed tests). Reports the Lambda zip sizes when `make build` has
# run, then runs `cargo bench` for the workspace crates that have a benches/ folder.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -d target/lambda-deploy ]; then
  echo "== Lambda zip sizes ($(cat target/lambda-deploy/ARCH 2>/dev/null || echo '?'))"
  for z in target/lambda-deploy/*/bootstrap.zip; do
    [ -f "$z" ] && printf '  %-20s %6d KiB\n' "$(basename "$(dirname "$z")")" $(( $(stat -c %s "$z") / 1024 ))
  done
else
  echo "== Lambda zip sizes: run 'make build' first"
fi

mapfile -t benched < <(find shared functions cli tests -mindepth 2 -maxdepth 3 -type d -name benches \
  -exec dirname {} \; 2>/dev/null | sort)
if [ "${#benched[@]}" -eq 0 ]; then
  echo "make bench: no benchmarks are wired yet (no crate has a benches/ folder)." >&2
  exit 1
fi
for dir in "${benched[@]}"; do
  pkg=$(sed -n 's/^name *= *"\(.*\)"/\1/p' "$dir/Cargo.toml" | head -n1)
  echo "== cargo bench -p $pkg"
  cargo bench -p "$pkg"
done

# Escalation end to end against the real `bridge serve` (release build) and the simulators,
# all on loopback: latency, throughput, CPU and peak RSS of the bridge process, vendor calls.
# Sizes: BENCH_SEQUENTIAL (default 50) and BENCH_BURST (default 300). Driver: tests/e2e/src/bin/bench.rs.
echo "== escalation end to end (cargo build --release -p bridge-cli; cargo run --release -p bridge-e2e --bin bench)"
cargo build --release -p bridge-cli
mkdir -p target/bench
cargo run --release -q -p bridge-e2e --bin bench | tee target/bench/escalation.md
