"""The teardown function's observability, run as Lambda runs it: JSON log lines carrying the correlation keys, and
metrics as embedded-metric-format documents with exactly the dimensions the alarms and the dashboard select."""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from types import SimpleNamespace

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

import functions.teardown as teardown_handler  # not teardown_function/_module: pytest's xunit hook names
from cdk_constructs.dead_letter_queue import DeadLetterQueue
from cdk_constructs.serving_teardown import ServingTeardown
from functions import observability as adapter
from tailor import observability
from tailor.config.policy import Policy
from tailor.serving.model import managed_tags
from tailor.serving.schedules import teardown_event
from tests.conftest import wiring_environment
from tests.handlers.serving.test_lifecycle import POLICY, at

CONTEXT = SimpleNamespace(aws_request_id="req-1", function_name="tailor-dev-teardown")


class CurrentStdout:
    """Powertools' handler keeps the stdout it found at import; this one writes to whatever capsys installed."""

    def write(self, text: str) -> None:
        sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


@pytest.fixture
def lambda_like(monkeypatch, clients, wiring, bedrock_double):
    """The teardown module as Lambda imports it: its environment set, its clients moto's and the double, its
    clock the double's, and Powertools' log handler writing to this test's captured stdout."""
    wiring_environment(monkeypatch, wiring)
    monkeypatch.setenv("TAILOR_SWEEP_POLICY", POLICY.to_json())
    monkeypatch.setattr(teardown_handler, "aws", SimpleNamespace(Clients=lambda: clients))
    monkeypatch.setattr(teardown_handler, "datetime", SimpleNamespace(now=lambda tz=None: bedrock_double.clock()))
    monkeypatch.setattr(adapter.logger.registered_handler, "stream", CurrentStdout())
    at(bedrock_double)
    return teardown_handler


def buy(bedrock_double, *, key="micro-eval", expires="2026-11-25T10:00:00Z"):
    model = bedrock_double.add_custom_model(f"{key}-model")
    arn = bedrock_double.client.create_provisioned_model_throughput(
        modelUnits=1,
        provisionedModelName=f"dev-{key}",
        modelId=model,
        clientRequestToken=f"dev-{key}",
        tags=managed_tags("dev", key, expires, {}),
    )["provisionedModelArn"]
    bedrock_double.settle()
    return arn


def lines(capsys) -> list[dict]:
    """Every JSON line the invocation wrote to stdout."""
    out = capsys.readouterr().out
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def emf(documents: list[dict]) -> list[dict]:
    return [d for d in documents if "_aws" in d]


def value(document: dict, name: str) -> float:
    """A metric's value in an EMF document (Powertools writes a list when one invocation put it more than once)."""
    raw = document[name]
    return sum(raw) if isinstance(raw, list) else raw


def emitted_names(documents: list[dict]) -> set[str]:
    return {m["Name"] for d in emf(documents) for block in d["_aws"]["CloudWatchMetrics"] for m in block["Metrics"]}


def test_a_scheduled_teardown_logs_its_environment_and_arn_on_every_line_and_counts_its_outcome_in_emf(
    lambda_like, bedrock_double, capsys
):
    # Given an expired managed throughput and its one-time schedule's event
    arn = buy(bedrock_double)
    at(bedrock_double, timedelta(hours=2))
    capsys.readouterr()
    # When the teardown function handles it
    result = lambda_like.handler(teardown_event("dev", arn, "2026-11-25T10:00:00Z"), CONTEXT)
    documents = lines(capsys)
    # Then every log line names the environment, the ARN and the request
    logs = [d for d in documents if "_aws" not in d]
    assert result["action"] == "deleted" and logs
    assert all(d["environment"] == "dev" and d["arn"] == arn and d["request_id"] == "req-1" for d in logs)
    # And the outcome went out as one EMF document: namespace Tailor, Environment its only dimension
    (document,) = emf(documents)
    (block,) = document["_aws"]["CloudWatchMetrics"]
    assert block["Namespace"] == "Tailor" and block["Dimensions"] == [["Environment"]]
    assert document["Environment"] == "dev" and value(document, "ServingDeleted") == 1


def test_a_sweep_emits_every_sweep_metric_even_when_it_fails_and_every_line_says_it_was_a_sweep(
    lambda_like, bedrock_double, capsys
):
    # Given a managed throughput, and a listing Bedrock refuses (the sweep fails loudly, at the end)
    at(bedrock_double)
    buy(bedrock_double, expires="2099-01-01T00:00:00Z")
    bedrock_double.fail_next("ListCustomModelDeployments", "AccessDeniedException", "denied", times=5)
    capsys.readouterr()
    # When the reconciler's rule invokes the function
    with pytest.raises(Exception, match="ListCustomModelDeployments"):
        lambda_like.handler({"tailor": "sweep"}, CONTEXT)
    documents = lines(capsys)
    # Then the metrics were still flushed, all of them, with the heartbeat's ManagedServing among them
    (document,) = emf(documents)
    assert set(observability.SWEEP_METRICS) <= emitted_names(documents)
    assert value(document, "ManagedServing") == 1 and value(document, "ListingFailures") == 1
    assert value(document, "NextExpiryMinutes") > 0  # the throughput is alive: time to its expiry
    # And every line, the domain loggers' (tailor.serving.*) included, is JSON with the correlation keys
    logs = [d for d in documents if "_aws" not in d]
    assert all(d["environment"] == "dev" and d["tailor_event"] == "sweep" and d["request_id"] == "req-1" for d in logs)
    assert {"list_all", "sweep", "wrapped"} <= {d["location"].split(":")[0] for d in logs}
    assert {"tailor.serving.model", "tailor.serving.reconciler"} <= {d["name"] for d in logs}
    assert any(d["message"] == "invocation failed" and d["exception_name"] == "SweepError" for d in logs)


