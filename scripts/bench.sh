#!/usr/bin/env bash
# `make bench`: benchmarks (not timed tests). Reports the Lambda zip sizes when `make build` has
# run, then runs `cargo bench` for the workspace crates that have a benches/ folder.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -d target/lambda-deploy ]; then
  echo "== Lambda zip sizes ($(cat target/lambda-deploy/ARCH 2>/dev/null || echo '?'))"
  # The zip as uploaded, and the bootstrap binary inside it (target: 6 MB each).
  python3 - target/lambda-deploy/*/bootstrap.zip <<'PY'
import os, sys, zipfile
for z in sys.argv[1:]:
    raw = zipfile.ZipFile(z).getinfo("bootstrap").file_size
    verdict = "met" if raw <= 6_000_000 else f"missed by {(raw / 6_000_000 - 1) * 100:.0f}%"
    print(f"  {os.path.basename(os.path.dirname(z)):<18} zip {os.path.getsize(z) / 1e6:5.2f} MB"
          f"   bootstrap {raw / 1e6:5.2f} MB (target 6 MB: {verdict})")
PY
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

# Lambda cold start (spawn -> first invocation answered under a loopback runtime-API emulator) of
# each function's release binary built for the host, and the peak RSS of `escalate` with a batch
# of 10. Runs: COLDSTART_RUNS (default 7). Driver: tests/e2e/src/bin/coldstart.rs. About 1 minute.
echo "== Lambda cold start (cargo build --release -p <functions>; cargo run --release -p bridge-e2e --bin coldstart)"
cargo build --release -p intercom-webhook -p zendesk-webhook -p escalate -p ticket-intake -p ticket-status \
  -p tag-sync -p csat-report -p profile-sync
timeout 600 cargo run --release -q -p bridge-e2e --bin coldstart | tee target/bench/coldstart.md
