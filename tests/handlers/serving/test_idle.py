"""The idle guard against moto's CloudWatch: serving nobody calls is torn down early, with a grace period."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tailor import records
from tailor.observability import RecordingSink
from tailor.serving import reconciler
from tailor.serving import resource as serving_resource
from tests.handlers.serving.test_lifecycle import at, cfn, throughput_spec

IDLE = reconciler.SweepPolicy(30, "report", False, 8, idle_minutes=30)


@pytest.fixture
def live(clients, wiring, bedrock_double):
    at(bedrock_double)
    spec = throughput_spec(bedrock_double.add_custom_model("support-bot-model"))
    arn = serving_resource.on_event(cfn("Create", spec), clients, wiring, now=at(bedrock_double))["Data"]["Arn"]
    bedrock_double.settle()
    return spec, arn


def invoke(clients, arn, when, count=3):
    clients.cloudwatch.put_metric_data(
        Namespace="AWS/Bedrock",
        MetricData=[
            {
                "MetricName": "Invocations",
                "Dimensions": [{"Name": "ModelId", "Value": arn}],
                "Value": count,
                "Unit": "Count",
                "Timestamp": when,
            }
        ],
    )


def test_serving_nobody_called_for_the_window_is_torn_down_recorded_and_announced(
    clients, wiring, bedrock_double, live
):
    spec, arn = live
    report = reconciler.sweep(
        clients, wiring, IDLE, metrics=RecordingSink(), now=at(bedrock_double, timedelta(minutes=45))
    )
    assert report.idle == [arn] and arn not in bedrock_double.throughputs
    record = records.get(clients.ssm, spec.record_name)
    assert record["status"] == "deleted" and "idle" in record["deletedReason"]


def test_serving_called_within_the_window_is_kept(clients, wiring, bedrock_double, live):
    _, arn = live
    invoke(clients, arn, at(bedrock_double, timedelta(minutes=40)))
    report = reconciler.sweep(
        clients, wiring, IDLE, metrics=RecordingSink(), now=at(bedrock_double, timedelta(minutes=45))
    )
    assert report.idle == [] and arn in bedrock_double.throughputs


def test_new_serving_gets_the_window_as_grace(clients, wiring, bedrock_double, live):
    _, arn = live
    report = reconciler.sweep(
        clients, wiring, IDLE, metrics=RecordingSink(), now=at(bedrock_double, timedelta(minutes=20))
    )
    assert report.idle == [] and arn in bedrock_double.throughputs


def test_the_guard_is_off_unless_the_policy_sets_it_and_honours_dry_run(clients, wiring, bedrock_double, live):
    _, arn = live
    off = reconciler.SweepPolicy(30, "report", False, 8)
    assert (
        reconciler.sweep(
            clients, wiring, off, metrics=RecordingSink(), now=at(bedrock_double, timedelta(minutes=45))
        ).idle
        == []
    )
    dry = reconciler.SweepPolicy(30, "report", True, 8, idle_minutes=30)
    report = reconciler.sweep(
        clients, wiring, dry, metrics=RecordingSink(), now=at(bedrock_double, timedelta(minutes=46))
    )
    assert report.idle == [arn] and report.would_delete == [arn] and arn in bedrock_double.throughputs
