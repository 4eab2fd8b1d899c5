#!/usr/bin/env python3
"""moto_server for the stack rehearsal: AWS managed policies loaded, and IAM enforcement that
checks actions only.

moto checks a request's action against the caller's policies once `/moto-api/reset-auth` turns
enforcement on, but it passes `*` as the resource for most services (DynamoDB, S3, SNS, ...), so
a statement scoped to a table or a queue would never match there. This wrapper makes moto match
every statement's Resource, keeping its action and signature checks; the rehearsal's recording
proxy evaluates each request's resources and conditions with an IAM policy evaluator
(tests/rehearsal/iam/evaluate.mjs). The bridge's template uses no Deny statements, which an
action-only check would apply too widely.

moto also names some actions after the API operation where IAM names the item action
(`dynamodb:TransactWriteItems` is checked by IAM as PutItem, UpdateItem, DeleteItem and
ConditionCheckItem on each item's table; `sqs:DeleteMessageBatch` as `sqs:DeleteMessage`). Those
pass here when the caller holds one of IAM's actions; the proxy checks each item exactly.

Same flags as moto_server: `moto_iam.py -H 127.0.0.1 -p 5000`.
"""

import os
import sys

os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")

from moto.iam import access_control  # noqa: E402
from moto.server import main  # noqa: E402

_check = access_control.IAMPolicyStatement._check_element_matches


def _actions_only(self, element, value):
    if element in ("Resource", "NotResource"):
        return element == "Resource"
    return _check(self, element, value)


access_control.IAMPolicyStatement._check_element_matches = _actions_only

IAM_ACTIONS = {
    "dynamodb:TransactWriteItems": [
        "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"],
    "dynamodb:TransactGetItems": ["dynamodb:GetItem"],
    "sqs:SendMessageBatch": ["sqs:SendMessage"],
    "sqs:DeleteMessageBatch": ["sqs:DeleteMessage"],
    "sqs:ChangeMessageVisibilityBatch": ["sqs:ChangeMessageVisibility"],
}
_permitted = access_control.IAMRequestBase.check_action_permitted


def _iam_action_permitted(self, resource):
    actions = IAM_ACTIONS.get(self._action)
    if not actions:
        return _permitted(self, resource)
    operation, last = self._action, None
    try:
        for action in actions:
            self._action = action
            try:
                return _permitted(self, resource)
            except Exception as e:  # moto's AccessDenied
                last = e
        raise last
    finally:
        self._action = operation


access_control.IAMRequestBase.check_action_permitted = _iam_action_permitted

# moto recomputes a query-protocol request's signature (SNS) from the form it already parsed,
# re-encoded by botocore ('+' for spaces, its own order), not from the bytes that were signed, so
# a correct signature does not match. Those requests keep their access-key and action checks.
_signature = access_control.IAMRequestBase.check_signature


def _signature_of_bytes(self):
    if not self._body and isinstance(self._data, dict) and self._data:
        return None
    return _signature(self)


access_control.IAMRequestBase.check_signature = _signature_of_bytes

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
