"""Synth checks for what an operator looks at: tracing everywhere, the dashboard's widgets, the three packs clean."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tailor import naming, observability
from tests.infra.conftest import template

pytestmark = pytest.mark.infra

ENVIRONMENTS = ("dev", "prod")
STACKS = ("Data", "Guard", "Jobs")


def rendered(value: Any) -> str:
    """A Fn::Join'ed string with each token written as <Ref:X>, <GetAtt:X.Y> or <Import:name>."""
    if isinstance(value, str):
        return value
    ((fn, arg),) = value.items()
    if fn == "Fn::Join":
        return arg[0].join(rendered(part) for part in arg[1])
    if fn == "Ref":
        return f"<Ref:{arg}>"
    if fn == "Fn::GetAtt":
        return f"<GetAtt:{'.'.join(arg)}>"
    if fn == "Fn::ImportValue":
        return f"<Import:{rendered(arg)}>"
    raise AssertionError(f"unexpected token {value!r}")


def dashboard(assembly, env: str) -> tuple[dict[str, Any], dict[str, Any]]:
    guard = template(assembly, naming.stack_name(env, "Guard"))
    (resource,) = guard.find_resources("AWS::CloudWatch::Dashboard").values()
    return resource["Properties"], guard.to_json()["Resources"]


def metrics_of(body: dict[str, Any]) -> list[list[Any]]:
    return [m for w in body["widgets"] for m in w.get("properties", {}).get("metrics", [])]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_function_and_state_machine_is_traced_and_may_write_its_traces(assembly, env):
    for stack in STACKS:
        t = template(assembly, naming.stack_name(env, stack)).to_json()["Resources"]
        policies = [r["Properties"] for r in t.values() if r["Type"] == "AWS::IAM::Policy"]
        for logical_id, resource in t.items():
            props = resource["Properties"]
            if resource["Type"] == "AWS::Lambda::Function":
                assert props.get("TracingConfig") == {"Mode": "Active"}, logical_id
                role = props["Role"]["Fn::GetAtt"][0]
            elif resource["Type"] == "AWS::StepFunctions::StateMachine":
                assert props.get("TracingConfiguration") == {"Enabled": True}, logical_id
                role = props["RoleArn"]["Fn::GetAtt"][0]
            else:
                continue
            # Its role may put trace segments (a traced function whose role may not loses every trace silently)
            granted = [
                s
                for p in policies
                if {"Ref": role} in p["Roles"]
                for s in p["PolicyDocument"]["Statement"]
                if "xray:PutTraceSegments" in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
            ]
            assert granted, f"{logical_id}: its role {role} cannot write X-Ray segments"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_tailor_functions_carry_the_powertools_settings_without_a_metrics_service(assembly, env):
    for stack in STACKS:
        functions = template(assembly, naming.stack_name(env, stack)).find_resources("AWS::Lambda::Function")
        for props in (
            f["Properties"] for f in functions.values() if f["Properties"]["Handler"].startswith("functions.")
        ):
            variables = props["Environment"]["Variables"]
            assert variables["POWERTOOLS_METRICS_NAMESPACE"] == observability.NAMESPACE
            assert variables["POWERTOOLS_SERVICE_NAME"] == props["Handler"].split(".")[1].replace("_", "-")
            assert props["LoggingConfig"]["LogFormat"] == "JSON"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_dashboard_widget_names_a_metric_something_emits(assembly, env):
    # Given the environment's dashboard, as CloudFormation will create it
    props, resources = dashboard(assembly, env)
    assert props["DashboardName"] == f"tailor-{env}"
    body = json.loads(rendered(props["DashboardBody"]))
    metrics = metrics_of(body)
    teardown = next(
        k
        for k, r in resources.items()
        if r["Type"] == "AWS::Lambda::Function" and "teardown" in r["Properties"]["Handler"]
    )
    dlq = next(k for k, r in resources.items() if r["Type"] == "AWS::SQS::Queue")
    names_by_namespace: dict[str, set[str]] = {}
    for metric in metrics:
        # [namespace, name, dimension, value, ..., {label, stat, period}]
        namespace, name, *rest = metric
        pairs = rest[:-1] if rest and isinstance(rest[-1], dict) else rest
        dimensions = dict(zip(pairs[0::2], pairs[1::2], strict=True))
        names_by_namespace.setdefault(namespace, set()).add(name)
        # Then each is one the functions emit, under the one dimension they emit it with, or the service's own
        if namespace == observability.NAMESPACE:
            assert name in observability.emitted(), name
            assert dimensions == {observability.DIMENSION: env}, metric
        elif namespace == "AWS/Lambda":
            assert dimensions == {"FunctionName": f"<Ref:{teardown}>"}, metric
        elif namespace == "AWS/SQS":
            assert dimensions["QueueName"] in (
                f"<GetAtt:{dlq}.QueueName>",
                f"<Import:{naming.export_name(env, 'UndeliveredNotificationsQueueName')}>",
            ), metric
        else:
            raise AssertionError(f"a widget shows {namespace}/{name}, which nothing here emits")
    # And it answers the operator's questions: serving and its expiry, the guard, outcomes, jobs, spend
    shown = names_by_namespace[observability.NAMESPACE]
    assert {"ManagedServing", "NextExpiryMinutes", "ManagedPastExpiry", "IdleTornDown", "JobsInProgress"} <= shown
    assert set(observability.TEARDOWN_OUTCOMES.values()) | set(observability.JOB_STATES.values()) <= shown
    assert {"BudgetActualSpend", "BudgetForecastedSpend"} <= shown  # both examples have a budget
    assert names_by_namespace["AWS/Lambda"] == {"Invocations", "Errors", "Duration", "Throttles"}
    assert names_by_namespace["AWS/SQS"] == {"ApproximateNumberOfMessagesVisible"}
    assert any(w["type"] == "alarm" and len(w["properties"]["alarms"]) == 4 for w in body["widgets"])


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_dashboard_url_is_an_output_exported_by_its_fixed_name(assembly, env):
    outputs = template(assembly, naming.stack_name(env, "Guard")).to_json()["Outputs"]
    (url,) = [o for o in outputs.values() if o.get("Export", {}).get("Name") == f"Tailor-{env}-DashboardUrl"]
    console = r"https://([a-z0-9-]+)\.console\.aws\.amazon\.com/cloudwatch/home"
    match = re.fullmatch(console + r"\?region=([a-z0-9-]+)#dashboards/dashboard/(.+)", rendered(url["Value"]))
    assert match and match[1] == match[2] and match[3] == f"tailor-{env}"
    # `tailor status` prints the URL without reading the export: it must be the one the stack exports.
    assert rendered(url["Value"]) == naming.dashboard_url(env, match[1])


