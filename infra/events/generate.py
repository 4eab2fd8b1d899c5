#!/usr/bin/env python3
"""Regenerates the fixture events in this folder (stdlib only): python3 infra/events/generate.py

Signatures are real, made with the test secrets below, so a handler configured with them
accepts the webhook fixtures:
  INTERCOM_CLIENT_SECRET=test-intercom-client-secret
  ZENDESK_WEBHOOK_SECRET=test-zendesk-webhook-secret
The Zendesk fixture's timestamp is fixed (2026-11-29T09:00:00Z): a handler with a real clock
refuses it as stale (5-minute window), which is itself a useful negative case; tests that want
it accepted inject a clock.
"""

import base64
import hashlib
import hmac
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
INTERCOM_SECRET = b"test-intercom-client-secret"
ZENDESK_SECRET = b"test-zendesk-webhook-secret"
ZENDESK_TS = "2026-11-29T09:00:00Z"
T0 = 1795942800  # 2026-11-29T09:00:00Z


def compact(obj) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def http_v2(method: str, path: str, headers: dict, body: str | None, b64: bool, request_id: str) -> dict:
    ev = {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {
            "content-length": str(len(body.encode()) if body else 0),
            "host": "abc123defg.execute-api.eu-west-1.amazonaws.com",
            "x-amzn-trace-id": "Root=1-6749a0f0-0123456789abcdef01234567",
            "x-forwarded-for": "34.231.68.152",
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
            **headers,
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123defg",
            "domainName": "abc123defg.execute-api.eu-west-1.amazonaws.com",
            "domainPrefix": "abc123defg",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "34.231.68.152",
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": f"{method} {path}",
            "stage": "$default",
            "time": "29/Nov/2026:09:00:00 +0000",
            "timeEpoch": T0 * 1000,
        },
        "isBase64Encoded": b64,
    }
    if body is not None:
        ev["body"] = base64.b64encode(body.encode()).decode() if b64 else body
    return ev


def intercom_headers(body: str) -> dict:
    sig = hmac.new(INTERCOM_SECRET, body.encode(), hashlib.sha1).hexdigest()
    return {
        "content-type": "application/json",
        "user-agent": "intercom-parrot-service-client/1.0",
        "x-hub-signature": f"sha1={sig}",
    }


def conversation(conv_id: str, parts: list) -> dict:
    return {
        "type": "conversation",
        "id": conv_id,
        "title": "Cannot export invoices",
        "created_at": T0 - 3600,
        "updated_at": T0,
        "waiting_since": T0 - 600,
        "state": "open",
        "open": True,
        "priority": "high",
        "admin_assignee_id": None,
        "team_assignee_id": None,
        "source": {
            "type": "conversation",
            "id": "2001",
            "delivered_as": "customer_initiated",
            "body": "Hi, the invoice export fails with a 500 since this morning.",
            "author": {"type": "user", "id": "6749a0f0c0ffee0001", "name": "Ada Customer"},
        },
        "contacts": {"type": "contact.list", "contacts": [{"type": "contact", "id": "6749a0f0c0ffee0001"}]},
        "tags": {"type": "tag.list", "tags": [{"type": "tag", "id": "81", "name": "escalate"}]},
        "conversation_parts": {"type": "conversation_part.list", "conversation_parts": parts, "total_count": len(parts)},
    }


