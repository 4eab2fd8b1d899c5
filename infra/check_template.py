#!/usr/bin/env python3
"""Checks infra/template.yaml for the values cfn-lint and `sam validate --lint` do not check.

cfn-lint validates plain CloudFormation resources, but inside `AWS::Serverless::Function` a typo
such as `Runtime: provided.al2099` or `FunctionResponseTypes: [ReportBatchItemFailure]` passes
both linters (see the toolchain notes). This script asserts what the bridge depends on:

- every function: Runtime provided.al2023, Handler bootstrap, Architectures from the
  `Architecture` parameter (arm64 | x86_64), JSON logging;
- one build path: no `Metadata.BuildMethod` (no `sam build`); CodeUri is the zip staged by
  `make build` (../target/lambda-deploy/<name>/bootstrap.zip), and <name> is a crate under
  functions/<name> whose package name is <name> (folder = package = binary), listed in the
  Makefile's FUNCTIONS; `Metadata.BuildProperties.Binary`, if present, is <name> too;
- SQS events: FunctionResponseTypes contains ReportBatchItemFailures, BatchSize <= 10, and the
  queue is FIFO with a DLQ (maxReceiveCount 5) and VisibilityTimeout >= 6 x the function timeout,
  and has an ApproximateAgeOfOldestMessage alarm (a stuck message group is seen);
- logging: Lambda's ApplicationLogLevel lets INFO lines through (TRACE, DEBUG or INFO, never a
  parameter that could be WARN): the EMF metric documents have no level, Lambda counts them as
  INFO, and RUST_LOG does the application's filtering;
- schedules (ScheduleV2): a RetryPolicy and a DeadLetterConfig to a standard SQS queue of the
  template that has a depth alarm; a function with a repair sweep (`{"action": "sweep"}`) has
  its `Repaired` metric (dimension Job = the function's name) in an alarm: a repair means a
  webhook was lost;
- HTTP API events: payload format 2.0; every webhook path has both POST and HEAD;
- IAM statements: no wildcard actions;
- the stack rehearsal's lessons (infra/iam-calls.json, written by `make rehearse
  REHEARSAL_RECORD=1`): each function's role, and the OperatorPolicy, grant every call the
  rehearsal saw it make, and nothing else but the listed ALLOWANCE (each with why).

Usage: python infra/check_template.py [infra/template.yaml] [--root REPO_ROOT]
Exit status 0 when clean, 1 with one line per finding otherwise.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

import yaml

EXPECTED_RUNTIME = "provided.al2023"
EXPECTED_HANDLER = "bootstrap"
ARCHITECTURES = {"arm64", "x86_64"}
CODE_URI = re.compile(r"^\.\./target/lambda-deploy/(?P<name>[a-z0-9][a-z0-9-]*)/bootstrap\.zip$")
MAX_FIFO_BATCH = 10
MAX_RECEIVE_COUNT = 5
VISIBILITY_FACTOR = 6
PASSING_LOG_LEVELS = {"TRACE", "DEBUG", "INFO"}
DEFAULT_TIMEOUT = 3  # Lambda's default when neither the function nor Globals set one


LESSONS = "iam-calls.json"
# Grants the rehearsal does not see used on every run, each with why the stack needs it:
# (principal glob, action, resource glob with {own} = the function's job stem, why).
ALLOWANCE = [
    ("*Function", "sqs:ChangeMessageVisibility", "{own}Queue",
     "a vendor 429 delays the message by its Retry-After instead of sleeping"),
    ("*Function", "dynamodb:DeleteItem", "Table",
     "a failed attempt releases its lease at once (the one batch driver, seen on escalate)"),
    ("ProfileSyncFunction", "sqs:DeleteMessage", "*Dlq",
     "erasure removes the person's dead letters from whichever job's DLQ holds them"),
    ("ProfileSyncFunction", "sqs:ChangeMessageVisibility", "*Dlq",
     "erasure puts every other dead letter back at once"),
    ("ProfileSyncFunction", "sqs:SendMessage", "ProfileSyncQueue",
     "a backfill that pauses at its deadline hands over to the next run (past ~200,000 contacts; "
     "the rehearsal's backfill finishes in one run; tests/e2e profile_backfill checks the handover)"),
    ("operator", "sqs:DeleteMessage", "*Dlq", "`bridge dlq replay` of any job's letters"),
    ("operator", "sqs:ChangeMessageVisibility", "*Dlq", "`bridge dlq list|replay` of any job's letters"),
    ("operator", "dynamodb:Scan", "Table", "replaying an erasure or contact-merge letter"),
    ("operator", "secretsmanager:PutSecretValue", "BridgeSecret",
     "`bridge setup zendesk` stores a new signing secret"),
    ("operator", "secretsmanager:*", "ExistingSecretArn", "the same, with ExistingSecretArn"),
]


class CfnLoader(yaml.SafeLoader):
    """SafeLoader that turns any CloudFormation short-form tag into its long form."""


def _construct_tag(loader: CfnLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{tag_suffix}": value}


CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as f:
        data = yaml.load(f, Loader=CfnLoader)  # noqa: S506 - SafeLoader subclass
    if not isinstance(data, dict):
        raise SystemExit(f"{path}: not a YAML mapping")
    return data


def merged(globals_: dict[str, Any], props: dict[str, Any], key: str) -> Any:
    return props[key] if key in props else globals_.get(key)


def getatt_target(value: Any, attribute: str) -> str | None:
    """`!GetAtt X.<attribute>` -> X, else None."""
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        if isinstance(target, list) and len(target) == 2 and target[1] == attribute:
            return str(target[0])
    return None


def iter_statements(policies: Any):
    """Yields inline policy statements, looking through Fn::If branches."""
    if isinstance(policies, dict):
        if "Fn::If" in policies:
            for branch in policies["Fn::If"][1:]:
                yield from iter_statements(branch)
            return
        statements = policies.get("Statement")
        if isinstance(statements, list):
            for s in statements:
                if isinstance(s, dict) and "Fn::If" in s:
                    yield from (b for b in s["Fn::If"][1:] if isinstance(b, dict) and "Effect" in b)
                elif isinstance(s, dict):
                    yield s
        return
    if isinstance(policies, list):
        for p in policies:
            yield from iter_statements(p)


def lesson_resources(value: Any, params: dict[str, Any]) -> list[str]:
    """A statement's Resource in the lessons' terms: `EscalateQueue`, `ReportsBucket/csat/*`,
    `ConfigBucket/bridge.yaml` (a parameter's default), `*`."""
    if isinstance(value, list):
        return [r for v in value for r in lesson_resources(v, params)]
    if isinstance(value, str):
        return [value]
    if not isinstance(value, dict):
        return []
    if "Fn::GetAtt" in value:
        return [str(value["Fn::GetAtt"][0])]
    if "Ref" in value:
        return [str(value["Ref"])]
    if "Fn::If" in value:
        return [r for branch in value["Fn::If"][1:] for r in lesson_resources(branch, params)]
    if "Fn::Sub" in value:
        text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
        m = re.fullmatch(r"arn:\$\{AWS::Partition\}:s3:::\$\{(\w+)\}/\$\{(\w+)\}", text)
        if m:
            key = (params.get(m.group(2)) or {}).get("Default", m.group(2))
            return [f"{m.group(1)}/{key}"]
        m = re.fullmatch(r"\$\{(\w+)\.Arn\}(/.*)?", text)
        if m:
            return [m.group(1) + (m.group(2) or "")]
        return [text]
    return []


def grants(statements: Any, params: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    for stmt in iter_statements(statements):
        if stmt.get("Effect") != "Allow":
            continue
        actions = stmt.get("Action")
        for action in actions if isinstance(actions, list) else [actions]:
            for resource in lesson_resources(stmt.get("Resource"), params):
                out.append((str(action), resource))
    return out


def allowed_extra(principal: str, action: str, resource: str) -> bool:
    own = principal.removesuffix("Function")
    for who, act, res, _why in ALLOWANCE:
        if fnmatch.fnmatch(principal, who) and fnmatch.fnmatch(action, act) and fnmatch.fnmatch(
            resource, res.replace("{own}", own)
        ):
            return True
    return False


def check_lessons(tpl: dict[str, Any], lessons_path: Path, bad) -> None:
    """Each principal's grants cover the rehearsal's calls, and go no further than the calls
    plus ALLOWANCE."""
    if not lessons_path.is_file():
        bad(str(lessons_path), "missing: run `make rehearse REHEARSAL_RECORD=1`")
        return
    lessons: dict[str, list[str]] = json.loads(lessons_path.read_text(encoding="utf-8"))
    resources: dict[str, Any] = tpl.get("Resources") or {}
    params: dict[str, Any] = tpl.get("Parameters") or {}
    granted: dict[str, list[tuple[str, str]]] = {}
    for logical_id, res in resources.items():
        props = res.get("Properties") or {}
        if res.get("Type") == "AWS::Serverless::Function":
            granted[logical_id] = grants(props.get("Policies"), params)
        elif res.get("Type") == "AWS::IAM::ManagedPolicy" and logical_id == "OperatorPolicy":
            granted["operator"] = grants(props.get("PolicyDocument"), params)
    for principal, calls in sorted(lessons.items()):
        if principal not in granted:
            bad(f"{LESSONS} {principal}", "no such function (or OperatorPolicy) in the template")
            continue
        for call in calls:
            action, _, resource = call.partition(" ")
            if not any(
                fnmatch.fnmatch(action, a) and fnmatch.fnmatch(resource, r) for a, r in granted[principal]
            ):
                bad(f"{principal}", f"the rehearsal saw it call {action} on {resource}, which its role does not grant")
    for principal, pairs in sorted(granted.items()):
        seen = [c.partition(" ") for c in lessons.get(principal, [])]
        for action, resource in pairs:
            used = any(a == action and fnmatch.fnmatch(r, resource) for a, _, r in seen)
            if not used and not allowed_extra(principal, action, resource):
                bad(
                    f"{principal}",
                    f"grants {action} on {resource}, which the rehearsal never saw it use "
                    f"(remove it, or add it to ALLOWANCE in infra/check_template.py with why)",
                )


def function_target(value: Any) -> str | None:
    """The logical id of the function a `TargetFunctionArn` / `FunctionName` names."""
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    return getatt_target(value, "Arn")


def check_function_urls(resources: dict[str, Any], bad) -> None:
    """A public function URL (AuthType NONE) answers 403 unless the function's resource policy
    allows both `lambda:InvokeFunctionUrl` (FunctionUrlAuthType NONE) and, since October 2025,
    `lambda:InvokeFunction` limited to the URL (InvokedViaFunctionUrl), both to everyone, under
    the URL's own condition."""
    permissions = [
        (res.get("Condition"), res.get("Properties") or {})
        for res in resources.values()
        if res.get("Type") == "AWS::Lambda::Permission"
    ]
    for logical_id, res in resources.items():
        if res.get("Type") != "AWS::Lambda::Url":
            continue
        props = res.get("Properties") or {}
        if props.get("AuthType") != "NONE":
            continue
        target = function_target(props.get("TargetFunctionArn"))
        condition = res.get("Condition")
        granted = {
            (p.get("Action"), str(p.get("FunctionUrlAuthType")), str(p.get("InvokedViaFunctionUrl")).lower())
            for cond, p in permissions
            if function_target(p.get("FunctionName")) == target and p.get("Principal") == "*" and cond == condition
        }
        wanted = {
            ("lambda:InvokeFunctionUrl", "NONE", "none"): "lambda:InvokeFunctionUrl with FunctionUrlAuthType NONE",
            ("lambda:InvokeFunction", "None", "true"): "lambda:InvokeFunction with InvokedViaFunctionUrl true",
        }
        for key, what in wanted.items():
            if key not in granted:
                bad(f"Resources.{logical_id}", f"a public function URL of {target} needs a Permission ({what}, "
                                               f"Principal '*', Condition {condition}): without it the URL answers 403")


def makefile_functions(root: Path) -> list[str] | None:
    makefile = root / "Makefile"
    if not makefile.is_file():
        return None
    for line in makefile.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^FUNCTIONS\s*:?=\s*(.*)$", line)
        if m:
            return m.group(1).split()
    return None


def check(template_path: Path, root: Path) -> list[str]:
    tpl = load_template(template_path)
    resources: dict[str, Any] = tpl.get("Resources") or {}
    params: dict[str, Any] = tpl.get("Parameters") or {}
    fn_globals: dict[str, Any] = (tpl.get("Globals") or {}).get("Function") or {}
    problems: list[str] = []

    def bad(where: str, msg: str) -> None:
        problems.append(f"{template_path}: {where}: {msg}")

    arch_param = params.get("Architecture")
    if not arch_param:
        bad("Parameters", "missing the Architecture parameter (arm64 | x86_64)")
    else:
        if set(arch_param.get("AllowedValues") or []) != ARCHITECTURES:
            bad("Parameters.Architecture", f"AllowedValues must be {sorted(ARCHITECTURES)}")
        if arch_param.get("Default") != "arm64":
            bad("Parameters.Architecture", "Default must be arm64")

    functions = {k: v for k, v in resources.items() if v.get("Type") == "AWS::Serverless::Function"}
    if not functions:
        bad("Resources", "no AWS::Serverless::Function")

    http_routes: dict[str, set[str]] = {}
    names: list[str] = []
    job_queues: set[str] = set()
    schedule_dlqs: set[str] = set()
    sweeping: dict[str, str] = {}  # function name -> where its sweep schedule is
    for logical_id, res in functions.items():
        where = f"Resources.{logical_id}"
        props: dict[str, Any] = res.get("Properties") or {}
        metadata: dict[str, Any] = res.get("Metadata") or {}

        runtime = merged(fn_globals, props, "Runtime")
        if runtime != EXPECTED_RUNTIME:
            bad(where, f"Runtime is {runtime!r}, expected {EXPECTED_RUNTIME!r}")
        handler = merged(fn_globals, props, "Handler")
        if handler != EXPECTED_HANDLER:
            bad(where, f"Handler is {handler!r}, expected {EXPECTED_HANDLER!r}")
        archs = merged(fn_globals, props, "Architectures")
        if archs != [{"Ref": "Architecture"}] and not (
            isinstance(archs, list) and len(archs) == 1 and archs[0] in ARCHITECTURES
        ):
            bad(where, f"Architectures is {archs!r}, expected [!Ref Architecture]")
        logging = merged(fn_globals, props, "LoggingConfig") or {}
        log_format = logging.get("LogFormat") or (fn_globals.get("LoggingConfig") or {}).get("LogFormat")
        if log_format != "JSON":
            bad(where, "LoggingConfig.LogFormat must be JSON")
        app_level = logging.get("ApplicationLogLevel", "INFO")
        if not isinstance(app_level, str) or app_level not in PASSING_LOG_LEVELS:
            bad(where, f"LoggingConfig.ApplicationLogLevel {app_level!r} could drop the EMF metric lines"
                       f" (Lambda counts them as INFO); use one of {sorted(PASSING_LOG_LEVELS)} and filter with RUST_LOG")

        # One build path: make build -> staged zip -> CodeUri.
        if "BuildMethod" in metadata:
            bad(where, "Metadata.BuildMethod set: functions are built by `make build`, not `sam build`")
        code_uri = props.get("CodeUri", fn_globals.get("CodeUri"))
        m = CODE_URI.match(code_uri) if isinstance(code_uri, str) else None
        if not m:
            bad(where, f"CodeUri {code_uri!r} is not ../target/lambda-deploy/<function>/bootstrap.zip")
        else:
            name = m.group("name")
            names.append(name)
            binary = (metadata.get("BuildProperties") or {}).get("Binary")
            if binary is not None and binary != name:
                bad(where, f"BuildProperties.Binary {binary!r} differs from CodeUri's {name!r}")
            crate = root / "functions" / name
            manifest = crate / "Cargo.toml"
            if not crate.is_dir():
                bad(where, f"CodeUri names {name!r} but functions/{name}/ does not exist")
            elif not manifest.is_file():
                bad(where, f"functions/{name}/Cargo.toml does not exist")
            else:
                try:
                    package = tomllib.loads(manifest.read_text(encoding="utf-8")).get("package", {})
                except tomllib.TOMLDecodeError as e:
                    bad(where, f"functions/{name}/Cargo.toml: {e}")
                else:
                    if package.get("name") != name:
                        bad(where, f"functions/{name}/Cargo.toml names package {package.get('name')!r}, expected {name!r}")

        timeout = merged(fn_globals, props, "Timeout") or DEFAULT_TIMEOUT
        events: dict[str, Any] = props.get("Events") or {}
        for event_id, event in events.items():
            ewhere = f"{where}.Events.{event_id}"
            etype = event.get("Type")
            eprops: dict[str, Any] = event.get("Properties") or {}
            if etype == "ScheduleV2":
                if not eprops.get("RetryPolicy"):
                    bad(ewhere, "no RetryPolicy")
                dlq_id = getatt_target((eprops.get("DeadLetterConfig") or {}).get("Arn"), "Arn")
                dlq = resources.get(dlq_id or "", {})
                if dlq.get("Type") != "AWS::SQS::Queue":
                    bad(ewhere, "DeadLetterConfig.Arn must be !GetAtt <an AWS::SQS::Queue of this template>.Arn")
                elif (dlq.get("Properties") or {}).get("FifoQueue") is True:
                    bad(ewhere, f"DeadLetterConfig: {dlq_id} is FIFO; EventBridge Scheduler needs a standard queue")
                else:
                    schedule_dlqs.add(dlq_id)
                if '"sweep"' in str(eprops.get("Input") or "") and m:
                    sweeping[m.group("name")] = ewhere
            if etype == "SQS":
                job_queues.add(getatt_target(eprops.get("Queue"), "Arn") or "")
                frt = eprops.get("FunctionResponseTypes") or []
                if "ReportBatchItemFailures" not in frt:
                    bad(ewhere, f"FunctionResponseTypes {frt!r} lacks ReportBatchItemFailures")
                batch = eprops.get("BatchSize", 10)
                if not isinstance(batch, int) or not 1 <= batch <= MAX_FIFO_BATCH:
                    bad(ewhere, f"BatchSize {batch!r} must be 1..{MAX_FIFO_BATCH} (FIFO)")
                queue_id = getatt_target(eprops.get("Queue"), "Arn")
                queue = resources.get(queue_id or "", {})
                if queue.get("Type") != "AWS::SQS::Queue":
                    bad(ewhere, "Queue must be !GetAtt <AWS::SQS::Queue in this template>.Arn")
                    continue
                qprops = queue.get("Properties") or {}
                qwhere = f"Resources.{queue_id}"
                if qprops.get("FifoQueue") is not True:
                    bad(qwhere, "job queues must be FIFO")
                vis = qprops.get("VisibilityTimeout", 30)
                if isinstance(timeout, int) and (not isinstance(vis, int) or vis < VISIBILITY_FACTOR * timeout):
                    bad(qwhere, f"VisibilityTimeout {vis!r} < {VISIBILITY_FACTOR} x {logical_id} Timeout {timeout}")
                redrive = qprops.get("RedrivePolicy") or {}
                dlq_id = getatt_target(redrive.get("deadLetterTargetArn"), "Arn")
                dlq = resources.get(dlq_id or "", {})
                if dlq.get("Type") != "AWS::SQS::Queue":
                    bad(qwhere, "RedrivePolicy.deadLetterTargetArn must be !GetAtt <DLQ>.Arn")
                elif (dlq.get("Properties") or {}).get("FifoQueue") is not True:
                    bad(f"Resources.{dlq_id}", "the DLQ of a FIFO queue must be FIFO")
                if redrive.get("maxReceiveCount") != MAX_RECEIVE_COUNT:
                    bad(qwhere, f"RedrivePolicy.maxReceiveCount must be {MAX_RECEIVE_COUNT}")
            elif etype == "HttpApi":
                pfv = eprops.get("PayloadFormatVersion", "2.0")
                if str(pfv) != "2.0":
                    bad(ewhere, f"PayloadFormatVersion {pfv!r}; lambda_http is built for 2.0 (apigw_http)")
                path, method = eprops.get("Path"), str(eprops.get("Method", "")).upper()
                if isinstance(path, str):
                    http_routes.setdefault(path, set()).add(method)

        for stmt in iter_statements(props.get("Policies")):
            actions = stmt.get("Action")
            actions = actions if isinstance(actions, list) else [actions]
            for action in actions:
                if isinstance(action, str) and "*" in action:
                    bad(where, f"IAM action {action!r} is a wildcard; name the actions")

    for path, methods in sorted(http_routes.items()):
        missing = {"POST", "HEAD"} - methods
        if path.startswith("/webhooks/") and missing:
            bad("HttpApi routes", f"{path} lacks {', '.join(sorted(missing))}")

    # Every function has an Errors and a Throttles alarm; every DLQ a depth alarm; the table PITR.
    alarmed: set[tuple[str, str]] = set()
    for res in resources.values():
        if res.get("Type") != "AWS::CloudWatch::Alarm":
            continue
        aprops = res.get("Properties") or {}
        for dim in aprops.get("Dimensions") or []:
            value = dim.get("Value")
            target = value.get("Ref") if isinstance(value, dict) else None
            target = target or getatt_target(value, "QueueName")
            if target:
                alarmed.add((target, str(aprops.get("MetricName"))))
    for logical_id in functions:
        for metric in ("Errors", "Throttles"):
            if (logical_id, metric) not in alarmed:
                bad(f"Resources.{logical_id}", f"no CloudWatch alarm on AWS/Lambda {metric}")
    for logical_id, res in resources.items():
        if res.get("Type") == "AWS::SQS::Queue" and logical_id.endswith("Dlq"):
            if (logical_id, "ApproximateNumberOfMessagesVisible") not in alarmed:
                bad(f"Resources.{logical_id}", "no depth alarm (ApproximateNumberOfMessagesVisible)")
        if res.get("Type") == "AWS::SQS::Queue" and logical_id in job_queues:
            if (logical_id, "ApproximateAgeOfOldestMessage") not in alarmed:
                bad(f"Resources.{logical_id}", "no age alarm (ApproximateAgeOfOldestMessage)")
        if logical_id in schedule_dlqs and (logical_id, "ApproximateNumberOfMessagesVisible") not in alarmed:
            bad(f"Resources.{logical_id}", "a schedules' DLQ without a depth alarm (ApproximateNumberOfMessagesVisible)")
        if res.get("Type") == "AWS::DynamoDB::Table":
            pitr = ((res.get("Properties") or {}).get("PointInTimeRecoverySpecification") or {})
            if pitr.get("PointInTimeRecoveryEnabled") is not True:
                bad(f"Resources.{logical_id}", "point-in-time recovery is not enabled")

    # Repairs by a sweep mean lost webhooks: each sweeping job's Repaired count is alarmed on.
    repaired_alarmed: set[str] = set()
    for res in resources.values():
        if res.get("Type") != "AWS::CloudWatch::Alarm":
            continue
        for query in (res.get("Properties") or {}).get("Metrics") or []:
            metric = ((query.get("MetricStat") or {}).get("Metric")) or {}
            if metric.get("MetricName") == "Repaired":
                repaired_alarmed.update(str(d.get("Value")) for d in metric.get("Dimensions") or [] if d.get("Name") == "Job")
    for name, ewhere in sorted(sweeping.items()):
        if name not in repaired_alarmed:
            bad(ewhere, f"a repair sweep without an alarm on Repaired (Job={name}): lost webhooks would go unseen")

    check_function_urls(resources, bad)
    check_lessons(tpl, template_path.parent / LESSONS, bad)

    listed = makefile_functions(root)
    if listed is not None and sorted(listed) != sorted(names):
        bad("Makefile FUNCTIONS", f"{sorted(listed)} differs from the template's {sorted(names)}")
    if len(set(names)) != len(names):
        bad("Resources", f"two functions share one CodeUri: {sorted(names)}")
    return problems


def main() -> int:
    here = Path(__file__).resolve().parent
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("template", nargs="?", default=str(here / "template.yaml"))
    ap.add_argument("--root", default=str(here.parent), help="repository root (default: infra/..)")
    args = ap.parse_args()
    problems = check(Path(args.template), Path(args.root))
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"check_template: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"check_template: {args.template} ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