def test_all_three_packs_ran_and_every_acknowledgment_names_its_resource_and_a_reason(assembly):
    outdir, _ = assembly
    report = json.loads((outdir / "validation-report.json").read_text())
    plugins = {r["pluginName"]: r for r in report["pluginReports"]}
    # Every pack ran, none has an unacknowledged finding
    assert set(plugins) == {"AwsSolutions", "Serverless", "NIST.800.53.R5"}
    assert all(r["conclusion"] == "success" and not r["violations"] for r in plugins.values())
    # And each acknowledgment is on one construct, made at that construct or its own parent, with a reason
    for pack, plugin in plugins.items():
        for suppressed in plugin["suppressedViolations"]:
            assert suppressed["acknowledgedId"].startswith(f"{pack}::{pack}-"), suppressed["acknowledgedId"]
            assert len(suppressed["reason"]) >= 40, suppressed
            acknowledged_at = suppressed["acknowledgedAt"]
            for construct in suppressed["violatingConstructs"]:
                assert construct["constructPath"].startswith(acknowledged_at + "/"), (acknowledged_at, construct)
                assert acknowledged_at.count("/") >= 1  # never a whole stack or the app


def test_every_handler_a_template_names_adopts_the_observability_entry(assembly):
    # Given every Lambda entry point the constructs name (the examples' templates and the constructs' own strings)
    import importlib
    from pathlib import Path

    from tests.conftest import ROOT

    named = set()
    for env in ENVIRONMENTS:
        for stack in STACKS:
            functions = template(assembly, naming.stack_name(env, stack)).find_resources("AWS::Lambda::Function")
            for function in functions.values():
                handler = function["Properties"].get("Handler", "")
                if handler.startswith("functions."):
                    named.add(handler)
    for source in Path(ROOT, "cdk_constructs").glob("*.py"):
        named |= set(re.findall(r'"(functions\.[a-z_]+\.[a-z_]+)"', source.read_text()))
    # Then each is wrapped by functions.observability.entry: JSON logs with the keys, a trace, its metrics flushed
    assert len(named) >= 6
    for handler in sorted(named):
        module, name = handler.rsplit(".", 1)
        entry = getattr(importlib.import_module(module), name)
        assert entry.__code__.co_qualname == "entry.<locals>.wrapped", f"{handler} is not @observability.entry"
