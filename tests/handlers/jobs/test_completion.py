"""Completion: events and the reconciler keep the SSM record right, once, whatever arrives twice or never."""

from __future__ import annotations

import json

import boto3
import pytest

from tailor import records
from tailor.jobs import completion
from tailor.jobs.resource import on_event
from tests.conftest import REGION
from tests.handlers.helpers import event, spec, stage_assets


@pytest.fixture
def topic(clients):
    arn = clients.sns.create_topic(Name="tailor-dev")["TopicArn"]
    queue = boto3.client("sqs", region_name=REGION)
    url = queue.create_queue(QueueName="inbox")["QueueUrl"]
    queue_arn = queue.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    clients.sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})

    def inbox():
        return [m["Body"] for m in queue.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])]

    return arn, inbox


@pytest.fixture
def started(clients):
    spec_ = spec("support-bot")
    stage_assets(clients.s3, spec_)
    return spec_, on_event(event("Create", spec_), clients)["PhysicalResourceId"]


def state_change(job_arn: str, job_name: str, status: str) -> dict:
    return {
        "version": "0",
        "id": "e-1",
        "detail-type": "Model Customization Job State Change",
        "source": "aws.bedrock",
        "resources": [job_arn],
        "detail": {"version": "0.0", "jobName": job_name, "jobArn": job_arn, "jobStatus": status},
    }


def test_a_completed_job_is_recorded_with_its_model_and_losses_and_notified(clients, bedrock_double, topic, started):
    # Given the job completed
    spec_, arn = started
    topic_arn, inbox = topic
    bedrock_double.finish_job(arn, status="Completed", training_loss=0.12, validation_loss=0.34)
    # When its event arrives
    outcome = completion.handle_event(
        state_change(arn, spec_.job_name, "Completed"), clients, environment="dev", topic_arn=topic_arn
    )
    # Then
    assert outcome.action == "recorded" and outcome.status == "Completed"
    record = records.get(clients.ssm, spec_.record_name)
    assert record["status"] == "Completed" and record["trainingLoss"] == 0.12 and record["validationLoss"] == 0.34
    assert record["customModelArn"] == bedrock_double.jobs[arn].output_model_arn
    (message,) = inbox()
    assert "support-bot in environment dev is Completed" in message and record["customModelArn"] in message


def test_a_duplicate_event_changes_nothing_and_notifies_once(clients, bedrock_double, topic, started):
    spec_, arn = started
    topic_arn, inbox = topic
    bedrock_double.finish_job(arn, status="Failed", failure_message="Malformed record at line 3")
    first = completion.handle_event(
        state_change(arn, spec_.job_name, "Failed"), clients, environment="dev", topic_arn=topic_arn
    )
    before = clients.ssm.get_parameter(Name=spec_.record_name)["Parameter"]["Version"]
    second = completion.handle_event(
        state_change(arn, spec_.job_name, "Failed"), clients, environment="dev", topic_arn=topic_arn
    )
    assert (first.action, second.action) == ("recorded", "unchanged")
    assert clients.ssm.get_parameter(Name=spec_.record_name)["Parameter"]["Version"] == before
    messages = inbox()
    assert len(messages) == 1 and "Malformed record at line 3" in messages[0]


def test_the_reconciler_records_a_completion_whose_event_was_lost(clients, bedrock_double, topic, started):
    # Given a job that finished with no event delivered
    spec_, arn = started
    topic_arn, inbox = topic
    bedrock_double.finish_job(arn, status="Completed")
    # When the scheduled pass runs
    outcomes = completion.reconcile(clients, environment="dev", topic_arn=topic_arn)
    # Then it is recorded and notified, and the next pass has nothing to do
    assert [(o.job_key, o.action) for o in outcomes] == [("support-bot", "recorded")]
    assert records.get(clients.ssm, spec_.record_name)["status"] == "Completed"
    assert completion.reconcile(clients, environment="dev", topic_arn=topic_arn) == []
    assert len(inbox()) == 1


def test_the_reconciler_leaves_running_jobs_alone(clients, bedrock_double, topic, started):
    topic_arn, inbox = topic
    assert [o.action for o in completion.reconcile(clients, environment="dev", topic_arn=topic_arn)] == ["unchanged"]
    assert inbox() == []


def test_a_late_event_for_a_replaced_job_is_ignored(clients, bedrock_double, topic, started):
    # Given the job was replaced: the record now follows another job
    spec_, arn = started
    topic_arn, _ = topic
    record = records.get(clients.ssm, spec_.record_name)
    records.put(clients.ssm, spec_.record_name, {**record, "jobArn": arn.replace("/", "/x", 1)})
    bedrock_double.finish_job(arn, status="Stopped")
    # When the old job's Stopped event arrives hours late / Then
    assert (
        completion.handle_event(
            state_change(arn, spec_.job_name, "Stopped"), clients, environment="dev", topic_arn=topic_arn
        ).action
        == "not-managed"
    )


def test_an_event_for_a_job_of_another_project_is_ignored(clients, topic):
    topic_arn, inbox = topic
    other = "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/amazon.nova-micro-v1:0:128k/zzzzzzzzzzzz"
    assert (
        completion.handle_event(
            state_change(other, "someone-else", "Completed"), clients, environment="dev", topic_arn=topic_arn
        ).action
        == "not-managed"
    )
    assert inbox() == []


def test_the_lambda_entry_point_dispatches_events_and_schedules(clients, bedrock_double, wiring, started, monkeypatch):
    from functions import job_completion
    from tailor import aws
    from tests.conftest import wiring_environment

    spec_, arn = started
    wiring_environment(monkeypatch, wiring)
    monkeypatch.setattr(aws, "Clients", lambda: clients)
    bedrock_double.finish_job(arn, status="Completed")
    scheduled = {"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}
    assert job_completion.handler(scheduled, None)["outcomes"][0]["action"] == "recorded"
    assert (
        job_completion.handler(state_change(arn, spec_.job_name, "Completed"), None)["outcomes"][0]["action"]
        == "unchanged"
    )
    json.dumps(job_completion.handler(scheduled, None))


def test_the_entry_point_counts_jobs_by_state_in_emf_under_its_environment(
    clients, bedrock_double, wiring, started, monkeypatch, capsys
):
    # Given the completion function as Lambda runs it (Powertools' metrics flushed at the end of each invocation)
    from functions import job_completion
    from functions import observability as adapter
    from tailor import aws, observability
    from tests.conftest import wiring_environment
    from tests.handlers.serving.test_metrics import CurrentStdout, emf, lines, value

    spec_, arn = started
    wiring_environment(monkeypatch, wiring)
    monkeypatch.setattr(aws, "Clients", lambda: clients)
    monkeypatch.setattr(adapter.logger.registered_handler, "stream", CurrentStdout())
    scheduled = {"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}
    capsys.readouterr()
    # When a reconcile pass finds the job still training, then its Completed event arrives
    job_completion.handler(scheduled, None)
    running = emf(lines(capsys))
    bedrock_double.finish_job(arn, status="Completed")
    job_completion.handler(state_change(arn, spec_.job_name, "Completed"), None)
    completed = emf(lines(capsys))
    # Then the pass wrote the in-progress gauge and the event one completion, each under {Environment} only
    assert [value(d, observability.JOBS_IN_PROGRESS) for d in running] == [1]
    assert [value(d, observability.JOB_STATES["Completed"]) for d in completed] == [1]
    for document in running + completed:
        (block,) = document["_aws"]["CloudWatchMetrics"]
        assert block["Namespace"] == observability.NAMESPACE and block["Dimensions"] == [["Environment"]]
        assert document["Environment"] == "dev"
