"""`tailor serving extend` and `expire`: the operator's path through the handlers' own code."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from types import SimpleNamespace

import pytest

from tailor import records
from tailor.serving import operations
from tailor.serving import resource as serving_resource
from tailor.serving.model import TAG_EXPIRES_AT
from tailor.serving.teardown import teardown
from tests.handlers.serving.test_lifecycle import at, cfn, schedules, throughput_spec


class _Lambda:
    """Stands in for the teardown function's async invoke: records the event, and can run it."""

    def __init__(self):
        self.events = []

    def invoke(self, *, FunctionName, InvocationType, Payload):  # boto3's parameter names
        assert InvocationType == "Event"
        self.events.append((FunctionName, json.loads(Payload)))
        return {"StatusCode": 202}


@pytest.fixture
def live(clients, wiring, bedrock_double):
    model = bedrock_double.add_custom_model("support-bot-model")
    spec = throughput_spec(model)
    arn = serving_resource.on_event(cfn("Create", spec), clients, wiring, now=at(bedrock_double))["Data"]["Arn"]
    bedrock_double.settle()
    ops = SimpleNamespace(**vars(clients), lambda_=_Lambda())
    return SimpleNamespace(spec=spec, arn=arn, clients=ops)


def test_extend_moves_the_expiry_from_creation_replaces_the_schedule_and_records_it(live, wiring, bedrock_double):
    # Given serving created at 09:00 with 4 hours
    now = at(bedrock_double, timedelta(hours=1))
    # When the operator extends it to 6 hours
    result = operations.extend(live.clients, wiring, "micro-eval", hours=6, max_hours=8, now=now)
    # Then it ends at 15:00, one schedule fires then, and the record agrees
    assert (result.action, result.expires_at) == ("extended", "2026-11-25T15:00:00Z")
    assert bedrock_double.tags[live.arn][TAG_EXPIRES_AT] == "2026-11-25T15:00:00Z"
    assert [s["ScheduleExpression"] for s in schedules(live.clients)] == ["at(2026-11-25T14:59:00)"]
    record = records.get(live.clients.ssm, live.spec.record_name)
    assert record["expiresAt"] == "2026-11-25T15:00:00Z" and record["hours"] == 6
    # and doing it again changes nothing
    again = operations.extend(live.clients, wiring, "micro-eval", hours=6, max_hours=8, now=now)
    assert again.action == "unchanged" and len(schedules(live.clients)) == 1


def test_a_deploy_of_unchanged_config_does_not_undo_an_extension(live, wiring, bedrock_double):
    operations.extend(
        live.clients, wiring, "micro-eval", hours=6, max_hours=8, now=at(bedrock_double, timedelta(hours=1))
    )
    update = cfn("Update", live.spec, old=live.spec, physical_id=live.spec.name, request_id="req-2")
    serving_resource.on_event(update, live.clients, wiring, now=at(bedrock_double, timedelta(hours=2)))
    assert bedrock_double.tags[live.arn][TAG_EXPIRES_AT] == "2026-11-25T15:00:00Z"


def test_extend_refuses_beyond_the_policy_and_too_close_to_now(live, wiring, bedrock_double):
    now = at(bedrock_double, timedelta(hours=1))
    with pytest.raises(operations.OperationError, match="max_throughput_hours"):
        operations.extend(live.clients, wiring, "micro-eval", hours=9, max_hours=8, now=now)
    with pytest.raises(operations.OperationError, match="serving expire"):
        operations.extend(live.clients, wiring, "micro-eval", hours=1, max_hours=8, now=now)


def test_expire_hands_the_resource_to_the_teardown_function_which_deletes_records_and_notifies(
    live, wiring, bedrock_double
):
    # Given live serving, expired by the operator
    now = at(bedrock_double, timedelta(hours=1))
    result = operations.expire(live.clients, wiring, "micro-eval", now=now)
    # Then the expiry is now, the old schedule is gone, and the teardown function got the schedule's own event
    assert result.action == "expiring" and bedrock_double.tags[live.arn][TAG_EXPIRES_AT] == "2026-11-25T10:00:00Z"
    assert schedules(live.clients) == []
    ((function, event),) = live.clients.lambda_.events
    assert function == wiring.teardown_function_arn
    assert event == {"tailor": "teardown", "environment": "dev", "arn": live.arn, "expiresAt": "2026-11-25T10:00:00Z"}
    # When that function runs it (as functions/teardown.py does)
    outcome = teardown(live.clients, wiring, event["arn"], now=now, reason="expired (operator)")
    # Then it is deleted and recorded; expiring again is a no-op
    assert outcome.action == "deleted" and live.arn not in bedrock_double.throughputs
    assert operations.expire(live.clients, wiring, "micro-eval", now=now).action == "gone"


