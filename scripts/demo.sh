#!/usr/bin/env bash
# `make demo`: the scripted local story. Builds the `bridge` CLI and the demo driver, then runs
# the driver: it starts moto (local AWS), the Intercom and Zendesk simulators and the real
# `bridge serve` process, plays the story (a customer chats, an agent tags the conversation
# `escalate`), prints the ticket as Zendesk holds it, the link and the note, and stops
# everything it started. The binaries are run from cargo's target directory (CARGO_TARGET_DIR
# is honoured); the driver finds `bridge` next to itself.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export AWS_EC2_METADATA_DISABLED=true
cargo build -q -p bridge-cli -p bridge-e2e --bin bridge --bin demo
target=$(cargo metadata --format-version 1 --no-deps \
  | "${PYTHON:-python3}" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
exec "$target/debug/demo"
