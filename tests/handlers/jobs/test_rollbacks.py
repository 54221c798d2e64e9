"""CloudFormation rollbacks of Custom::TailorCustomizationJob, played as the requests CloudFormation really sends.

A rollback is an Update back to the old properties (ResourceProperties = old, OldResourceProperties = the new
ones); after a replacement it is followed (or, in the other order, preceded) by a cleanup Delete of the new
physical id. Whatever the order, nothing new starts, the rollback succeeds, and the job record describes the
job CloudFormation keeps.
"""

from __future__ import annotations

import pytest

from tailor import records
from tailor.jobs import completion
from tailor.jobs.resource import on_event
from tailor.jobs.spec import JobResourceError
from tests.handlers.helpers import event, spec, stage_assets

TOPIC = "arn:aws:sns:us-east-1:123456789012:tailor-dev"


@pytest.fixture
def topic(clients):
    return clients.sns.create_topic(Name="tailor-dev")["TopicArn"]


def start(clients, spec_):
    stage_assets(clients.s3, spec_)
    return on_event(event("Create", spec_), clients)["PhysicalResourceId"]


def test_a_retry_of_a_failed_job_whose_update_fails_rolls_back_to_the_failed_job_and_starts_nothing(
    clients, bedrock_double
):
    # Given a job that failed, and a retry (a new revision) that Bedrock refuses (the role cannot be assumed)
    old, retry = spec("support-bot"), spec("support-bot", revision=1)
    failed = start(clients, old)
    bedrock_double.finish_job(failed, "Failed", failure_message="bad data")
    bedrock_double.fail_next("CreateModelCustomizationJob", "ValidationException", "Could not assume the role")
    with pytest.raises(JobResourceError, match="Could not assume the role"):
        on_event(event("Update", retry, physical_id=failed, old=old), clients)
    creates = len(bedrock_double.calls_to("CreateModelCustomizationJob"))
    # When CloudFormation rolls back: the old properties, the physical id it still has
    result = on_event(event("Update", old, physical_id=failed, old=retry), clients)
    # Then the resource keeps the failed job as it is, and nothing was asked of Bedrock
    assert result["PhysicalResourceId"] == failed
    assert len(bedrock_double.calls_to("CreateModelCustomizationJob")) == creates
    assert records.get(clients.ssm, old.record_name)["jobArn"] == failed


@pytest.mark.parametrize("order", ["update-then-delete", "delete-then-update"])
def test_rolling_back_a_replacement_keeps_the_old_jobs_record_and_its_serving_starts_when_it_completes(
    clients, bedrock_double, wiring, order
):
    # Given a running job, replaced by a settings change (the new job started), and the stack update then failed
    old, new = spec("support-bot"), spec("support-bot", revision=1)
    first = start(clients, old)
    second = on_event(event("Update", new, physical_id=first, old=old), clients)["PhysicalResourceId"]
    assert second != first and records.get(clients.ssm, new.record_name)["jobArn"] == second
    # When CloudFormation rolls back and cleans up, in either order
    rollback = event("Update", old, physical_id=second, old=new)
    cleanup = event("Delete", new, physical_id=second)
    if order == "update-then-delete":
        kept = on_event(rollback, clients)["PhysicalResourceId"]
        on_event(cleanup, clients)
    else:
        on_event(cleanup, clients)
        kept = on_event(rollback, clients)["PhysicalResourceId"]
    # Then the old job is kept, the new one stopped, and the record describes the old one
    assert kept == first
    assert bedrock_double.jobs[second].status in ("Stopping", "Stopped")
    assert bedrock_double.jobs[first].status == "InProgress"
    record = records.get(clients.ssm, old.record_name)
    assert record["jobArn"] == first and record["status"] == "InProgress"
    # and when the kept job completes, its record moves forward (which is what starts its serving)
    bedrock_double.finish_job(first, "Completed")
    completion.reconcile(clients, environment="dev", topic_arn=wiring.topic_arn)
    assert records.get(clients.ssm, old.record_name)["status"] == "Completed"


def test_after_a_replacement_succeeded_a_later_revert_to_the_stopped_job_is_refused_with_the_fix(
    clients, bedrock_double
):
    # Given a replacement that succeeded: CloudFormation's cleanup deleted (stopped) the old job
    old, new = spec("support-bot"), spec("support-bot", revision=1)
    first = start(clients, old)
    second = on_event(event("Update", new, physical_id=first, old=old), clients)["PhysicalResourceId"]
    on_event(event("Delete", old, physical_id=first), clients)
    assert "replaces" not in records.get(clients.ssm, new.record_name)
    bedrock_double.settle()
    # When a later deploy reverts the config to the old settings
    with pytest.raises(JobResourceError, match="revision"):
        on_event(event("Update", old, physical_id=second, old=new), clients)
    # Then nothing was adopted: the running job is still the resource's and its record is intact
    assert records.get(clients.ssm, new.record_name)["jobArn"] == second


def test_completion_never_overwrites_a_replacement_written_between_its_read_and_its_write(
    clients, bedrock_double, wiring
):
    # Given a recorded job that has completed, and a replacement's start that writes the record concurrently
    old = spec("support-bot")
    first = start(clients, old)
    bedrock_double.finish_job(first, "Completed")
    replacement = {**records.get(clients.ssm, old.record_name), "jobArn": "arn:replacement", "status": "InProgress"}
    real_get = clients.ssm.get_parameter
    raced = {"done": False}

    def get_then_race(**kwargs):
        answer = real_get(**kwargs)
        if not raced["done"] and kwargs["Name"] == old.record_name:
            raced["done"] = True
            records.put(clients.ssm, old.record_name, replacement)  # lands between completion's read and write
        return answer

    clients.ssm.get_parameter = get_then_race
    # When completion records the old job's completion
    completion.reconcile(clients, environment="dev", topic_arn=wiring.topic_arn)
    clients.ssm.get_parameter = real_get
    # Then the record still describes the replacement
    assert records.get(clients.ssm, old.record_name) == replacement


def test_a_versioned_update_applies_its_change_on_top_of_a_concurrent_write(clients):
    # Given a record and a writer that changes one field, racing another that changes a different field
    name = "/tailor/dev/jobs/x"
    records.put(clients.ssm, name, {"jobArn": "a", "status": "InProgress"})
    real_get = clients.ssm.get_parameter
    raced = {"done": False}

    def get_then_race(**kwargs):
        answer = real_get(**kwargs)
        if not raced["done"]:
            raced["done"] = True
            records.put(clients.ssm, name, {"jobArn": "a", "status": "InProgress", "servingArn": "pt"})
        return answer

    clients.ssm.get_parameter = get_then_race
    # When the first writer moves the status forward
    written = records.update(clients.ssm, name, lambda r: {**r, "status": "Completed"} if r else None)
    clients.ssm.get_parameter = real_get
    # Then both changes are in the record
    assert written == records.get(clients.ssm, name) == {"jobArn": "a", "status": "Completed", "servingArn": "pt"}
