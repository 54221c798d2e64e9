"""The reconciler's backstops: a failing listing, a tampered expiry, orphaned serving of a vanished environment."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tailor import naming
from tailor.observability import RecordingSink
from tailor.serving import heartbeat, reconciler
from tailor.serving.model import TAG_EXPIRES_AT, format_time, managed_tags
from tests.handlers.serving.test_lifecycle import POLICY, T0, at


@pytest.fixture
def model(bedrock_double):
    at(bedrock_double)
    return bedrock_double.add_custom_model("support-bot-model")


def buy(bedrock_double, model, *, environment="dev", key="micro-eval", expires="2026-11-25T11:00:00Z", name=None):
    arn = bedrock_double.client.create_provisioned_model_throughput(
        modelUnits=1,
        provisionedModelName=name or f"{environment}-{key}",
        modelId=model,
        clientRequestToken=name or f"{environment}-{key}",
        tags=managed_tags(environment, key, expires, {}),
    )["provisionedModelArn"]
    bedrock_double.settle()
    return arn


def messages(clients, wiring):
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns.models import sns_backends

    topic = sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].topics[wiring.topic_arn]
    return [(subject, message) for _, message, subject, *_ in topic.sent_notifications]


def test_when_deployments_cannot_be_listed_expired_throughput_is_still_deleted_and_metrics_published(
    clients, wiring, bedrock_double, model
):
    # Given an expired managed PT, and a Region (or a deny) where ListCustomModelDeployments fails
    arn = buy(bedrock_double, model)
    bedrock_double.fail_next("ListCustomModelDeployments", "AccessDeniedException", "not in this Region", times=5)
    # When the reconciler runs after the expiry
    sink = RecordingSink()
    with pytest.raises(reconciler.SweepError, match="ListCustomModelDeployments"):
        reconciler.sweep(clients, wiring, POLICY, metrics=sink, now=at(bedrock_double, timedelta(hours=2, minutes=1)))
    # Then the PT pass still ran, and the metrics went out (the failure raised only at the end)
    assert arn not in bedrock_double.throughputs
    published = sink.values()
    assert (published["ManagedPastExpiry"], published["ListingFailures"], published["ServingDeleted"]) == (0, 1, 1)


def test_when_throughputs_cannot_be_listed_deployments_are_still_swept(clients, wiring, bedrock_double, model):
    # Given an expired managed deployment, and ListProvisionedModelThroughputs refused
    arn = bedrock_double.client.create_custom_model_deployment(
        modelDeploymentName="dev-chat",
        modelArn=model,
        clientRequestToken="dev-chat",
        tags=managed_tags("dev", "chat", "2026-11-25T10:00:00Z", {}),
    )["customModelDeploymentArn"]
    bedrock_double.settle()
    bedrock_double.fail_next("ListProvisionedModelThroughputs", "ThrottlingException", "slow down", times=10)
    with pytest.raises(reconciler.SweepError, match="ListProvisionedModelThroughputs"):
        reconciler.sweep(clients, wiring, POLICY, metrics=RecordingSink(), now=at(bedrock_double, timedelta(hours=2)))
    assert arn not in bedrock_double.deployments


def test_an_expiry_pushed_past_the_policy_maximum_is_held_to_creation_plus_max_hours_and_reported(
    clients, wiring, bedrock_double, model
):
    # Given a managed PT whose expires-at someone moved two days out (the policy allows 8 hours)
    arn = buy(bedrock_double, model, expires=format_time(T0 + timedelta(days=2)))
    # When the reconciler runs before and after creation + 8 h
    sink = RecordingSink()
    early = reconciler.sweep(clients, wiring, POLICY, metrics=sink, now=at(bedrock_double, timedelta(hours=7)))
    # Then it is reported as soon as it is seen, and deleted once the policy's maximum is reached
    assert early.tampered == [arn] and arn in bedrock_double.throughputs
    late = reconciler.sweep(
        clients, wiring, POLICY, metrics=RecordingSink(), now=at(bedrock_double, timedelta(hours=8, minutes=1))
    )
    assert late.deleted == [arn] and arn not in bedrock_double.throughputs
    reports = [m for s, m in messages(clients, wiring) if s.endswith("serving report")]
    assert len(reports) == 1 and "max_throughput_hours" in reports[0] and arn in reports[0]
    assert sink.values()["ExpiryTampered"] == 1


def test_the_schedule_path_is_held_to_the_policy_maximum_too(clients, wiring, bedrock_double, model):
    # Given the same tampered PT, torn down by the reconciler's path at creation + 8 h
    from tailor.serving.teardown import teardown

    arn = buy(bedrock_double, model, expires=format_time(T0 + timedelta(days=2)))
    outcome = teardown(clients, wiring, arn, now=at(bedrock_double, timedelta(hours=8)), reason="x", max_hours=8)
    assert outcome.action == "deleted"


def test_tailor_serving_of_an_environment_whose_reconciler_is_gone_is_reported_by_the_others(
    clients, wiring, bedrock_double, model
):
    # Given a PT of environment `staging` (its stacks deleted: no heartbeat), and one of `prod`, alive
    orphan = buy(bedrock_double, model, environment="staging", key="eval")
    alive = buy(bedrock_double, model, environment="prod", key="eval")
    now = at(bedrock_double, timedelta(minutes=30))
    heartbeat.beat(clients.ssm, "prod", 5, now - timedelta(minutes=4))
    # When dev's reconciler runs, twice
    sink = RecordingSink()
    first = reconciler.sweep(clients, wiring, POLICY, metrics=sink, now=now)
    second = reconciler.sweep(clients, wiring, POLICY, metrics=RecordingSink(), now=now + timedelta(minutes=5))
    # Then the orphan is reported (metric, one notification), the other is not, and neither is touched
    assert first.orphaned == second.orphaned == [(orphan, "staging")]
    assert orphan in bedrock_double.throughputs and alive in bedrock_double.throughputs
    reports = [m for s, m in messages(clients, wiring) if s.endswith("serving report")]
    assert len(reports) == 1 and "orphaned" in reports[0] and "staging" in reports[0]
    assert sink.values()["OrphanedServing"] == 1


def test_a_heartbeat_older_than_three_periods_counts_as_gone(clients, wiring, bedrock_double, model):
    buy(bedrock_double, model, environment="prod", key="eval")
    now = at(bedrock_double, timedelta(hours=1))
    heartbeat.beat(clients.ssm, "prod", 5, now - timedelta(minutes=16))
    assert reconciler.sweep(clients, wiring, POLICY, metrics=RecordingSink(), now=now).orphaned != []


def test_each_sweep_leaves_a_heartbeat_with_its_period(clients, wiring, bedrock_double):
    from tailor import records

    policy = reconciler.SweepPolicy(30, "report", False, 8, every_minutes=1)
    reconciler.sweep(clients, wiring, policy, metrics=RecordingSink(), now=at(bedrock_double))
    beat = records.get(clients.ssm, naming.heartbeat_record_name("dev"))
    assert beat == {"at": "2026-11-25T09:00:00Z", "everyMinutes": 1}
    assert heartbeat.Owners(clients.ssm, at(bedrock_double, timedelta(minutes=14))).alive("dev")
    assert not heartbeat.Owners(clients.ssm, at(bedrock_double, timedelta(minutes=16))).alive("dev")


def test_an_old_sweep_policy_without_a_period_still_parses():
    old = '{"dryRun": false, "maxHours": 8, "unmanaged": "report", "warnBeforeMinutes": 30}'
    assert reconciler.SweepPolicy.from_json(old).every_minutes == 5


def test_tag_expiry_within_the_maximum_is_left_alone(clients, wiring, bedrock_double, model):
    arn = buy(bedrock_double, model, expires=format_time(T0 + timedelta(hours=3)))
    report = reconciler.sweep(
        clients, wiring, POLICY, metrics=RecordingSink(), now=at(bedrock_double, timedelta(hours=1))
    )
    assert report.tampered == [] and bedrock_double.tags[arn][TAG_EXPIRES_AT] == format_time(T0 + timedelta(hours=3))
