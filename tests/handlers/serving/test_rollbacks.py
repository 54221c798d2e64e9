"""CloudFormation rollbacks of Custom::TailorServing: each sequence is the requests CloudFormation really sends.

A rollback is an Update back to the old properties (ResourceProperties = old, OldResourceProperties = the
failed new ones); it must never fail, or the stack sits in UPDATE_ROLLBACK_FAILED.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from tailor import records
from tailor.observability import RecordingSink
from tailor.serving import reconciler, teardown
from tailor.serving import resource as serving_resource
from tailor.serving.lifecycle import ServingError
from tailor.serving.model import TAG_EXPIRES_AT, TAG_FAILED_START
from tests.handlers.serving.test_lifecycle import POLICY, at, cfn, throughput_spec


@pytest.fixture
def model(bedrock_double):
    at(bedrock_double)
    return bedrock_double.add_custom_model("support-bot-model")


def on_event(clients, wiring, event, when):
    return serving_resource.on_event(event, clients, wiring, now=when)


def is_complete(clients, wiring, event, when):
    return serving_resource.is_complete(event, clients, wiring, now=when)


def test_a_pt_that_fails_after_its_create_returned_does_not_wedge_later_updates_or_their_rollback(
    clients, wiring, bedrock_double, model
):
    # Given a PT whose deploy ended while it was Creating (the 20-minute wait), and which then reached Failed
    spec = throughput_spec(model)
    arn = on_event(clients, wiring, cfn("Create", spec), at(bedrock_double))["Data"]["Arn"]
    bedrock_double.set_throughput_status(arn, "Failed", "insufficient capacity")
    # When a later deploy changes something else of it (its tags), and is then rolled back
    retagged = replace(spec, tags={"team": "ml", "cost-centre": "42"})
    update = cfn("Update", retagged, old=spec, physical_id=spec.name, request_id="req-2")
    on_event(clients, wiring, update, at(bedrock_double, timedelta(hours=1)))
    assert is_complete(clients, wiring, update, at(bedrock_double, timedelta(hours=1)))["IsComplete"]
    rollback = cfn("Update", spec, old=retagged, physical_id=spec.name, request_id="req-3")
    on_event(clients, wiring, rollback, at(bedrock_double, timedelta(hours=1, minutes=2)))
    # Then both succeed, the failed PT is gone, and its record says why
    assert is_complete(clients, wiring, rollback, at(bedrock_double, timedelta(hours=1, minutes=2)))["IsComplete"]
    assert arn not in bedrock_double.throughputs
    record = records.get(clients.ssm, spec.record_name)
    assert record["status"] == "deleted" and "insufficient capacity" in record["deletedReason"]
    assert any("insufficient capacity" in m["Message"] for m in _published(clients, wiring))


def test_a_pt_that_fails_while_its_own_create_waits_still_fails_that_deploy(clients, wiring, bedrock_double, model):
    # Given a Create whose PT fails during the wait for InService
    spec = throughput_spec(model)
    create = cfn("Create", spec)
    arn = on_event(clients, wiring, create, at(bedrock_double))["Data"]["Arn"]
    bedrock_double.set_throughput_status(arn, "Failed", "no capacity")
    # Then the deploy fails with Bedrock's reason (CloudFormation rolls it back)
    with pytest.raises(ServingError, match="no capacity"):
        is_complete(clients, wiring, create, at(bedrock_double, timedelta(minutes=1)))


def test_a_model_swap_refused_while_creating_rolls_back_without_asking_again(clients, wiring, bedrock_double, model):
    # Given a PT still Creating, and a deploy that points it at another model of the same base
    spec = throughput_spec(model)
    arn = on_event(clients, wiring, cfn("Create", spec), at(bedrock_double))["Data"]["Arn"]
    other = bedrock_double.add_custom_model("support-bot-model-2")
    swapped = replace(spec, model_value=other)
    bedrock_double.fail_next("UpdateProvisionedModelThroughput", "ValidationException", "still Creating")
    with pytest.raises(ServingError):
        on_event(clients, wiring, cfn("Update", swapped, old=spec, physical_id=spec.name), at(bedrock_double))
    updates_before = len(bedrock_double.calls_to("UpdateProvisionedModelThroughput"))
    # When CloudFormation rolls back (old properties again; the swap never happened)
    rollback = cfn("Update", spec, old=swapped, physical_id=spec.name, request_id="req-3")
    on_event(clients, wiring, rollback, at(bedrock_double, timedelta(minutes=1)))
    # Then nothing was asked of Bedrock and the PT still serves the first model
    assert len(bedrock_double.calls_to("UpdateProvisionedModelThroughput")) == updates_before
    assert bedrock_double.throughputs[arn].model_arn == model


def test_rolling_back_a_revival_restores_gone_and_deletes_what_the_revival_bought(
    clients, wiring, bedrock_double, model
):
    # Given serving that expired and was torn down
    spec = throughput_spec(model)
    first = on_event(clients, wiring, cfn("Create", spec), at(bedrock_double))["Data"]["Arn"]
    bedrock_double.settle()
    teardown.teardown(clients, wiring, first, now=at(bedrock_double, timedelta(hours=4)), reason="expired")
    gone = records.get(clients.ssm, spec.record_name)
    assert gone["status"] == "deleted"
    # When a deploy with new hours brings it back, and that deploy then fails and rolls back
    revived = replace(spec, hours=6)
    update = cfn("Update", revived, old=spec, physical_id=spec.name, request_id="req-2")
    new_arn = on_event(clients, wiring, update, at(bedrock_double, timedelta(hours=5)))["Data"]["Arn"]
    assert new_arn in bedrock_double.throughputs
    rollback = cfn("Update", spec, old=revived, physical_id=spec.name, request_id="req-3")
    on_event(clients, wiring, rollback, at(bedrock_double, timedelta(hours=5, minutes=3)))
    # Then the record is back to what it was before the deploy, and the revived PT ends: Bedrock refuses deletes
    # while it is Creating, so it is expired for good and the next sweep after it settles deletes it
    assert bedrock_double.tags[new_arn][TAG_FAILED_START]
    bedrock_double.settle()
    reconciler.sweep(
        clients, wiring, POLICY, metrics=RecordingSink(), now=at(bedrock_double, timedelta(hours=5, minutes=5))
    )
    assert new_arn not in bedrock_double.throughputs
    after = records.get(clients.ssm, spec.record_name)
    assert after["status"] == "deleted" and after["deletedAt"] == gone["deletedAt"]
    assert after["deletedReason"] == gone["deletedReason"]
    # and a deploy of that unchanged config leaves it gone
    again = cfn("Update", spec, old=spec, physical_id=spec.name, request_id="req-4")
    on_event(clients, wiring, again, at(bedrock_double, timedelta(hours=6)))
    assert len(bedrock_double.throughputs) == 0


def test_a_start_that_failed_after_buying_stays_expired_through_the_rollback(clients, wiring, bedrock_double, model):
    # Given a deploy that bought a PT and then failed before it was recorded (SSM refused the write)
    spec = throughput_spec(model)
    real_put = clients.ssm.put_parameter
    clients.ssm.put_parameter = _failing_once(real_put)
    with pytest.raises(Exception, match="injected"):
        on_event(clients, wiring, cfn("Create", spec), at(bedrock_double))
    clients.ssm.put_parameter = real_put
    (arn,) = bedrock_double.throughputs
    assert bedrock_double.tags[arn][TAG_FAILED_START]
    expired_at = bedrock_double.tags[arn][TAG_EXPIRES_AT]
    # When CloudFormation retries or rolls back with the same hours, and a later update sets new hours
    on_event(clients, wiring, cfn("Create", spec, request_id="req-1"), at(bedrock_double, timedelta(minutes=1)))
    on_event(
        clients,
        wiring,
        cfn("Update", replace(spec, hours=6), old=spec, physical_id=spec.name, request_id="req-2"),
        at(bedrock_double, timedelta(minutes=2)),
    )
    # Then nothing extended its life: it is deleted, or still carries the expiry of its failed start
    assert arn not in bedrock_double.throughputs or bedrock_double.tags[arn][TAG_EXPIRES_AT] == expired_at


def test_a_create_whose_response_was_lost_is_found_by_name_and_expired(clients, wiring, bedrock_double, model):
    # Given Bedrock created the PT but the caller saw an error (after its retries)
    spec = throughput_spec(model)
    bedrock_double.fail_next(
        "CreateProvisionedModelThroughput", "InternalServerException", "lost", after_apply=True, times=5
    )
    with pytest.raises(Exception, match="lost|InternalServer"):
        on_event(clients, wiring, cfn("Create", spec), at(bedrock_double))
    # Then the PT that exists is expired now, like any other failed start, so the next sweep deletes it
    (arn,) = bedrock_double.throughputs
    assert bedrock_double.tags[arn][TAG_EXPIRES_AT] == "2026-11-25T09:00:00Z"
    assert TAG_FAILED_START in bedrock_double.tags[arn]


def _failing_once(put):
    state = {"failed": False}

    def wrapped(**kwargs):
        if not state["failed"]:
            state["failed"] = True
            raise RuntimeError("injected: SSM refused the write")
        return put(**kwargs)

    return wrapped


def _published(clients, wiring):
    return getattr(clients.sns, "messages", None) or _sns_messages(clients, wiring)


def _sns_messages(clients, wiring):
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns.models import sns_backends

    backend = sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    return [{"Subject": s, "Message": m} for _, m, s, *_ in backend.topics[wiring.topic_arn].sent_notifications]
