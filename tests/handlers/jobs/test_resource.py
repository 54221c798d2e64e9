"""The customization-job custom resource against moto (S3, SSM) and the service-model-checked Bedrock double."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from botocore.exceptions import ClientError

from tailor import records
from tailor.jobs.resource import on_event
from tailor.jobs.spec import JobResourceError
from tests.handlers.helpers import DATA_BUCKET, KEY_ARN, event, spec, stage_assets


def _create(clients, spec_):
    stage_assets(clients.s3, spec_)
    return on_event(event("Create", spec_), clients)


@pytest.mark.parametrize("job_key", ["support-bot", "support-distilled", "docs-refresh", "math-grader"])
def test_create_starts_the_job_with_every_field_and_a_deterministic_token(clients, bedrock_double, job_key):
    # Given the example dev job of each customization type
    spec_ = spec(job_key)
    # When CloudFormation creates the resource
    result = _create(clients, spec_)
    # Then one job runs, started with exactly the built request (the double checked it against the service model)
    (call,) = bedrock_double.calls_to("CreateModelCustomizationJob")
    assert not call.token_injected
    assert call.params == spec_.request
    job = bedrock_double.jobs[result["PhysicalResourceId"]]
    assert job.request["jobName"] == spec_.job_name
    assert result["Data"] == {
        "JobArn": result["PhysicalResourceId"],
        "JobName": spec_.job_name,
        "CustomModelName": spec_.job_name,
    }
    # and the job is recorded as in progress
    record = records.get(clients.ssm, spec_.record_name)
    assert record["status"] == "InProgress" and record["jobArn"] == result["PhysicalResourceId"]


def test_distillation_and_rft_reach_bedrock_with_their_customization_config(clients, bedrock_double):
    # Given / When
    distilled = _create(clients, spec("support-distilled"))["PhysicalResourceId"]
    rft = _create(clients, spec("math-grader"))["PhysicalResourceId"]
    # Then the fields moto would drop are there
    teacher = bedrock_double.jobs[distilled].request["customizationConfig"]["distillationConfig"]["teacherModelConfig"]
    assert teacher == {"teacherModelIdentifier": "amazon.nova-pro-v1:0", "maxResponseLengthForInference": 1000}
    rft_config = bedrock_double.jobs[rft].request["customizationConfig"]["rftConfig"]
    assert rft_config["graderConfig"]["lambdaGrader"]["lambdaArn"].endswith(":function:math-grader")
    assert rft_config["hyperParameters"] == {"epochCount": 2, "reasoningEffort": "medium"}


def test_local_datasets_are_copied_to_their_content_addressed_key_under_the_environments_key(clients):
    # Given a job with local training and validation data, and a recorder of the S3 requests the handler sends
    spec_ = spec("support-bot")
    sent = []
    clients.s3.meta.events.register_first("before-send.s3.CopyObject", lambda request, **_: sent.append(request))
    # When CloudFormation creates the resource
    _create(clients, spec_)
    # Then each file sits in the data bucket, and its copy request named the environment's key: `aws:kms`
    # alone would have made S3 use the aws/s3 managed key
    assert len(sent) == len(spec_.dataset_copies) == 2
    for request in sent:
        assert request.headers["x-amz-server-side-encryption"] == b"aws:kms"
        assert request.headers["x-amz-server-side-encryption-aws-kms-key-id"] == KEY_ARN.encode()
    for copy in spec_.dataset_copies:
        key = copy.destination.split(f"s3://{DATA_BUCKET}/", 1)[1]
        assert clients.s3.head_object(Bucket=DATA_BUCKET, Key=key)["SSEKMSKeyId"] == KEY_ARN


class _S3WithoutListBucket:
    """Real S3 answers HeadObject of a missing key with 403 to a caller without s3:ListBucket (moto says 404)."""

    def __init__(self, s3):
        self._s3 = s3

    def head_object(self, **kwargs):
        try:
            return self._s3.head_object(**kwargs)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "404":
                raise
            raise ClientError({"Error": {"Code": "403", "Message": "Forbidden"}}, "HeadObject") from None

    def __getattr__(self, name):
        return getattr(self._s3, name)


def test_the_first_deploy_copies_the_data_and_starts_the_job_when_s3_answers_403_for_a_missing_copy(
    clients, bedrock_double
):
    # Given S3 as it answers a role without ListBucket, and no copy of the data yet
    spec_ = spec("support-bot")
    s3 = _S3WithoutListBucket(clients.s3)
    # When CloudFormation creates the resource
    stage_assets(clients.s3, spec_)
    result = on_event(event("Create", spec_), SimpleNamespace(**{**vars(clients), "s3": s3}))
    # Then the data was copied and the job started
    assert result["PhysicalResourceId"] in bedrock_double.jobs
    for copy in spec_.dataset_copies:
        clients.s3.head_object(Bucket=DATA_BUCKET, Key=copy.destination.split(f"s3://{DATA_BUCKET}/", 1)[1])


def test_a_redelivered_create_adopts_the_running_job(clients, bedrock_double):
    # Given a Create that already started the job
    spec_ = spec("support-bot")
    first = _create(clients, spec_)
    # When CloudFormation (or Lambda's async retry) delivers the same Create again
    second = on_event(event("Create", spec_), clients)
    # Then no second job is started and the same ARN is returned
    assert second["PhysicalResourceId"] == first["PhysicalResourceId"]
    assert len(bedrock_double.calls_to("CreateModelCustomizationJob")) == 1
    assert len(bedrock_double.jobs) == 1


def test_a_delivery_that_died_after_starting_the_job_is_repaired_on_retry(clients, bedrock_double):
    # Given the job was started but the record was never written (the handler died in between)
    spec_ = spec("support-bot")
    first = _create(clients, spec_)
    records.delete(clients.ssm, spec_.record_name)
    # When the Create is retried
    second = on_event(event("Create", spec_), clients)
    # Then the job is adopted and its record restored
    assert second["PhysicalResourceId"] == first["PhysicalResourceId"]
    assert records.get(clients.ssm, spec_.record_name)["jobArn"] == first["PhysicalResourceId"]


def test_a_create_racing_another_delivery_gets_the_same_job_through_the_token(clients, bedrock_double):
    # Given our lookup saw no job, but a concurrent delivery of the same request started it meanwhile
    spec_ = spec("support-bot")
    first = _create(clients, spec_)["PhysicalResourceId"]
    bedrock_double.fail_next("GetModelCustomizationJob", "ResourceNotFoundException", "not yet", http_status=404)
    # When our delivery calls Create with the same deterministic token
    second = on_event(event("Create", spec_), clients)["PhysicalResourceId"]
    # Then Bedrock's idempotency returns the same job
    assert second == first and len(bedrock_double.jobs) == 1


def test_a_job_of_the_same_name_started_by_someone_else_is_not_claimed(clients, bedrock_double):
    # Given a job with our name but another request token
    spec_ = spec("support-bot")
    stage_assets(clients.s3, spec_)
    bedrock_double.client.create_model_customization_job(**{**spec_.request, "clientRequestToken": "someone-else"})
    # When / Then
    with pytest.raises(JobResourceError, match="not started by this resource"):
        on_event(event("Create", spec_), clients)


def test_a_stopped_job_of_the_same_name_is_refused_with_how_to_rerun(clients, bedrock_double):
    # Given a job of these exact settings ran before and was stopped
    spec_ = spec("support-bot")
    arn = _create(clients, spec_)["PhysicalResourceId"]
    bedrock_double.finish_job(arn, status="Stopped")
    records.delete(clients.ssm, spec_.record_name)
    # When the resource is created again (e.g. the stack was deleted and redeployed)
    with pytest.raises(JobResourceError) as raised:
        on_event(event("Create", spec_), clients)
    # Then the reason says what to do, on one line
    assert "status Stopped" in str(raised.value) and "revision" in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_bedrock_rejection_reaches_cloudformation_as_one_line(clients, bedrock_double):
    # Given Bedrock refuses the job for good (the role cannot be passed, say)
    spec_ = spec("support-bot")
    stage_assets(clients.s3, spec_)
    bedrock_double.fail_next(
        "CreateModelCustomizationJob", "AccessDeniedException", "Not allowed to\npass the role", http_status=403
    )
    # When / Then
    with pytest.raises(JobResourceError) as raised:
        on_event(event("Create", spec_), clients)
    message = str(raised.value)
    assert message.startswith("CreateModelCustomizationJob failed for tailor-dev-support-bot-")
    assert "AccessDeniedException: Not allowed to pass the role" in message and "\n" not in message
    # and nothing is left: no record (CloudFormation sends no Delete after a failed Create), no queue lock
    assert records.get(clients.ssm, spec_.record_name) is None
    assert records.get(clients.ssm, "/tailor/dev/queue/lock") is None


def test_a_quota_refusal_queues_the_job_instead_of_failing_the_deploy(clients, bedrock_double):
    # Given Bedrock's own quota refuses the start (another team's jobs fill the account)
    spec_ = spec("support-bot")
    stage_assets(clients.s3, spec_)
    bedrock_double.fail_next(
        "CreateModelCustomizationJob", "ServiceQuotaExceededException", "2 jobs in progress", http_status=400
    )
    # When CloudFormation creates the resource
    result = on_event(event("Create", spec_), clients)
    # Then the deploy goes on: the physical id is the job's name, its record says queued with what starts it
    assert result["PhysicalResourceId"] == spec_.job_name and result["Data"]["JobArn"] == ""
    record = records.get(clients.ssm, spec_.record_name)
    assert record["status"] == "queued" and record["jobArn"] is None and record["jobName"] == spec_.job_name
    assert "ServiceQuotaExceededException" in record["queueNote"]
    assert bedrock_double.jobs == {}


def test_an_invalid_s3_dataset_fails_the_deploy_before_any_bedrock_call(clients, bedrock_double):
    # Given a training file in S3 with a malformed second line
    clients.s3.create_bucket(Bucket="team-data")
    good = json.dumps(
        {
            "schemaVersion": "bedrock-conversation-2024",
            "messages": [
                {"role": "user", "content": [{"text": "hi"}]},
                {"role": "assistant", "content": [{"text": "hello"}]},
            ],
        }
    )
    clients.s3.put_object(Bucket="team-data", Key="train.jsonl", Body=(good + "\n{not json\n").encode())
    spec_ = spec("support-bot", s3_training="s3://team-data/train.jsonl")
    stage_assets(clients.s3, spec_)
    # When / Then
    with pytest.raises(JobResourceError) as raised:
        on_event(event("Create", spec_), clients)
    assert "no job was started" in str(raised.value) and "s3://team-data/train.jsonl:2:" in str(raised.value)
    assert bedrock_double.calls_to("CreateModelCustomizationJob") == []


def test_a_valid_s3_dataset_passes_and_the_job_starts(clients, bedrock_double):
    # Given
    clients.s3.create_bucket(Bucket="team-data")
    record = {
        "schemaVersion": "bedrock-conversation-2024",
        "messages": [
            {"role": "user", "content": [{"text": "hi"}]},
            {"role": "assistant", "content": [{"text": "hello"}]},
        ],
    }
    clients.s3.put_object(
        Bucket="team-data", Key="train.jsonl", Body=("\n".join(json.dumps(record) for _ in range(10)) + "\n").encode()
    )
    spec_ = spec("support-bot", s3_training="s3://team-data/train.jsonl")
    # When
    _create(clients, spec_)
    # Then
    assert bedrock_double.calls_to("CreateModelCustomizationJob")[0].params["trainingDataConfig"] == {
        "s3Uri": "s3://team-data/train.jsonl"
    }


def test_update_with_the_same_settings_changes_nothing(clients, bedrock_double):
    # Given
    spec_ = spec("support-bot")
    arn = _create(clients, spec_)["PhysicalResourceId"]
    # When
    result = on_event(event("Update", spec_, physical_id=arn, old=spec_), clients)
    # Then
    assert result["PhysicalResourceId"] == arn
    assert len(bedrock_double.calls_to("CreateModelCustomizationJob")) == 1


def test_a_settings_change_starts_a_new_job_and_the_old_one_is_stopped_on_delete(clients, bedrock_double):
    # Given a running job
    old = spec("support-bot")
    old_arn = _create(clients, old)["PhysicalResourceId"]
    new = spec("support-bot", revision=1)
    # When the config changes: Update returns a new physical id...
    new_arn = on_event(event("Update", new, physical_id=old_arn, old=old), clients)["PhysicalResourceId"]
    # ...and CloudFormation then deletes the old resource
    on_event(event("Delete", old, physical_id=old_arn), clients)
    # Then two jobs exist, the old one stopping, and the record follows the new one
    assert new_arn != old_arn
    assert bedrock_double.jobs[old_arn].status in ("Stopping", "Stopped")
    assert bedrock_double.jobs[new_arn].status == "InProgress"
    assert records.get(clients.ssm, new.record_name)["jobArn"] == new_arn


def test_delete_of_a_running_job_stops_it_and_removes_its_record(clients, bedrock_double):
    spec_ = spec("support-bot")
    arn = _create(clients, spec_)["PhysicalResourceId"]
    on_event(event("Delete", spec_, physical_id=arn), clients)
    assert len(bedrock_double.calls_to("StopModelCustomizationJob")) == 1
    assert records.get(clients.ssm, spec_.record_name) is None


def test_delete_of_a_missing_job_succeeds(clients, bedrock_double):
    spec_ = spec("support-bot")
    missing = "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/amazon.nova-micro-v1:0:128k/abcdefghijkl"
    assert on_event(event("Delete", spec_, physical_id=missing), clients) == {"PhysicalResourceId": missing}
    assert bedrock_double.calls_to("StopModelCustomizationJob") == []


def test_delete_after_a_failed_create_touches_nothing(clients, bedrock_double):
    assert on_event(event("Delete", spec("support-bot"), physical_id="req-1"), clients)["PhysicalResourceId"] == "req-1"
    assert bedrock_double.calls == []


@pytest.mark.parametrize("retain, deleted", [(True, 0), (False, 1)])
def test_custom_models_are_deleted_only_when_the_config_says_so(clients, bedrock_double, retain, deleted):
    # Given a completed job
    spec_ = spec("support-bot", retain=retain)
    arn = _create(clients, spec_)["PhysicalResourceId"]
    bedrock_double.finish_job(arn, status="Completed")
    # When the stack is deleted
    on_event(event("Delete", spec_, physical_id=arn), clients)
    # Then
    assert len(bedrock_double.calls_to("DeleteCustomModel")) == deleted
    assert len(bedrock_double.custom_models) == 1 - deleted


def test_malformed_properties_fail_with_a_clear_reason(clients):
    bad = {"RequestType": "Create", "ResourceProperties": {"Spec": "{}"}}
    with pytest.raises(JobResourceError, match="unsupported spec version"):
        on_event(bad, clients)