def test_commitments_and_unknown_keys_are_refused_with_the_reason(clients, wiring, bedrock_double):
    ops = SimpleNamespace(**vars(clients), lambda_=_Lambda())
    with pytest.raises(operations.OperationError, match="serves nothing called nope"):
        operations.expire(ops, wiring, "nope", now=at(bedrock_double))
    records.put(clients.ssm, "/tailor/dev/serving/bought", {"status": "active", "commitment": "OneMonth"})
    with pytest.raises(operations.OperationError, match="cannot be deleted before its term"):
        operations.extend(ops, wiring, "bought", hours=2, max_hours=8, now=at(bedrock_double))


def test_wiring_comes_from_the_environments_exports():
    exports = [
        {"Name": "Tailor-dev-TopicArn", "Value": "topic"},
        {"Name": "Tailor-dev-TeardownFunctionArn", "Value": "fn"},
        {"Name": "Tailor-dev-SchedulerRoleArn", "Value": "role"},
        {"Name": "Tailor-dev-DeadLetterQueueArn", "Value": "dlq"},
        {"Name": "Tailor-prod-TopicArn", "Value": "other"},
    ]
    cfn_client = SimpleNamespace(get_paginator=lambda _: SimpleNamespace(paginate=lambda: [{"Exports": exports}]))
    wiring = operations.wiring_from_exports(cfn_client, "dev")
    assert (wiring.topic_arn, wiring.teardown_function_arn, wiring.schedule_group) == ("topic", "fn", "tailor-dev")
    with pytest.raises(operations.OperationError, match="not deployed"):
        operations.wiring_from_exports(cfn_client, "staging")


def test_a_shortened_life_is_announced(live, wiring, bedrock_double):
    spec = replace(live.spec)
    assert spec.hours == 4
    result = operations.extend(live.clients, wiring, "micro-eval", hours=2, max_hours=8, now=at(bedrock_double))
    assert result.action == "shortened" and result.expires_at == "2026-11-25T11:00:00Z"


def test_preview_after_an_extension_sees_the_unchanged_config_as_unchanged(live, wiring, bedrock_double):
    from tailor.jobs.preflight import check_datasets
    from tailor.ops import preview
    from tailor.plan.build import build_plan
    from tests.handlers.helpers import environment

    env = environment("dev")
    micro = env.throughputs["micro-eval"]
    entry = replace(micro, model=replace(micro.model, value=live.spec.model_value), name=live.spec.name)
    env = replace(env, throughputs={**env.throughputs, "micro-eval": entry})

    def action() -> tuple[str, str]:
        changes = preview.preview(live.clients, env, build_plan(env, check_datasets(env)), now=at(bedrock_double))
        (change,) = [c for c in changes if c["path"] == "throughputs.micro-eval"]
        return change["action"], change["detail"]

    assert action()[0] == "UNCHANGED"
    # When the operator gives it 6 hours: CloudFormation still holds the config's 4, so a deploy changes nothing
    operations.extend(live.clients, wiring, "micro-eval", hours=6, max_hours=8, now=at(bedrock_double))
    kind, detail = action()
    assert kind == "UNCHANGED" and detail.endswith("until 2026-11-25T15:00:00Z (set by tailor serving extend: kept)")
    # When the config's hours change and are deployed, they are what the record holds again
    longer = replace(live.spec, hours=7)
    update = cfn("Update", longer, old=live.spec, physical_id=live.spec.name, request_id="req-3")
    serving_resource.on_event(update, live.clients, wiring, now=at(bedrock_double))
    record = records.get(live.clients.ssm, live.spec.record_name)
    assert record["hours"] == 7 and "deployedHours" not in record
