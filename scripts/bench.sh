#!/usr/bin/env bash
# `make bench`: benchmarks (not timed tests). Reports the Lambda zip sizes when `make build` has
# run, then runs `cargo bench` for the workspace crates that have a benches/ folder.
# Binaries are run from cargo's target directory (CARGO_TARGET_DIR is honoured); the zips are read
# where `make build` stages them (target/lambda-deploy).
#
# Raw outputs: each benchmark's output goes to $BENCH_OUT (default target/bench), one file per
# benchmark, its first line naming the command, the date and the commit. docs/BENCHMARKS.md cites
# the copies kept in docs/bench/: run `BENCH_OUT=docs/bench make bench` to write them there
# directly, or copy the files of target/bench there after a run (`cp target/bench/*.txt docs/bench/`).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo_target=$(cargo metadata --format-version 1 --no-deps \
  | "${PYTHON:-python3}" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
out="${BENCH_OUT:-target/bench}"
mkdir -p "$out" target/bench
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo '+uncommitted changes')"

# run_to <file> <command...>: runs the command, its stdout and stderr to the terminal and to
# $out/<file> after a header line (command, date, commit).
run_to() {
  local file="$out/$1"
  shift
  { echo "# command: $*; date: $(date -u +%Y-%m-%dT%H:%M:%SZ); commit: $commit"; "$@" 2>&1; } | tee "$file"
  return "${PIPESTATUS[0]}"
}

# Bootstrap sizes: the zips `make build` staged (arm64 where the aarch64 std is installed), when
# it has run; step 3 below prints the host binaries of the same `lambda` profile in any case.
if [ -d target/lambda-deploy ]; then
  echo "== Lambda zip sizes ($(cat target/lambda-deploy/ARCH 2>/dev/null || echo '?'))"
  # The zip as uploaded, and the bootstrap binary inside it (target: 8 MB each, issue 18.6).
  python3 - target/lambda-deploy/*/bootstrap.zip <<'PY'
import os, sys, zipfile
for z in sys.argv[1:]:
    raw = zipfile.ZipFile(z).getinfo("bootstrap").file_size
    verdict = "met" if raw <= 8_000_000 else f"missed by {(raw / 8_000_000 - 1) * 100:.0f}%"
    print(f"  {os.path.basename(os.path.dirname(z)):<18} zip {os.path.getsize(z) / 1e6:5.2f} MB"
          f"   bootstrap {raw / 1e6:5.2f} MB (target 8 MB: {verdict})")
PY
else
  echo "== Lambda zip sizes: run 'make build' first (step 3 prints the host binaries' sizes)"
fi

# Three builds in all, each once: cargo's feature unification differs between package sets, so
# every extra `cargo build`/`cargo run` with another set recompiles the dependency tree (on a
# 2-core machine that was most of a 50-minute run).
mapfile -t benched < <(find shared functions cli tests -mindepth 2 -maxdepth 3 -type d -name benches \
  -exec dirname {} \; 2>/dev/null | sort)
if [ "${#benched[@]}" -eq 0 ]; then
  echo "make bench: no benchmarks are wired yet (no crate has a benches/ folder)." >&2
  exit 1
fi
pkgs=()
for dir in "${benched[@]}"; do
  pkgs+=(-p "$(sed -n 's/^name *= *"\(.*\)"/\1/p' "$dir/Cargo.toml" | head -n1)")
done
# 1. criterion (ingress) and the 100,000-contact backfill, one build for all benched crates; each
# bench executable then runs on its own, its output to $out/<bench>.txt.
echo "== cargo bench ${pkgs[*]}"
mapfile -t bench_exes < <(cargo bench "${pkgs[@]}" --no-run --message-format=json \
  | "${PYTHON:-python3}" -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and "bench" in m["target"]["kind"]:
        print(m["target"]["name"] + " " + m["executable"])')
for entry in "${bench_exes[@]}"; do
  name="${entry%% *}"
  exe="${entry#* }"
  run_to "$name.txt" "$exe" --bench
done

# 2. Escalation end to end against the real `bridge serve` (release build) and the simulators,
# all on loopback: latency, throughput, CPU and peak RSS of the bridge process, vendor calls.
# Sizes: BENCH_SEQUENTIAL (default 50) and BENCH_BURST (default 300). Driver: tests/e2e/src/bin/bench.rs.
# The cold-start driver is built here too (same package set, so no second build).
echo "== escalation end to end (cargo build --release -p bridge-cli -p bridge-e2e --bins; $cargo_target/release/bench)"
cargo build --release -p bridge-cli -p bridge-e2e --bins
BRIDGE_BIN="${BRIDGE_BIN:-$cargo_target/release/bridge}" run_to escalation-serve.txt "$cargo_target/release/bench"

# 2b. What an empty repair sweep costs per run and per month (issue 16). Driver:
# tests/e2e/src/bin/sweep_cost.rs (built above).
echo "== empty repair sweeps ($cargo_target/release/sweep_cost)"
run_to sweeps.md "$cargo_target/release/sweep_cost"

# 3. Lambda cold start (spawn -> first invocation answered under a loopback runtime-API emulator) of
# each function's binary built for the host with the `lambda` profile `make build` uses (size
# first: opt-level "s", fat LTO), and the peak RSS of `escalate` with a batch of 10. The functions
# are built together, alone, as `make build` builds them (their own feature set, not the CLI's).
# Runs: COLDSTART_RUNS (default 7). Driver: tests/e2e/src/bin/coldstart.rs.
echo "== Lambda cold start (cargo build --profile lambda -p <functions>; $cargo_target/release/coldstart)"
functions=(intercom-webhook zendesk-webhook escalate ticket-intake ticket-status tag-sync csat-report profile-sync)
cargo build --profile lambda "${functions[@]/#/-p}"
echo "== bootstrap sizes, host build ($(uname -m), profile lambda; target 8 MB each for arm64)" | tee "$out/bootstrap-sizes.txt"
python3 - "${functions[@]/#/$cargo_target/lambda/}" <<'PY' | tee -a "$out/bootstrap-sizes.txt"
import os, sys
for path in sys.argv[1:]:
    print(f"  {os.path.basename(path):<18} {os.path.getsize(path) / 1e6:5.2f} MB")
PY
LAMBDA_BIN_DIR="${LAMBDA_BIN_DIR:-$cargo_target/lambda}" run_to coldstart.txt timeout 600 "$cargo_target/release/coldstart"
echo "== raw outputs in $out (docs/BENCHMARKS.md cites the copies in docs/bench/)"