def test_every_alarm_on_a_tailor_metric_selects_a_metric_the_function_emits_with_the_same_dimensions(
    lambda_like, bedrock_double, capsys
):
    # Given the alarms as CDK synthesizes them for environment dev
    stack = cdk.Stack(cdk.App(), "Guard", env=cdk.Environment(account="123456789012", region="us-east-1"))
    key = kms.Key.from_key_arn(stack, "Key", "arn:aws:kms:us-east-1:123456789012:key/abc")
    topic = sns.Topic.from_topic_arn(stack, "Topic", "arn:aws:sns:us-east-1:123456789012:tailor-dev")
    dlq = DeadLetterQueue(stack, "DLQ", environment="dev", key=key, topic=topic)
    ServingTeardown(
        stack,
        "Teardown",
        environment="dev",
        policy=Policy(),
        reconcile_every=cdk.Duration.minutes(5),
        key=key,
        topic=topic,
        dead_letter_queue=dlq,
    )
    alarms = [
        a["Properties"]
        for a in Template.from_stack(stack).find_resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("Namespace") == "Tailor"
    ]
    # When the function sweeps once
    at(bedrock_double)
    capsys.readouterr()
    lambda_like.handler({"tailor": "sweep"}, CONTEXT)
    (document,) = emf(lines(capsys))
    (block,) = document["_aws"]["CloudWatchMetrics"]
    emitted = {m["Name"] for m in block["Metrics"]}
    # Then each alarm's metric is in the document, under exactly the alarm's dimension set and values
    assert {a["MetricName"] for a in alarms} == {"ManagedPastExpiry", "ManagedServing"}
    for alarm in alarms:
        assert alarm["MetricName"] in emitted
        assert [sorted(d["Name"] for d in alarm["Dimensions"])] == [sorted(names) for names in block["Dimensions"]]
        assert all(document[d["Name"]] == d["Value"] for d in alarm["Dimensions"])


def test_every_metric_name_tailor_declares_is_emitted_by_some_path(lambda_like, bedrock_double, capsys, monkeypatch):
    # Given each path that emits: a sweep with a budget, every teardown outcome, and the completion's job outcomes
    class Budgets:
        def describe_budget(self, **_):
            return {
                "Budget": {"CalculatedSpend": {"ActualSpend": {"Amount": "12.5"}, "ForecastedSpend": {"Amount": "40"}}}
            }

    at(bedrock_double)
    monkeypatch.setenv("TAILOR_BUDGET_NAME", "tailor-dev-bedrock")
    monkeypatch.setenv("TAILOR_ACCOUNT", "123456789012")
    clients = lambda_like.aws.Clients()
    monkeypatch.setattr(lambda_like.aws, "Clients", lambda: SimpleNamespace(**vars(clients), budgets=Budgets()))
    buy(bedrock_double, expires="2099-01-01T00:00:00Z")
    capsys.readouterr()
    lambda_like.handler({"tailor": "sweep"}, CONTEXT)
    for action in observability.TEARDOWN_OUTCOMES:  # the schedule path's one count per outcome
        adapter.sink("dev").put(observability.TEARDOWN_OUTCOMES[action], 1)
        adapter.flush()
    jobs = [SimpleNamespace(action="recorded", status=s) for s in observability.JOB_STATES]
    adapter.record_jobs(
        [*jobs, SimpleNamespace(action="unchanged", status="InProgress")], environment="dev", reconciled=True
    )
    adapter.flush()
    documents = lines(capsys)
    # Then together they emit every declared name, each under {Environment} alone
    assert emitted_names(documents) == observability.emitted()
    assert all(b["Dimensions"] == [["Environment"]] for d in emf(documents) for b in d["_aws"]["CloudWatchMetrics"])
    spend = next(d for d in emf(documents) if "BudgetActualSpend" in d)
    assert (value(spend, "BudgetActualSpend"), value(spend, "BudgetForecastedSpend")) == (12.5, 40.0)
    in_progress = next(d for d in emf(documents) if "JobsInProgress" in d)
    assert value(in_progress, "JobsInProgress") == 1


def test_correlation_keys_are_read_from_each_kind_of_event_and_never_raise(monkeypatch):
    monkeypatch.delenv("TAILOR_ENVIRONMENT", raising=False)
    serving = {
        "RequestType": "Create",
        "LogicalResourceId": "ServingMicroEval",
        "PhysicalResourceId": "arn:aws:bedrock:us-east-1:1:provisioned-model/x",
        "ResourceProperties": {"Spec": json.dumps({"environment": "dev", "key": "micro-eval"})},
    }
    job = {"ResourceProperties": {"Spec": json.dumps({"environment": "prod", "jobKey": "support-bot"})}}
    change = {
        "detail-type": "Model Customization Job State Change",
        "detail": {"jobArn": "arn:j", "jobStatus": "Failed"},
    }
    assert adapter.correlation_keys(serving) == {
        "environment": "dev",
        "serving_key": "micro-eval",
        "arn": "arn:aws:bedrock:us-east-1:1:provisioned-model/x",
        "request_type": "Create",
        "logical_id": "ServingMicroEval",
    }
    assert adapter.correlation_keys(job) == {"environment": "prod", "job_key": "support-bot"}
    assert adapter.correlation_keys(change) == {"arn": "arn:j", "job_status": "Failed"}
    for broken in ({"ResourceProperties": {"Spec": "{not json"}}, {"detail": "text"}, {"ResourceProperties": 3}, {}):
        assert adapter.correlation_keys(broken) == {}
