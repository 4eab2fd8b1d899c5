#!/usr/bin/env bash
# Smoke test: every function binary under `cargo lambda watch` (loopback only), invoked with the
# fixture events of infra/events, against DynamoDB/SQS on moto (started here). Vendor APIs point
# at a closed loopback port: the smoke test checks wiring, decoding and response shapes, not
# vendor behaviour (the e2e tests do that against the simulators).
#
#   make smoke            (or scripts/smoke.sh)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv/bin"
EVENTS="$ROOT/infra/events"
WORK="$(mktemp -d)"
PIDS=()

cleanup() {
  local status=$?
  for pid in "${PIDS[@]}"; do
    # each background process leads its own process group (set -m below): stop the group
    kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  if [ "$status" -ne 0 ]; then
    echo "--- cargo lambda watch log (tail) ---" >&2
    tail -n 40 "$WORK/watch.log" >&2 2>/dev/null || true
  fi
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT INT TERM
set -m

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
fail() { echo "smoke: FAIL: $*" >&2; exit 1; }

MOTO_PORT="$(free_port)"
WATCH_PORT="$(free_port)"
DEAD_PORT="$(free_port)" # nothing listens: vendor calls fail fast

"$VENV/moto_server" -H 127.0.0.1 -p "$MOTO_PORT" >"$WORK/moto.log" 2>&1 &
PIDS+=($!)

export AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT"
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_EC2_METADATA_DISABLED=true
export BRIDGE_TABLE="smoke-$$" BRIDGE_QUEUE_PREFIX="smoke-$$"
export BRIDGE_CONFIG="$ROOT/infra/config/escalate-conversation-to-zendesk.yaml"
export INTERCOM_CLIENT_SECRET=test-intercom-client-secret ZENDESK_WEBHOOK_SECRET=test-zendesk-webhook-secret
export BRIDGE_WEBHOOK_MAX_AGE_SECS=315360000 # the Zendesk fixture's timestamp is fixed
export INTERCOM_API_BASE="http://127.0.0.1:$DEAD_PORT" INTERCOM_ACCESS_TOKEN=smoke-token
export ZENDESK_BASE_URL="http://127.0.0.1:$DEAD_PORT" ZENDESK_EMAIL=smoke@example.com ZENDESK_API_TOKEN=smoke-token
export RUST_LOG=warn

for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$MOTO_PORT/moto-api/" >/dev/null 2>&1 && break
  sleep 0.1
done
cargo run -q -p bridge-cli --bin bridge -- init >"$WORK/init.log" 2>&1 || { cat "$WORK/init.log" >&2; fail "bridge init"; }

# Build the function binaries first, so no invoke waits for a compile.
FUNCTIONS="$(sed -n 's/^FUNCTIONS *:= *//p' "$ROOT/Makefile")"
cargo build -q $(printf -- '-p %s ' $FUNCTIONS) || fail "cargo build of the functions"

"$VENV/cargo-lambda" lambda watch -A 127.0.0.1 -P "$WATCH_PORT" --ignore-changes >"$WORK/watch.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do
  (echo >"/dev/tcp/127.0.0.1/$WATCH_PORT") 2>/dev/null && break
  sleep 0.2
done

# invoke <function> <event file|-> [json]: prints the function's response
invoke() {
  local fn="$1" file="$2"
  if [ "$file" = "-" ]; then
    "$VENV/cargo-lambda" lambda invoke "$fn" -A 127.0.0.1 -P "$WATCH_PORT" --data-ascii "$3" --output-format json
  else
    "$VENV/cargo-lambda" lambda invoke "$fn" -A 127.0.0.1 -P "$WATCH_PORT" --data-file "$file" --output-format json
  fi
}

# check <name> <response> <python expression over r>
check() {
  local name="$1" response="$2" expr="$3"
  if RESPONSE="$response" python3 -c "import json,os,sys; r=json.loads(os.environ['RESPONSE']); sys.exit(0 if ($expr) else 1)"; then
    echo "smoke: ok   $name"
  else
    fail "$name: unexpected response: $response"
  fi
}

check intercom-webhook/ping "$(invoke intercom-webhook "$EVENTS/apigw-v2-intercom-ping.json")" \
  'r["statusCode"] == 200 and json.loads(r["body"])["reason"] == "pong"'
check intercom-webhook/head "$(invoke intercom-webhook "$EVENTS/apigw-v2-intercom-head.json")" 'r["statusCode"] == 200'
check intercom-webhook/tag-created "$(invoke intercom-webhook "$EVENTS/apigw-v2-intercom-tag-created-base64.json")" \
  'r["statusCode"] == 200 and json.loads(r["body"])["status"] == "queued"'
check zendesk-webhook/ticket-solved "$(invoke zendesk-webhook "$EVENTS/apigw-v2-zendesk-ticket-solved.json")" \
  'r["statusCode"] == 200 and json.loads(r["body"])["status"] in ("queued", "ignored")'
# Forged signature: the same request with its body changed.
FORGED="$(python3 -c 'import json,sys; e=json.load(open(sys.argv[1])); e["body"]=e["body"].replace("ping","pong"); print(json.dumps(e))' "$EVENTS/apigw-v2-intercom-ping.json")"
check intercom-webhook/forged "$(invoke intercom-webhook - "$FORGED")" 'r["statusCode"] == 401'

# SQS batch: the vendor is unreachable, so the first message is retried and the rest of its
# group reported failed after it (order kept); the poison body is dead-lettered, not failed.
SQS_IDS="$(python3 -c 'import json,sys; print(json.dumps([m["messageId"] for m in json.load(open(sys.argv[1]))["Records"]]))' "$EVENTS/sqs-escalate-batch.json")"
for fn in escalate ticket-intake ticket-status tag-sync profile-sync; do
  check "$fn/sqs-batch" "$(invoke "$fn" "$EVENTS/sqs-escalate-batch.json")" \
    "isinstance(r['batchItemFailures'], list) and all(f['itemIdentifier'] in $SQS_IDS for f in r['batchItemFailures'])"
done

# Schedules: what EventBridge Scheduler delivers (the template's Input).
check profile-sync/reconcile "$(invoke profile-sync - '{"action": "reconcile"}')" '"examined" in r and r["failed"] == 0'
CSAT="$(invoke csat-report - '{"period": "daily"}' 2>&1 || true)"
check csat-report/daily "$(python3 -c 'import json,sys; t=sys.argv[1]
try: print(json.dumps(json.loads(t)))
except Exception: print(json.dumps({"error": t}))' "$CSAT")" \
  '("period" in r) or ("error" in r and any(w in r["error"].lower() for w in ("127.0.0.1", "connect", "report", "transient", "unavailable", "no response")))'

echo "smoke: all functions answered"