def main() -> None:
    out: dict[str, dict] = {}

    ping = compact({
        "type": "notification_event", "app_id": "abc1de2f", "id": None, "topic": "ping",
        "created_at": T0, "delivery_attempts": 1, "first_sent_at": T0, "self": None,
        "data": {"type": "notification_event_data", "item": {"type": "ping", "message": "something something interzen"}},
        "links": {}, "delivery_status": "pending", "delivered_at": 0,
    })
    out["apigw-v2-intercom-ping.json"] = http_v2(
        "POST", "/webhooks/intercom", intercom_headers(ping), ping, False, "Req-intercom-ping")

    tag_part = {
        "type": "conversation_part", "id": "9001", "part_type": "tag.created", "body": None,
        "created_at": T0, "updated_at": T0, "notified_at": T0,
        "author": {"type": "admin", "id": "5510001", "name": "Grace Agent"},
        "tags": [{"type": "tag", "id": "81", "name": "escalate"}],
    }
    tagged = compact({
        "type": "notification_event", "app_id": "abc1de2f",
        "id": "notif_6f1c2a4e-8d0b-4c39-9a57-3f0e2b1d7c11", "topic": "conversation_part.tag.created",
        "created_at": T0, "delivery_attempts": 1, "first_sent_at": T0, "self": None,
        "data": {"type": "notification_event_data", "item": conversation("215472788123456", [tag_part])},
        "links": {}, "delivery_status": "pending", "delivered_at": 0,
    })
    out["apigw-v2-intercom-tag-created-base64.json"] = http_v2(
        "POST", "/webhooks/intercom", intercom_headers(tagged), tagged, True, "Req-intercom-tag")

    out["apigw-v2-intercom-head.json"] = http_v2(
        "HEAD", "/webhooks/intercom", {"user-agent": "intercom-parrot-service-client/1.0"}, None, False,
        "Req-intercom-head")

    zd_body = compact({
        "type": "zen:event-type:ticket.status_changed", "account_id": 22129848,
        "id": "0b1f7c2e-5d3a-4e8f-9c61-2a4b6d8e0f13", "time": "2026-11-29T08:59:58.120Z",
        "zendesk_event_version": "2022-11-06", "subject": "zen:ticket:5158",
        "detail": {
            "actor_id": "900001", "assignee_id": "900001", "brand_id": "360001", "created_at": "2026-11-29T08:00:00Z",
            "custom_status": "360002", "description": "Cannot export invoices", "external_id":
            "intercom-conversation-215472788123456", "form_id": "360003", "group_id": "360000111111", "id": "5158",
            "is_public": True, "organization_id": "0", "priority": "HIGH", "requester_id": "900777",
            "status": "SOLVED", "subject": "[Intercom] Cannot export invoices (Ada Customer)",
            "submitter_id": "900001", "tags": ["intercom", "escalated"], "type": "INCIDENT",
            "updated_at": "2026-11-29T08:59:58Z", "via": {"channel": "web_service"},
        },
        "event": {"current": "SOLVED", "previous": "OPEN"},
    })
    zd_sig = base64.b64encode(hmac.new(ZENDESK_SECRET, (ZENDESK_TS + zd_body).encode(), hashlib.sha256).digest()).decode()
    out["apigw-v2-zendesk-ticket-solved.json"] = http_v2("POST", "/webhooks/zendesk", {
        "content-type": "application/json; charset=utf-8",
        "user-agent": "Zendesk Webhook",
        "x-zendesk-account-id": "22129848",
        "x-zendesk-webhook-id": "01GK8E6B3M5XQZ9V7T2R4W6Y8A",
        "x-zendesk-webhook-invocation-id": "8d2b9e5c7a1f",
        "x-zendesk-webhook-signature": zd_sig,
        "x-zendesk-webhook-signature-timestamp": ZENDESK_TS,
    }, zd_body, False, "Req-zendesk-solved")

    # What the ingress puts on the escalate queue: QueuedEvent (shared/domain ports.rs) as JSON.
    queued_tag = compact({
        "vendor": "intercom", "delivery_id": "notif_6f1c2a4e-8d0b-4c39-9a57-3f0e2b1d7c11",
        "topic": "conversation_part.tag.created", "entity": "conversation:215472788123456",
        "received_at": T0, "payload": json.loads(tagged),
    })
    reply_part = {
        "type": "conversation_part", "id": "9002", "part_type": "comment",
        "body": "Any news? Month end is tomorrow.", "created_at": T0 + 60, "updated_at": T0 + 60,
        "author": {"type": "user", "id": "6749a0f0c0ffee0001", "name": "Ada Customer"},
    }
    queued_reply = compact({
        "vendor": "intercom", "delivery_id": "notif_0a9b8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d",
        "topic": "conversation.user.replied", "entity": "conversation:215472788123456",
        "received_at": T0 + 61, "payload": {
            "type": "notification_event", "app_id": "abc1de2f",
            "id": "notif_0a9b8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d", "topic": "conversation.user.replied",
            "created_at": T0 + 60, "delivery_attempts": 1, "first_sent_at": T0 + 60, "self": None,
            "data": {"type": "notification_event_data", "item": conversation("215472788123456", [reply_part])},
        },
    })
    queue_arn = "arn:aws:sqs:eu-west-1:123456789012:bridge-escalate.fifo"

    def record(msg_id: str, body: str, seq: str, dedup: str, ts: int, receive_count: str = "1") -> dict:
        return {
            "messageId": msg_id,
            "receiptHandle": f"AQEB{msg_id.replace('-', '')}==",
            "body": body,
            "attributes": {
                "ApproximateReceiveCount": receive_count,
                "SentTimestamp": str(ts * 1000),
                "SequenceNumber": seq,
                "MessageGroupId": "conversation:215472788123456",
                "SenderId": "AROAEXAMPLE:bridge-intercom-webhook",
                "MessageDeduplicationId": dedup,
                "ApproximateFirstReceiveTimestamp": str(ts * 1000 + 40),
            },
            "messageAttributes": {},
            "md5OfBody": hashlib.md5(body.encode()).hexdigest(),  # noqa: S324 - SQS's own checksum
            "eventSource": "aws:sqs",
            "eventSourceARN": queue_arn,
            "awsRegion": "eu-west-1",
        }

    out["sqs-escalate-batch.json"] = {"Records": [
        record("4c5e2f1a-7b3d-4e6f-9a8b-0c1d2e3f4a5b", queued_tag, "18890000000000000001",
               "notif_6f1c2a4e-8d0b-4c39-9a57-3f0e2b1d7c11", T0),
        record("7d8e9f0a-1b2c-4d3e-8f4a-5b6c7d8e9f0a", queued_reply, "18890000000000000002",
               "notif_0a9b8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d", T0 + 61),
        # A poison message: not a QueuedEvent. The worker must drop it (logged), not fail the batch.
        record("9f0a1b2c-3d4e-4f5a-8b6c-7d8e9f0a1b2c", "{not json", "18890000000000000003",
               "poison-1", T0 + 62, receive_count="5"),
    ]}

    out["eventbridge-scheduled.json"] = {
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-11-29T09:00:00Z",
        "region": "eu-west-1",
        "resources": ["arn:aws:events:eu-west-1:123456789012:rule/bridge-profile-sync-reconcile"],
        "detail": {},
    }

    for name, ev in out.items():
        (HERE / name).write_text(json.dumps(ev, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote infra/events/{name}")


if __name__ == "__main__":
    main()
