#!/usr/bin/env python3
"""Deploys infra/template.yaml onto a local moto server, as CloudFormation would, for the stack
rehearsal (tests/rehearsal, `make rehearse`).

What it does, in order:
1. checks the parameters as CloudFormation does (AllowedValues, AllowedPattern, Min/MaxValue);
2. transforms the template with the pinned SAM translator (aws-sam-translator), after replacing
   each function's local CodeUri by an S3 URI, as `sam deploy` does when it uploads the zips;
3. creates every resource of the transformed template on moto, in dependency order, resolving
   the intrinsic functions (Ref, Fn::GetAtt, Fn::Sub, Fn::If, ...) against what it created and
   the `{{resolve:secretsmanager:...}}` dynamic references from the stack's secret, failing where
   CloudFormation would (a missing JSON key, a parameter outside its allowed values, a Lambda
   environment over 4 KB);
4. creates the principals the rehearsal needs besides the functions' roles: an administrator
   user (the harness's own checks), an operator user with the template's OperatorPolicy, and one
   STS session per function role (the credentials Lambda would give the function);
5. writes a JSON manifest of all of it for the Rust harness (tests/rehearsal/src/manifest.rs).

Lambda functions, event source mappings, schedules, HTTP API routes and permissions are not
created on moto: the harness runs them (see tests/rehearsal/src/lib.rs). They are resolved and
written to the manifest.

Usage:
  stack.py --endpoint http://127.0.0.1:PORT --template infra/template.yaml --stack-name NAME \
           --out manifest.json [--param Key=Value ...] [--config-file bridge.yaml] \
           [--existing-secret-json '{"intercom_access_token": ...}'] [--secret-json '{...}']
Exit status 1 with one line per problem on stderr when the deploy fails.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import string
import sys
from typing import Any

import boto3

REGION = "us-east-1"
ACCOUNT = "123456789012"
PARTITION = "aws"
URL_SUFFIX = "amazonaws.com"
NO_VALUE = object()
# Lambda reserves these environment variables; a template may not set them.
RESERVED_ENV = {
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
}
ENV_LIMIT_BYTES = 4096
# The AWS managed policies SAM attaches; moto loads their documents (MOTO_IAM_LOAD_MANAGED_POLICIES).
MANAGED_POLICIES = {
    "AWSLambdaBasicExecutionRole": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "AWSLambdaSQSQueueExecutionRole": "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole",
    "AWSXrayWriteOnlyAccess": "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
    "AWSXRayDaemonWriteAccess": "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess",
}


class DeployError(Exception):
    """A problem CloudFormation would refuse the deploy for (or the rehearsal cannot emulate)."""


def rand(n: int = 12, alphabet: str = string.ascii_uppercase + string.digits) -> str:
    return "".join(random.choice(alphabet) for _ in range(n))


class Stack:
    def __init__(self, endpoint: str, template: dict, name: str, params: dict[str, str]):
        self.endpoint = endpoint
        self.name = name
        self.template = template
        self.params = params
        self.resources: dict[str, dict] = template.get("Resources", {})
        self.conditions_src: dict[str, Any] = template.get("Conditions", {})
        self.conditions: dict[str, bool] = {}
        self.created: dict[str, dict] = {}  # logical id -> {"ref": ..., "attrs": {...}, "type": ...}
        self.creating: set[str] = set()
        self.functions: dict[str, dict] = {}
        self.mappings: list[dict] = []
        self.schedules: list[dict] = []
        self.permissions: list[dict] = []
        self.routes: list[dict] = []
        self.function_urls: list[dict] = []
        self.roles: dict[str, dict] = {}
        self.queues: dict[str, dict] = {}
        kw = dict(endpoint_url=endpoint, region_name=REGION, aws_access_key_id="rehearsal",
                  aws_secret_access_key="rehearsal")
        self.kw = kw
        self.iam = boto3.client("iam", **kw)
        self.sqs = boto3.client("sqs", **kw)
        self.ddb = boto3.client("dynamodb", **kw)
        self.s3 = boto3.client("s3", **kw)
        self.sns = boto3.client("sns", **kw)
        self.sm = boto3.client("secretsmanager", **kw)
        self.sts = boto3.client("sts", **kw)

    # ---- intrinsics -----------------------------------------------------------------------------
    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            if name not in self.conditions_src:
                raise DeployError(f"unknown condition {name}")
            self.conditions[name] = bool(self.resolve(self.conditions_src[name], f"Conditions.{name}"))
        return self.conditions[name]

    def pseudo(self, name: str) -> Any:
        return {
            "AWS::StackName": self.name,
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": PARTITION,
            "AWS::URLSuffix": URL_SUFFIX,
            "AWS::StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{self.name}/rehearsal",
            "AWS::NoValue": NO_VALUE,
        }.get(name)

    def ref(self, name: str, where: str) -> Any:
        if name.startswith("AWS::"):
            value = self.pseudo(name)
            if value is None:
                raise DeployError(f"{where}: unsupported pseudo parameter {name}")
            return value
        if name in self.params:
            return self.params[name]
        if name in self.resources:
            return self.create(name)["ref"]
        raise DeployError(f"{where}: Ref to unknown {name}")

    def get_att(self, name: str, attr: str, where: str) -> Any:
        if name not in self.resources:
            raise DeployError(f"{where}: Fn::GetAtt of unknown resource {name}")
        attrs = self.create(name)["attrs"]
        if attr not in attrs:
            raise DeployError(f"{where}: {name} ({self.resources[name]['Type']}) has no attribute {attr} here")
        return attrs[attr]

    def sub(self, text: str, variables: dict, where: str) -> str:
        def repl(m: re.Match) -> str:
            expr = m.group(1)
            if expr.startswith("!"):
                return "${" + expr[1:] + "}"
            if expr in variables:
                value = variables[expr]
            elif "." in expr and expr.split(".", 1)[0] in self.resources:
                res, attr = expr.split(".", 1)
                value = self.get_att(res, attr, where)
            else:
                value = self.ref(expr, where)
            if value is NO_VALUE:
                raise DeployError(f"{where}: Fn::Sub of AWS::NoValue")
            return str(value)

        return re.sub(r"\$\{([^}]+)\}", repl, text)

    def resolve(self, v: Any, where: str) -> Any:
        if isinstance(v, list):
            out = [self.resolve(x, where) for x in v]
            return [x for x in out if x is not NO_VALUE]
        if not isinstance(v, dict):
            return v
        if len(v) == 1:
            (k, arg), = v.items()
            if k == "Ref":
                return self.ref(arg, where)
            if k == "Fn::GetAtt":
                res, attr = (arg.split(".", 1) if isinstance(arg, str) else arg)
                return self.get_att(res, self.resolve(attr, where), where)
            if k == "Fn::Sub":
                if isinstance(arg, str):
                    return self.sub(arg, {}, where)
                text, variables = arg
                return self.sub(text, {n: self.resolve(x, where) for n, x in variables.items()}, where)
            if k == "Fn::If":
                cond, yes, no = arg
                return self.resolve(yes if self.condition(cond) else no, where)
            if k == "Fn::Equals":
                a, b = (self.resolve(x, where) for x in arg)
                return str(a) == str(b)
            if k == "Fn::Not":
                return not self.resolve(arg[0], where)
            if k == "Fn::And":
                return all(self.resolve(x, where) for x in arg)
            if k == "Fn::Or":
                return any(self.resolve(x, where) for x in arg)
            if k == "Condition":
                return self.condition(arg)
            if k == "Fn::Join":
                sep, items = arg
                return sep.join(str(x) for x in self.resolve(items, where))
            if k == "Fn::Select":
                index, items = arg
                return self.resolve(items, where)[int(self.resolve(index, where))]
            if k == "Fn::Split":
                sep, text = arg
                return str(self.resolve(text, where)).split(sep)
            if k == "Fn::ToJsonString":
                return json.dumps(self.resolve(arg, where), separators=(",", ":"))
            if k.startswith("Fn::"):
                raise DeployError(f"{where}: the rehearsal does not support {k}")
        out = {}
        for key, x in v.items():
            r = self.resolve(x, f"{where}.{key}")
            if r is not NO_VALUE:
                out[key] = r
        return out

    def dynamic_refs(self, v: Any, where: str) -> Any:
        """Resolves `{{resolve:secretsmanager:...}}` as CloudFormation does at deploy time."""
        if isinstance(v, list):
            return [self.dynamic_refs(x, where) for x in v]
        if isinstance(v, dict):
            return {k: self.dynamic_refs(x, f"{where}.{k}") for k, x in v.items()}
        if not isinstance(v, str) or "{{resolve:" not in v:
            return v
        return re.sub(r"\{\{resolve:([^}]*)\}\}", lambda m: self.dynamic_ref(m.group(1), where), v)

    def dynamic_ref(self, spec: str, where: str) -> str:
        service, _, rest = spec.partition(":")
        if service != "secretsmanager":
            raise DeployError(f"{where}: the rehearsal cannot resolve {{{{resolve:{service}:...}}}}")
        if rest.startswith("arn:"):
            parts = rest.split(":")
            secret_id, tail = ":".join(parts[:7]), parts[7:]
        else:
            secret_id, *tail = rest.split(":")
        field = tail[0] if tail else "SecretString"
        json_key = tail[1] if len(tail) > 1 and tail[1] else None
        if field != "SecretString":
            raise DeployError(f"{where}: dynamic reference to {field}: only SecretString is supported")
        try:
            value = self.sm.get_secret_value(SecretId=secret_id)["SecretString"]
        except self.sm.exceptions.ResourceNotFoundException:
            raise DeployError(f"{where}: Secrets Manager can't find the secret {secret_id}") from None
        if json_key is None:
            return value
        try:
            data = json.loads(value)
        except ValueError:
            raise DeployError(f"{where}: the secret {secret_id} is not JSON, so it has no key {json_key}") from None
        if json_key not in data:
            raise DeployError(
                f"{where}: the secret {secret_id} has no JSON key {json_key!r} "
                f"(it has {sorted(data)}); CloudFormation fails the deploy")
        return str(data[json_key])

    # ---- resources ------------------------------------------------------------------------------
    def generated_name(self, logical: str, max_len: int = 64, lower: bool = False) -> str:
        name = f"{self.name}-{logical}-{rand()}"
        name = name.lower() if lower else name
        return name[-max_len:] if len(name) > max_len else name

    def create(self, logical: str) -> dict:
        if logical in self.created:
            return self.created[logical]
        if logical in self.creating:
            raise DeployError(f"circular dependency through {logical}")
        self.creating.add(logical)
        res = self.resources[logical]
        if "Condition" in res and not self.condition(res["Condition"]):
            raise DeployError(f"{logical} is referenced but its condition {res['Condition']} is false")
        for dep in res.get("DependsOn", []) if isinstance(res.get("DependsOn"), list) else [res["DependsOn"]] if "DependsOn" in res else []:
            self.create(dep)
        kind = res["Type"]
        props = self.resolve(res.get("Properties", {}), f"{logical}.Properties")
        handler = HANDLERS.get(kind)
        if handler is None:
            raise DeployError(f"{logical}: the rehearsal cannot create {kind}")
        made = handler(self, logical, props)
        made["type"] = kind
        self.created[logical] = made
        self.creating.discard(logical)
        return made

    def deploy(self) -> None:
        for logical, res in self.resources.items():
            if "Condition" in res and not self.condition(res["Condition"]):
                continue
            self.create(logical)

    def queue_by_arn(self, arn: str) -> dict:
        for logical, q in self.queues.items():
            if q["arn"] == arn:
                return {"logical_id": logical, **q}
        raise DeployError(f"no queue with ARN {arn} in the stack")

    def function_by_name_or_arn(self, ref: str) -> str:
        for logical, f in self.functions.items():
            if ref in (f["name"], f["arn"]):
                return logical
        raise DeployError(f"no function {ref} in the stack")


# ---- handlers: each returns {"ref": <Ref value>, "attrs": {<GetAtt name>: value}} --------------
def sqs_queue(s: Stack, logical: str, p: dict) -> dict:
    fifo = str(p.get("FifoQueue", "false")).lower() == "true"
    name = p.get("QueueName") or s.generated_name(logical, 80 - (5 if fifo else 0)) + (".fifo" if fifo else "")
    attrs = {}
    for key in ("FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit",
                "VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds", "MaximumMessageSize",
                "ReceiveMessageWaitTimeSeconds", "SqsManagedSseEnabled", "KmsMasterKeyId"):
        if key in p:
            value = p[key]
            attrs[key] = str(value).lower() if isinstance(value, bool) else str(value)
    if "RedrivePolicy" in p:
        attrs["RedrivePolicy"] = json.dumps(p["RedrivePolicy"]) if isinstance(p["RedrivePolicy"], dict) else p["RedrivePolicy"]
    url = s.sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
    arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"
    s.queues[logical] = {"name": name, "url": url, "arn": arn, "attributes": attrs}
    return {"ref": url, "attrs": {"Arn": arn, "QueueName": name, "QueueUrl": url}}


def dynamodb_table(s: Stack, logical: str, p: dict) -> dict:
    name = p.get("TableName") or s.generated_name(logical, 255)
    kw = {"TableName": name, "KeySchema": p["KeySchema"], "AttributeDefinitions": p["AttributeDefinitions"],
          "BillingMode": p.get("BillingMode", "PROVISIONED")}
    for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes", "ProvisionedThroughput", "StreamSpecification"):
        if key in p:
            kw[key] = p[key]
    s.ddb.create_table(**kw)
    ttl = p.get("TimeToLiveSpecification")
    if ttl and str(ttl.get("Enabled")).lower() == "true":
        s.ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={
            "AttributeName": ttl["AttributeName"], "Enabled": True})
    arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"
    return {"ref": name, "attrs": {"Arn": arn, "StreamArn": f"{arn}/stream/rehearsal"}}


def s3_bucket(s: Stack, logical: str, p: dict) -> dict:
    name = p.get("BucketName") or s.generated_name(logical, 63, lower=True)
    s.s3.create_bucket(Bucket=name)
    if "PublicAccessBlockConfiguration" in p:
        cfg = {k: str(v).lower() == "true" for k, v in p["PublicAccessBlockConfiguration"].items()}
        s.s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=cfg)
    arn = f"arn:aws:s3:::{name}"
    return {"ref": name, "attrs": {"Arn": arn, "DomainName": f"{name}.s3.amazonaws.com",
                                    "RegionalDomainName": f"{name}.s3.{REGION}.amazonaws.com"}}


def sns_topic(s: Stack, logical: str, p: dict) -> dict:
    name = p.get("TopicName") or s.generated_name(logical, 256)
    attributes = {k: str(p[k]) for k in ("DisplayName", "KmsMasterKeyId") if k in p}
    arn = s.sns.create_topic(Name=name, Attributes=attributes)["TopicArn"]
    return {"ref": arn, "attrs": {"TopicArn": arn, "TopicName": name}}


def secret(s: Stack, logical: str, p: dict) -> dict:
    name = p.get("Name") or s.generated_name(logical)
    value = p.get("SecretString")
    if value is None:
        raise DeployError(f"{logical}: only SecretString secrets are supported")
    arn = s.sm.create_secret(Name=name, SecretString=value, Description=p.get("Description", ""))["ARN"]
    return {"ref": arn, "attrs": {"Id": arn}}


def managed_policy_document(s: Stack, arn: str) -> dict:
    policy = s.iam.get_policy(PolicyArn=arn)["Policy"]
    version = s.iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])
    doc = version["PolicyVersion"]["Document"]
    return json.loads(doc) if isinstance(doc, str) else doc


def iam_role(s: Stack, logical: str, p: dict) -> dict:
    name = p.get("RoleName") or s.generated_name(logical, 64)
    s.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(p["AssumeRolePolicyDocument"]),
                      Path=p.get("Path", "/"))
    arn = f"arn:aws:iam::{ACCOUNT}:role{p.get('Path', '/')}{name}"
    policies = []
    for pol in p.get("Policies", []):
        # IAM reads a document without Version as 2008-10-17; moto refuses it. The documents
        # SAM writes for schedule roles have none, and use no policy variables either way.
        doc = {"Version": "2012-10-17", **pol["PolicyDocument"]}
        s.iam.put_role_policy(RoleName=name, PolicyName=pol["PolicyName"], PolicyDocument=json.dumps(doc))
        policies.append({"name": pol["PolicyName"], "document": doc})
    for policy_arn in p.get("ManagedPolicyArns", []):
        s.iam.attach_role_policy(RoleName=name, PolicyArn=policy_arn)
        policies.append({"name": policy_arn.rsplit("/", 1)[-1], "document": managed_policy_document(s, policy_arn)})
    s.roles[logical] = {"name": name, "arn": arn, "policies": policies,
                        "trust": p["AssumeRolePolicyDocument"]}
    return {"ref": name, "attrs": {"Arn": arn, "RoleId": f"AROA{rand(16)}"}}


def iam_managed_policy(s: Stack, logical: str, p: dict) -> dict:
    name = p.get("ManagedPolicyName") or s.generated_name(logical, 128)
    arn = s.iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(p["PolicyDocument"]),
                              Description=p.get("Description", ""))["Policy"]["Arn"]
    for role in p.get("Roles", []):
        s.iam.attach_role_policy(RoleName=role, PolicyArn=arn)
    return {"ref": arn, "attrs": {"PolicyArn": arn}, "document": p["PolicyDocument"]}


def lambda_function(s: Stack, logical: str, p: dict) -> dict:
    name = p.get("FunctionName") or s.generated_name(logical, 64)
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    env = s.dynamic_refs(p.get("Environment", {}).get("Variables", {}), f"{logical}.Environment")
    problems = []
    for key in env:
        if key in RESERVED_ENV:
            problems.append(f"{logical}: environment variable {key} is reserved by Lambda")
    size = sum(len(k.encode()) + len(str(v).encode()) for k, v in env.items())
    if size > ENV_LIMIT_BYTES:
        problems.append(f"{logical}: environment variables take {size} bytes, over Lambda's {ENV_LIMIT_BYTES}")
    timeout = int(p.get("Timeout", 3))
    if not 1 <= timeout <= 900:
        problems.append(f"{logical}: Timeout {timeout} is outside 1-900 s")
    if problems:
        raise DeployError("; ".join(problems))
    code_key = p.get("Code", {}).get("S3Key", "")
    s.functions[logical] = {
        "name": name,
        "arn": arn,
        "binary": ARTIFACTS.get(code_key, ""),
        "role_arn": p["Role"],
        "timeout_secs": timeout,
        "memory_mb": int(p.get("MemorySize", 128)),
        "handler": p.get("Handler", ""),
        "runtime": p.get("Runtime", ""),
        "architectures": p.get("Architectures", ["x86_64"]),
        "environment": {k: str(v) for k, v in env.items()},
        "logging": p.get("LoggingConfig", {}),
        "tracing": p.get("TracingConfig", {}).get("Mode", "PassThrough"),
    }
    return {"ref": name, "attrs": {"Arn": arn}}


def event_source_mapping(s: Stack, logical: str, p: dict) -> dict:
    queue = s.queue_by_arn(p["EventSourceArn"])
    s.mappings.append({
        "logical_id": logical,
        "function": s.function_by_name_or_arn(p["FunctionName"]),
        "queue": queue["logical_id"],
        "queue_url": queue["url"],
        "queue_arn": queue["arn"],
        "batch_size": int(p.get("BatchSize", 10)),
        "maximum_batching_window_secs": int(p.get("MaximumBatchingWindowInSeconds", 0)),
        "function_response_types": p.get("FunctionResponseTypes", []),
        "maximum_concurrency": int(p.get("ScalingConfig", {}).get("MaximumConcurrency", 1000)),
        "enabled": str(p.get("Enabled", "true")).lower() == "true",
    })
    return {"ref": f"esm-{rand(8).lower()}", "attrs": {}}


def lambda_permission(s: Stack, logical: str, p: dict) -> dict:
    invoked_via_url = str(p.get("InvokedViaFunctionUrl", "false")).lower() == "true"
    if invoked_via_url and p["Action"] != "lambda:InvokeFunction":
        raise DeployError(f"{logical}: InvokedViaFunctionUrl is only valid with lambda:InvokeFunction")
    s.permissions.append({"logical_id": logical, "function": s.function_by_name_or_arn(p["FunctionName"]),
                          "action": p["Action"], "principal": p["Principal"], "source_arn": p.get("SourceArn", ""),
                          "function_url_auth_type": p.get("FunctionUrlAuthType", ""),
                          "invoked_via_function_url": invoked_via_url})
    return {"ref": logical, "attrs": {}}


def function_url(s: Stack, logical: str, p: dict) -> dict:
    if p.get("AuthType") not in ("NONE", "AWS_IAM"):
        raise DeployError(f"{logical}: AuthType must be NONE or AWS_IAM")
    function = s.function_by_name_or_arn(p["TargetFunctionArn"])
    url_id = rand(32, string.ascii_lowercase + string.digits)
    url = f"https://{url_id}.lambda-url.{REGION}.on.aws/"
    s.function_urls.append({"logical_id": logical, "function": function, "url_id": url_id, "url": url,
                            "auth_type": p["AuthType"], "invoke_mode": p.get("InvokeMode", "BUFFERED")})
    return {"ref": s.functions[function]["arn"], "attrs": {"FunctionUrl": url, "FunctionArn": s.functions[function]["arn"]}}


def schedule(s: Stack, logical: str, p: dict) -> dict:
    target = p["Target"]
    s.schedules.append({
        "logical_id": logical,
        "name": p.get("Name", logical),
        "expression": p["ScheduleExpression"],
        "function": s.function_by_name_or_arn(target["Arn"]),
        "role_arn": target["RoleArn"],
        "input": target.get("Input", ""),
        "maximum_retry_attempts": int(target.get("RetryPolicy", {}).get("MaximumRetryAttempts", 185)),
        "dead_letter_arn": target.get("DeadLetterConfig", {}).get("Arn", ""),
        "state": p.get("State", "ENABLED"),
    })
    arn = f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/default/{p.get('Name', logical)}"
    return {"ref": p.get("Name", logical), "attrs": {"Arn": arn}}


def http_api(s: Stack, logical: str, p: dict) -> dict:
    api_id = rand(10, string.ascii_lowercase + string.digits)
    body = p.get("Body", {})
    for path, methods in body.get("paths", {}).items():
        for method, op in methods.items():
            integ = op.get("x-amazon-apigateway-integration", {})
            uri = integ.get("uri", "")
            m = re.search(r"functions/(arn:[^/]+)/invocations", uri)
            if not m:
                raise DeployError(f"{logical}: route {method.upper()} {path} has no Lambda integration")
            s.routes.append({
                "method": method.upper(),
                "path": path,
                "function": s.function_by_name_or_arn(m.group(1)),
                "payload_format": integ.get("payloadFormatVersion", "2.0"),
                "timeout_ms": int(integ.get("timeoutInMillis", 30000)),
                "source_arn": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api_id}/$default/{method.upper()}{path}",
            })
    return {"ref": api_id, "attrs": {"ApiEndpoint": f"https://{api_id}.execute-api.{REGION}.{URL_SUFFIX}",
                                     "ApiId": api_id}}


def recorded_only(attrs_for):
    def handler(s: Stack, logical: str, p: dict) -> dict:
        ref, attrs = attrs_for(s, logical, p)
        return {"ref": ref, "attrs": attrs}
    return handler


def log_group(s: Stack, logical: str, p: dict):
    name = p.get("LogGroupName") or s.generated_name(logical, 512)
    return name, {"Arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}:*"}


HANDLERS = {
    "AWS::SQS::Queue": sqs_queue,
    "AWS::DynamoDB::Table": dynamodb_table,
    "AWS::S3::Bucket": s3_bucket,
    "AWS::SNS::Topic": sns_topic,
    "AWS::SecretsManager::Secret": secret,
    "AWS::IAM::Role": iam_role,
    "AWS::IAM::ManagedPolicy": iam_managed_policy,
    "AWS::Lambda::Function": lambda_function,
    "AWS::Lambda::EventSourceMapping": event_source_mapping,
    "AWS::Lambda::Permission": lambda_permission,
    "AWS::Lambda::Url": function_url,
    "AWS::Scheduler::Schedule": schedule,
    "AWS::ApiGatewayV2::Api": http_api,
    "AWS::ApiGatewayV2::Stage": recorded_only(lambda s, l, p: (p.get("StageName", "$default"), {})),
    "AWS::Logs::LogGroup": recorded_only(log_group),
    # Alarms watch metrics the rehearsal does not produce; their definitions are linted by
    # cfn-lint and infra/check_template.py.
    "AWS::CloudWatch::Alarm": recorded_only(lambda s, l, p: (p.get("AlarmName") or s.generated_name(l), {})),
}
# S3 key of each function's code (after packaging) -> the binary it holds.
ARTIFACTS: dict[str, str] = {}


# ---- parameters, packaging, transform -----------------------------------------------------------
def check_parameters(template: dict, given: dict[str, str]) -> dict[str, str]:
    values, problems = {}, []
    declared = template.get("Parameters", {})
    for name in given:
        if name not in declared:
            problems.append(f"parameter {name} is not declared by the template")
    for name, spec in declared.items():
        value = given.get(name, spec.get("Default"))
        if value is None:
            problems.append(f"parameter {name} has no value and no Default")
            continue
        value = str(value)
        if "AllowedValues" in spec and value not in [str(v) for v in spec["AllowedValues"]]:
            problems.append(f"parameter {name}={value!r} is not one of {spec['AllowedValues']}")
        if "AllowedPattern" in spec and not re.fullmatch(spec["AllowedPattern"], value):
            problems.append(f"parameter {name}={value!r} does not match {spec['AllowedPattern']}")
        if spec.get("Type") == "Number":
            try:
                number = float(value)
            except ValueError:
                problems.append(f"parameter {name}={value!r} is not a number")
                continue
            if "MinValue" in spec and number < float(spec["MinValue"]):
                problems.append(f"parameter {name}={value} is below {spec['MinValue']}")
            if "MaxValue" in spec and number > float(spec["MaxValue"]):
                problems.append(f"parameter {name}={value} is above {spec['MaxValue']}")
        values[name] = value
    if problems:
        raise DeployError("; ".join(problems))
    return values


def package(template: dict) -> None:
    """What `sam deploy` does with a local CodeUri: upload it and point the function at S3."""
    for logical, res in template.get("Resources", {}).items():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        code = res.get("Properties", {}).get("CodeUri", "")
        if not isinstance(code, str) or code.startswith("s3://"):
            continue
        m = re.search(r"lambda-deploy/([^/]+)/bootstrap\.zip$", code)
        if not m:
            raise DeployError(f"{logical}: CodeUri {code} is not a zip staged by `make build`")
        key = f"{logical}.zip"
        ARTIFACTS[key] = m.group(1)
        res["Properties"]["CodeUri"] = f"s3://rehearsal-artifacts/{key}"


class ManagedPolicies:
    def load(self) -> dict[str, str]:
        return dict(MANAGED_POLICIES)


def transform(template_path: str, params: dict[str, str]) -> dict:
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    from samtranslator.translator.transform import transform as sam_transform
    from samtranslator.yaml_helper import yaml_parse
    from samtranslator.model.exceptions import InvalidDocumentException

    with open(template_path, encoding="utf-8") as f:
        template = yaml_parse(f.read())
    values = check_parameters(template, params)
    package(template)
    try:
        return sam_transform(template, values, ManagedPolicies()), values
    except InvalidDocumentException as e:
        raise DeployError("; ".join(str(c) for c in e.causes)) from None


# ---- principals -----------------------------------------------------------------------------------
def user_with_key(s: Stack, name: str, policy_arns: list[str], inline: dict | None) -> dict:
    s.iam.create_user(UserName=name)
    for arn in policy_arns:
        s.iam.attach_user_policy(UserName=name, PolicyArn=arn)
    if inline:
        s.iam.put_user_policy(UserName=name, PolicyName=f"{name}-inline", PolicyDocument=json.dumps(inline))
    key = s.iam.create_access_key(UserName=name)["AccessKey"]
    return {"arn": f"arn:aws:iam::{ACCOUNT}:user/{name}", "access_key_id": key["AccessKeyId"],
            "secret_access_key": key["SecretAccessKey"], "session_token": ""}


def principals(s: Stack) -> dict:
    out = {"admin": user_with_key(s, "rehearsal-admin", [], {
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})}
    operator = [(l, c) for l, c in s.created.items() if c["type"] == "AWS::IAM::ManagedPolicy" and "Operator" in l]
    if operator:
        logical, made = operator[0]
        out["operator"] = user_with_key(s, "rehearsal-operator", [made["ref"]], None)
        out["operator"]["policies"] = [{"name": logical, "document": made["document"]}]
    sessions = {}
    for logical, fn in s.functions.items():
        creds = s.sts.assume_role(RoleArn=fn["role_arn"], RoleSessionName=fn["name"][:64])["Credentials"]
        sessions[logical] = {
            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{fn['role_arn'].rsplit('/', 1)[-1]}/{fn['name'][:64]}",
            "access_key_id": creds["AccessKeyId"], "secret_access_key": creds["SecretAccessKey"],
            "session_token": creds["SessionToken"]}
    out["functions"] = sessions
    return out


# ---- main -------------------------------------------------------------------------------------------
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--template", required=True)
    ap.add_argument("--stack-name", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--param", action="append", default=[], help="Key=Value")
    ap.add_argument("--config-file", help="upload as s3://<stack>-config/bridge.yaml and set ConfigBucket")
    ap.add_argument("--existing-secret-json", help="create this secret beforehand and pass it as ExistingSecretArn")
    ap.add_argument("--secret-json", help="the values to put into the secret the stack creates")
    args = ap.parse_args()

    params = dict(p.split("=", 1) for p in args.param)
    pre = Stack(args.endpoint, {}, args.stack_name, {})
    if args.config_file:
        bucket = f"{args.stack_name}-config".lower()
        pre.s3.create_bucket(Bucket=bucket)
        with open(args.config_file, "rb") as f:
            pre.s3.put_object(Bucket=bucket, Key="bridge.yaml", Body=f.read())
        params.setdefault("ConfigBucket", bucket)
        params.setdefault("ConfigKey", "bridge.yaml")
    if args.existing_secret_json:
        arn = pre.sm.create_secret(Name=f"{args.stack_name}/existing", SecretString=args.existing_secret_json)["ARN"]
        params["ExistingSecretArn"] = arn

    try:
        transformed, values = transform(args.template, params)
        stack = Stack(args.endpoint, transformed, args.stack_name, values)
        stack.deploy()
        if args.secret_json:
            for logical, made in stack.created.items():
                if made["type"] == "AWS::SecretsManager::Secret":
                    stack.sm.put_secret_value(SecretId=made["ref"], SecretString=args.secret_json)
            # CloudFormation resolves dynamic references when it deploys: filling the secret
            # means deploying again (README "Secrets"), which re-resolves the environments.
            for logical in stack.functions:
                res = stack.resources[logical]
                props = stack.resolve(res.get("Properties", {}), f"{logical}.Properties")
                env = stack.dynamic_refs(props.get("Environment", {}).get("Variables", {}), logical)
                stack.functions[logical]["environment"] = {k: str(v) for k, v in env.items()}
        outputs = {}
        for name, out in transformed.get("Outputs", {}).items():
            if "Condition" in out and not stack.condition(out["Condition"]):
                continue
            outputs[name] = stack.resolve(out["Value"], f"Outputs.{name}")
        manifest = {
            "stack_name": args.stack_name,
            "region": REGION,
            "account_id": ACCOUNT,
            "parameters": values,
            "functions": stack.functions,
            "roles": stack.roles,
            "queues": stack.queues,
            "event_source_mappings": stack.mappings,
            "schedules": stack.schedules,
            "http_routes": stack.routes,
            "function_urls": stack.function_urls,
            "permissions": stack.permissions,
            "resources": {l: {"type": c["type"], "ref": c["ref"], "attrs": c["attrs"]} for l, c in stack.created.items()},
            "outputs": outputs,
            "principals": principals(stack),
        }
    except DeployError as e:
        print(f"deploy failed: {e}", file=sys.stderr)
        return 1
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
