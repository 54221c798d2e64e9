"""Tests of the Bedrock double through a real boto3 client."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ParamValidationError

from rehearsal.bedrock import (
    BedrockDouble,
    DoubleError,
    FakeClock,
    MissingClientTokenError,
    UnimplementedOperationError,
)
from rehearsal.service_model import RequestViolation, ResponseViolation, get_service_model, validate_request
from tests.doubles.conftest import ACCOUNT, REGION, make_client

MODEL = get_service_model()
ROLE = f"arn:aws:iam::{ACCOUNT}:role/TailorBedrockRole"
NOVA = "amazon.nova-micro-v1:0:128k"


def pattern_of(shape_name: str) -> str:
    return MODEL.shape_for(shape_name).metadata["pattern"]


def assert_matches(shape_name: str, value: str) -> None:
    assert re.fullmatch(pattern_of(shape_name), value), (shape_name, value)


def job_request(**overrides):
    req = {
        "jobName": "tailor-ft-1",
        "customModelName": "tailor-model-1",
        "roleArn": ROLE,
        "baseModelIdentifier": NOVA,
        "clientRequestToken": "token-0001",
        "trainingDataConfig": {"s3Uri": "s3://tailor-data/train.jsonl"},
        "outputDataConfig": {"s3Uri": "s3://tailor-data/output/"},
        "hyperParameters": {"epochCount": "2", "learningRate": "0.00001"},
    }
    req.update(overrides)
    return req


def create_completed_model(client, double, name="tailor-model-1", job="tailor-ft-1"):
    arn = client.create_model_customization_job(
        **job_request(jobName=job, customModelName=name, clientRequestToken=f"tok-{job}")
    )["jobArn"]
    double.finish_job(arn)
    return client.get_model_customization_job(jobIdentifier=arn)["outputModelArn"]


def error_code(exc_info) -> str:
    return exc_info.value.response["Error"]["Code"]


# ======================================================================== wiring


def test_unimplemented_operation_raises_and_is_recorded(client, double):
    # Given an attached client / When an operation the double does not implement is called
    with pytest.raises(UnimplementedOperationError, match="ListGuardrails"):
        client.list_guardrails()
    # Then it failed loudly (not a ClientError, not an empty success) and was recorded
    assert double.calls[-1].operation_name == "ListGuardrails"
    assert len(double.errors) == 1
    double.errors.clear()  # acknowledged; the fixture asserts no errors remain


def test_unimplemented_resource_kind_in_tagging_raises(client, double):
    # Given a guardrail ARN (a taggable Bedrock resource the double does not model)
    arn = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:guardrail/abc123"
    # When tagged / Then the double refuses loudly rather than pretending
    with pytest.raises(UnimplementedOperationError, match="guardrail"):
        client.tag_resource(resourceARN=arn, tags=[{"key": "a", "value": "b"}])
    double.errors.clear()


def test_attach_rejects_other_region_and_double_attach(double):
    # Given a client in another Region / Then attaching fails (ARNs would be wrong)
    other = boto3.client("bedrock", region_name="us-west-2", aws_access_key_id="t", aws_secret_access_key="t")
    with pytest.raises(ValueError, match="region"):
        double.attach(other)
    # And a client cannot be attached twice
    c = double.attach(make_client())
    with pytest.raises(ValueError, match="already"):
        BedrockDouble(clock=FakeClock()).attach(c)
    # And detach restores normal behaviour (registrations removed)
    double.detach(c)
    assert c._tailor_bedrock_double is None


def test_botocore_param_validation_still_runs_first(client, double):
    # Given a type error botocore itself catches (hyperParameters values must be strings)
    # When called / Then botocore raises before the double sees anything
    with pytest.raises(ParamValidationError):
        client.create_model_customization_job(**job_request(hyperParameters={"epochCount": 2}))
    assert double.calls == []


def test_clock_must_be_aware_utc():
    # Given a clock returning a naive datetime
    double = BedrockDouble(clock=lambda: dt.datetime(2026, 1, 1))
    client = double.attach(make_client())
    # When a call needs the time / Then the double refuses
    with pytest.raises(DoubleError, match="aware UTC"):
        client.list_provisioned_model_throughputs()


# ======================================================================== request validation


INVALID = [
    (
        "jobName with a space",
        "create_model_customization_job",
        job_request(jobName="bad name"),
        "jobName",
        "regular expression",
    ),
    (
        "customModelName with '..'",
        "create_model_customization_job",
        job_request(customModelName="tailor..model"),
        "customModelName",
        "regular expression",
    ),
    (
        "64-char jobName",
        "create_model_customization_job",
        job_request(jobName="j" * 64),
        "jobName",
        "less than or equal to 63",
    ),
    (
        "tag with invalid chars",
        "create_model_customization_job",
        job_request(jobTags=[{"key": "cost#center", "value": "ml"}]),
        "jobTags[0].key",
        "regular expression",
    ),
    (
        "clientRequestToken is an ARN",
        "create_model_customization_job",
        job_request(clientRequestToken="arn:aws:cloudformation:us-east-1:111122223333:stack/tailor/1"),
        "clientRequestToken",
        "regular expression",
    ),
    (
        "modelUnits True (a bool passes botocore's int check)",
        "create_provisioned_model_throughput",
        {"modelUnits": True, "provisionedModelName": "pt-1", "modelId": NOVA},
        "modelUnits",
        "Member must be an integer",
    ),
    (
        "PT name 64 chars",
        "create_provisioned_model_throughput",
        {"modelUnits": 1, "provisionedModelName": "p" * 64, "modelId": NOVA},
        "provisionedModelName",
        "less than or equal to 63",
    ),
]


@pytest.mark.parametrize("method,params,path,constraint", [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_invalid_request_is_rejected_with_path(client, double, method, params, path, constraint):
    # Given a request botocore accepts but AWS would reject
    # When it is sent
    with pytest.raises(ClientError) as info:
        getattr(client, method)(**params)
    # Then the caller sees a ValidationException naming the path and constraint, as AWS words it
    assert error_code(info) == "ValidationException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    message = info.value.response["Error"]["Message"]
    assert f"at '{path}' failed to satisfy constraint" in message and constraint in message
    # And nothing was created, and the rejection is on record
    assert double.jobs == {} and double.throughputs == {}
    assert double.rejections and path in double.rejections[-1][1].paths


def test_model_units_zero_is_rejected_before_the_wire(client, double):
    # Given modelUnits 0: botocore itself checks numeric minimums, so it never reaches the double
    with pytest.raises(ParamValidationError, match="modelUnits"):
        client.create_provisioned_model_throughput(modelUnits=0, provisionedModelName="pt-1", modelId=NOVA)
    assert double.calls == []
    # and the double's validator would reject it too (defence for callers bypassing botocore)
    with pytest.raises(RequestViolation, match=r"modelUnits: \[min\]"):
        validate_request(
            "CreateProvisionedModelThroughput", {"modelUnits": 0, "provisionedModelName": "pt-1", "modelId": NOVA}
        )


def test_strict_mode_raises_request_violation(clock):
    # Given a strict double
    double = BedrockDouble(clock=clock, strict=True)
    client = double.attach(make_client())
    # When an invalid request is sent / Then an AssertionError with the path escapes the client call
    with pytest.raises(RequestViolation, match=r"jobName: \[pattern\]"):
        client.create_model_customization_job(**job_request(jobName="bad name"))


def test_response_validation_catches_a_double_bug(client, double, monkeypatch):
    # Given a double whose handler returns a moto-style ARN (not matching the real regex)
    monkeypatch.setattr(
        double,
        "_op_CreateProvisionedModelThroughput",
        lambda p: {"provisionedModelArn": "arn:aws:bedrock:us-east-1:111122223333:provisioned-model/pt-1"},
    )
    # When called / Then the response is refused before reaching the caller
    with pytest.raises(ResponseViolation, match="provisionedModelArn"):
        client.create_provisioned_model_throughput(modelUnits=1, provisionedModelName="pt-1", modelId=NOVA)
    assert isinstance(double.errors[-1], ResponseViolation)
    double.errors.clear()


# ======================================================================== jobs


def test_create_and_get_job_keeps_every_field(client, double):
    # Given a distillation job with VPC, KMS key id, tags and invocation-log training data
    kms_id = "1234abcd-12ab-34cd-56ef-1234567890ab"
    req = job_request(
        jobName="tailor-distill-1",
        customizationType="DISTILLATION",
        customModelKmsKeyId=kms_id,
        trainingDataConfig={"invocationLogsConfig": {"invocationLogSource": {"s3Uri": "s3://tailor-logs/inv/"}}},
        validationDataConfig={"validators": [{"s3Uri": "s3://tailor-data/val.jsonl"}]},
        vpcConfig={"subnetIds": ["subnet-0abc"], "securityGroupIds": ["sg-0abc"]},
        customizationConfig={
            "distillationConfig": {
                "teacherModelConfig": {
                    "teacherModelIdentifier": "amazon.nova-pro-v1:0",
                    "maxResponseLengthForInference": 1000,
                }
            }
        },
        jobTags=[{"key": "project", "value": "tailor"}],
        customModelTags=[{"key": "stage", "value": "dev"}],
    )
    # When created and read back by name
    resp = client.create_model_customization_job(**req)
    got = client.get_model_customization_job(jobIdentifier="tailor-distill-1")
    # Then the ARN is realistic and every request field is returned
    arn = resp["jobArn"]
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert_matches("ModelCustomizationJobArn", arn)
    assert arn.startswith(f"arn:aws:bedrock:{REGION}:{ACCOUNT}:model-customization-job/{NOVA}/")
    assert got["jobArn"] == arn and got["status"] == "InProgress"
    assert got["customizationConfig"] == req["customizationConfig"]
    assert got["vpcConfig"] == req["vpcConfig"]
    assert got["trainingDataConfig"] == req["trainingDataConfig"]
    assert got["validationDataConfig"] == req["validationDataConfig"]
    assert got["hyperParameters"] == req["hyperParameters"]
    assert got["outputModelKmsKeyArn"] == f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{kms_id}"
    assert got["baseModelArn"] == f"arn:aws:bedrock:{REGION}::foundation-model/{NOVA}"
    assert got["clientRequestToken"] == "token-0001"
    assert got["statusDetails"]["validationDetails"]["status"] == "InProgress"
    assert got["creationTime"] == dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
    assert double.jobs[arn].request == req
    assert client.list_tags_for_resource(resourceARN=arn)["tags"] == [{"key": "project", "value": "tailor"}]
    # And GetModelCustomizationJob by ARN is the same
    assert client.get_model_customization_job(jobIdentifier=arn)["jobName"] == "tailor-distill-1"


def test_base_model_as_arn_and_unknown_base_model(client):
    # Given the base model as a foundation-model ARN / Then the job ARN uses its id
    arn = client.create_model_customization_job(
        **job_request(baseModelIdentifier=f"arn:aws:bedrock:{REGION}::foundation-model/amazon.nova-lite-v1:0:300k")
    )["jobArn"]
    assert ":model-customization-job/amazon.nova-lite-v1:0:300k/" in arn
    # Given a base model id without the context suffix (not customizable) / Then ValidationException
    with pytest.raises(client.exceptions.ValidationException, match="does not support customization"):
        client.create_model_customization_job(
            **job_request(
                jobName="j2",
                customModelName="m2",
                clientRequestToken="t2",
                baseModelIdentifier="amazon.nova-micro-v1:0",
            )
        )


def test_customizing_a_custom_model(client, double):
    # Given a completed custom model
    source = create_completed_model(client, double)
    # When it is the base of a new job (by ARN)
    arn = client.create_model_customization_job(
        **job_request(
            jobName="tailor-ft-2", customModelName="tailor-model-2", clientRequestToken="t2", baseModelIdentifier=source
        )
    )["jobArn"]
    # Then the job ARN and baseModelArn use the underlying foundation model, the new model records its source
    assert f":model-customization-job/{NOVA}/" in arn
    assert client.get_model_customization_job(jobIdentifier=arn)["baseModelArn"].endswith(f"foundation-model/{NOVA}")
    double.finish_job(arn)
    assert client.get_custom_model(modelIdentifier="tailor-model-2")["baseModelArn"] == source
    # And a source model used by a running job cannot be deleted
    client.create_model_customization_job(
        **job_request(jobName="tailor-ft-3", customModelName="m3", clientRequestToken="t3", baseModelIdentifier=source)
    )
    with pytest.raises(client.exceptions.ConflictException):
        client.delete_custom_model(modelIdentifier=source)


@pytest.mark.parametrize(
    "overrides,match",
    [
        ({"customizationType": "DISTILLATION"}, "requires customizationConfig.distillationConfig"),
        ({"customizationConfig": {"rftConfig": {}}}, "requires customizationType REINFORCEMENT_FINE_TUNING"),
        ({"trainingDataConfig": {}}, "needs s3Uri or invocationLogsConfig"),
        ({"baseModelIdentifier": "no-such-custom-model"}, "not found"),
    ],
)
def test_job_semantic_checks(client, double, overrides, match):
    # Given a schema-valid request that is semantically wrong / Then it is refused and no job exists
    with pytest.raises(ClientError, match=match):
        client.create_model_customization_job(**job_request(**overrides))
    assert double.jobs == {}


def test_idempotent_create_returns_same_arn(client, double):
    # Given a job created with an explicit token
    first = client.create_model_customization_job(**job_request())["jobArn"]
    # When the identical request is replayed (e.g. a re-delivered Lambda event)
    second = client.create_model_customization_job(**job_request())["jobArn"]
    # Then the same ARN comes back and no second job exists
    assert first == second and len(double.jobs) == 1
    # But the same token with different parameters is refused
    with pytest.raises(client.exceptions.ValidationException, match="different parameters"):
        client.create_model_customization_job(**job_request(hyperParameters={"epochCount": "3"}))


@pytest.mark.parametrize("token", ["token-0002", None], ids=["different-token", "no-token"])
def test_duplicate_job_name_is_rejected(client, double, token):
    # Given an existing job
    client.create_model_customization_job(**job_request())
    req = job_request(customModelName="tailor-model-2")
    if token is None:
        del req["clientRequestToken"]
    else:
        req["clientRequestToken"] = token
    # When the same jobName is used with another token or none
    with pytest.raises(ClientError) as info:
        client.create_model_customization_job(**req)
    # Then ValidationException with the message Airflow's operator matches
    assert error_code(info) == "ValidationException"
    assert info.value.response["Error"]["Message"] == "The provided job name is currently in use."
    assert len(double.jobs) == 1


def test_duplicate_custom_model_name_is_rejected(client):
    # Given a running job that will produce "tailor-model-1"
    client.create_model_customization_job(**job_request())
    # When another job asks for the same output model name / Then ValidationException
    with pytest.raises(client.exceptions.ValidationException, match="custom model name"):
        client.create_model_customization_job(**job_request(jobName="tailor-ft-2", clientRequestToken="token-0002"))


def test_missing_token_is_detected_not_hidden(client, double, clock):
    # Given a create call without clientRequestToken
    req = job_request()
    del req["clientRequestToken"]
    client.create_model_customization_job(**req)
    # Then the call log shows the caller's params without it, and botocore's auto-filled uuid4 on the wire
    call = double.calls_to("create_model_customization_job")[-1]
    assert "clientRequestToken" not in call.params and call.token_injected
    assert call.injected_tokens == ["clientRequestToken"]
    assert uuid.UUID(call.sent_params["clientRequestToken"]).version == 4
    job = next(iter(double.jobs.values()))
    assert job.token_explicit is False
    # And with require_client_tokens the same call fails loudly
    strict = BedrockDouble(clock=clock, require_client_tokens=True)
    strict_client = strict.attach(make_client())
    with pytest.raises(MissingClientTokenError, match="clientRequestToken"):
        strict_client.create_model_customization_job(**req)
    assert strict.jobs == {}


def test_job_stop_lifecycle(client, double, clock):
    # Given a running job
    arn = client.create_model_customization_job(**job_request())["jobArn"]
    # When stopped
    assert client.stop_model_customization_job(jobIdentifier="tailor-ft-1")["ResponseMetadata"]["HTTPStatusCode"] == 200
    # Then it is Stopping, with the running stage Stopping
    got = client.get_model_customization_job(jobIdentifier=arn)
    assert got["status"] == "Stopping" and got["statusDetails"]["validationDetails"]["status"] == "Stopping"
    assert "endTime" not in got
    # And stopping again is refused (job not InProgress; code UNCONFIRMED)
    with pytest.raises(client.exceptions.ValidationException):
        client.stop_model_customization_job(jobIdentifier=arn)
    # When 59 s pass it is still Stopping; at 60 s it is Stopped
    clock.advance(seconds=59)
    assert client.get_model_customization_job(jobIdentifier=arn)["status"] == "Stopping"
    clock.advance(seconds=1)
    assert double.jobs[arn].status == "Stopping"  # inspection lags until the next call or tick()
    double.tick()
    assert double.jobs[arn].status == "Stopped"
    got = client.get_model_customization_job(jobIdentifier=arn)
    assert got["status"] == "Stopped" and got["endTime"] == clock()
    assert got["statusDetails"]["validationDetails"]["status"] == "Stopped"
    assert got["statusDetails"]["trainingDetails"]["status"] == "NotStarted"
    assert "outputModelArn" not in got and double.custom_models == {}


def test_job_stop_settle_and_unknown_job(client, double):
    client.create_model_customization_job(**job_request())
    client.stop_model_customization_job(jobIdentifier="tailor-ft-1")
    # settle() finishes the stop without moving the clock
    assert [c[1:] for c in double.settle()] == [("Stopping", "Stopped")]
    assert client.get_model_customization_job(jobIdentifier="tailor-ft-1")["status"] == "Stopped"
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.stop_model_customization_job(jobIdentifier="no-such-job")


def test_finish_job_completed_creates_custom_model(client, double, clock):
    # Given a job with a validator and custom-model tags
    arn = client.create_model_customization_job(
        **job_request(
            validationDataConfig={"validators": [{"s3Uri": "s3://tailor-data/val.jsonl"}]},
            customModelTags=[{"key": "stage", "value": "dev"}],
            customModelKmsKeyId="alias/tailor",
        )
    )["jobArn"]
    double.advance_job_stage(arn)
    assert (
        client.get_model_customization_job(jobIdentifier=arn)["statusDetails"]["dataProcessingDetails"]["status"]
        == "InProgress"
    )
    clock.advance(hours=2)
    # When the job completes
    double.finish_job(arn, training_loss=0.25, validation_loss=0.5)
    job = client.get_model_customization_job(jobIdentifier=arn)
    # Then the job points at a new Active custom model carrying metrics and tags
    model_arn = job["outputModelArn"]
    assert job["status"] == "Completed" and job["endTime"] == clock()
    assert job["trainingMetrics"] == {"trainingLoss": 0.25} and job["validationMetrics"] == [{"validationLoss": 0.5}]
    assert all(s["status"] == "Completed" for s in job["statusDetails"].values())
    assert_matches("CustomModelArn", model_arn)
    assert model_arn.startswith(f"arn:aws:bedrock:{REGION}:{ACCOUNT}:custom-model/{NOVA}/")
    model = client.get_custom_model(modelIdentifier="tailor-model-1")
    assert model["modelArn"] == model_arn and model["modelStatus"] == "Active"
    assert model["jobArn"] == arn and model["jobName"] == "tailor-ft-1"
    assert model["trainingMetrics"] == {"trainingLoss": 0.25} and model["validationMetrics"] == [
        {"validationLoss": 0.5}
    ]
    assert model["hyperParameters"] == {"epochCount": "2", "learningRate": "0.00001"}
    assert model["modelKmsKeyArn"] == job["outputModelKmsKeyArn"]
    assert client.list_tags_for_resource(resourceARN=model_arn)["tags"] == [{"key": "stage", "value": "dev"}]
    summaries = client.list_model_customization_jobs(statusEquals="Completed")["modelCustomizationJobSummaries"]
    assert [s["customModelArn"] for s in summaries] == [model_arn]


def test_finish_job_failed(client, double):
    arn = client.create_model_customization_job(**job_request())["jobArn"]
    double.finish_job(arn, status="Failed", failure_message="Insufficient training records.")
    job = client.get_model_customization_job(jobIdentifier=arn)
    assert job["status"] == "Failed" and job["failureMessage"] == "Insufficient training records."
    assert job["statusDetails"]["validationDetails"]["status"] == "Failed"
    assert double.custom_models == {}
    with pytest.raises(ValueError):
        double.finish_job(arn)  # already terminal: a test bug, not a service error


def test_list_jobs_filters_and_pagination(client, double, clock):
    # Given 5 jobs created a minute apart, two of them stopped
    arns = []
    for i in range(5):
        arns.append(
            client.create_model_customization_job(
                **job_request(jobName=f"ft-{i}", customModelName=f"m-{i}", clientRequestToken=f"t-{i}")
            )["jobArn"]
        )
        clock.advance(minutes=1)
    for arn in arns[:2]:
        client.stop_model_customization_job(jobIdentifier=arn)
    # When listed with filters
    stopping = client.list_model_customization_jobs(statusEquals="Stopping")["modelCustomizationJobSummaries"]
    named = client.list_model_customization_jobs(nameContains="ft-3")["modelCustomizationJobSummaries"]
    after = client.list_model_customization_jobs(creationTimeAfter=dt.datetime(2026, 1, 5, 9, 2, 30, tzinfo=dt.UTC))
    # Then only matching jobs come back
    assert {s["jobArn"] for s in stopping} == set(arns[:2])
    assert [s["jobName"] for s in named] == ["ft-3"]
    assert [s["jobName"] for s in after["modelCustomizationJobSummaries"]] == ["ft-4", "ft-3"]
    # And the paginator walks all of them, oldest first when asked
    pages = list(
        client.get_paginator("list_model_customization_jobs").paginate(
            sortBy="CreationTime", sortOrder="Ascending", PaginationConfig={"PageSize": 2}
        )
    )
    assert [len(p["modelCustomizationJobSummaries"]) for p in pages] == [2, 2, 1]
    assert [s["jobName"] for p in pages for s in p["modelCustomizationJobSummaries"]] == [f"ft-{i}" for i in range(5)]


# ======================================================================== custom models


def test_custom_models_list_and_delete_conflicts(client, double):
    # Given a completed model used by a PT and a deployment
    model_arn = create_completed_model(client, double)
    other = double.add_custom_model("seeded-model")
    pt = client.create_provisioned_model_throughput(modelUnits=1, provisionedModelName="pt-1", modelId=model_arn)[
        "provisionedModelArn"
    ]
    dep = client.create_custom_model_deployment(modelDeploymentName="dep-1", modelArn=model_arn)[
        "customModelDeploymentArn"
    ]
    summaries = client.list_custom_models(sortOrder="Ascending")["modelSummaries"]
    assert [s["modelName"] for s in summaries] == ["tailor-model-1", "seeded-model"]
    assert summaries[0]["baseModelName"] == "amazon.nova-micro-v1" and summaries[0]["ownerAccountId"] == ACCOUNT
    assert client.list_custom_models(isOwned=False)["modelSummaries"] == []
    pages = list(client.get_paginator("list_custom_models").paginate(PaginationConfig={"PageSize": 1}))
    assert len(pages) == 2
    # When deleting the model in use / Then ConflictException
    with pytest.raises(client.exceptions.ConflictException):
        client.delete_custom_model(modelIdentifier=model_arn)
    double.settle()
    client.delete_provisioned_model_throughput(provisionedModelId=pt)
    with pytest.raises(client.exceptions.ConflictException, match="dep"):
        client.delete_custom_model(modelIdentifier="tailor-model-1")
    client.delete_custom_model_deployment(customModelDeploymentIdentifier=dep)
    # Then once unused it can be deleted, and is gone
    client.delete_custom_model(modelIdentifier="tailor-model-1")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_custom_model(modelIdentifier=model_arn)
    assert list(double.custom_models) == [other]


# ======================================================================== provisioned throughput


def test_pt_lifecycle(client, double, clock):
    # Given a custom model
    model_arn = create_completed_model(client, double)
    model2_arn = create_completed_model(client, double, name="tailor-model-2", job="tailor-ft-2")
    # When a PT is created by model name
    pt_arn = client.create_provisioned_model_throughput(
        modelUnits=2,
        provisionedModelName="tailor-pt",
        modelId="tailor-model-1",
        tags=[{"key": "expires-at", "value": "2026-01-05T21:00:00Z"}],
    )["provisionedModelArn"]
    # Then it is Creating, with a realistic ARN and the model resolved to its ARN
    assert_matches("ProvisionedModelArn", pt_arn)
    got = client.get_provisioned_model_throughput(provisionedModelId="tailor-pt")
    assert got["status"] == "Creating" and got["modelArn"] == model_arn and got["modelUnits"] == 2
    assert got["foundationModelArn"] == f"arn:aws:bedrock:{REGION}::foundation-model/{NOVA}"
    assert "commitmentDuration" not in got
    # And it cannot be deleted while Creating
    with pytest.raises(client.exceptions.ConflictException):
        client.delete_provisioned_model_throughput(provisionedModelId=pt_arn)
    # When settled it is InService
    clock.advance(minutes=10)
    double.settle()
    got = client.get_provisioned_model_throughput(provisionedModelId=pt_arn)
    assert got["status"] == "InService" and got["lastModifiedTime"] == clock()
    # When its model is swapped it is Updating (desiredModelArn set), and delete conflicts again
    client.update_provisioned_model_throughput(
        provisionedModelId=pt_arn, desiredModelId=model2_arn, desiredProvisionedModelName="tailor-pt-v2"
    )
    got = client.get_provisioned_model_throughput(provisionedModelId="tailor-pt-v2")
    assert (got["status"], got["modelArn"], got["desiredModelArn"]) == ("Updating", model_arn, model2_arn)
    with pytest.raises(client.exceptions.ConflictException):
        client.delete_provisioned_model_throughput(provisionedModelId=pt_arn)
    double.set_throughput_status(pt_arn, "InService")
    assert client.get_provisioned_model_throughput(provisionedModelId=pt_arn)["modelArn"] == model2_arn
    # When deleted it is gone, and deleting again is ResourceNotFoundException
    client.delete_provisioned_model_throughput(provisionedModelId=pt_arn)
    assert double.throughputs == {} and pt_arn not in double.tags
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.delete_provisioned_model_throughput(provisionedModelId=pt_arn)


def test_pt_failed_status_and_base_model(client, double):
    # Given a PT on a base model (contextual id), forced to Failed
    arn = client.create_provisioned_model_throughput(modelUnits=1, provisionedModelName="base-pt", modelId=NOVA)[
        "provisionedModelArn"
    ]
    double.set_throughput_status(arn, "Failed", failure_message="Insufficient capacity.")
    got = client.get_provisioned_model_throughput(provisionedModelId=arn)
    # Then Get shows the failure and the foundation model as modelArn; a Failed PT can be deleted
    assert got["status"] == "Failed" and got["failureMessage"] == "Insufficient capacity."
    assert got["modelArn"] == got["foundationModelArn"] == f"arn:aws:bedrock:{REGION}::foundation-model/{NOVA}"
    client.delete_provisioned_model_throughput(provisionedModelId="base-pt")


def test_pt_update_rules(client, double):
    model_arn = create_completed_model(client, double)
    pt = client.create_provisioned_model_throughput(modelUnits=1, provisionedModelName="pt-1", modelId=model_arn)[
        "provisionedModelArn"
    ]
    # Update while Creating is refused (code UNCONFIRMED)
    with pytest.raises(client.exceptions.ValidationException):
        client.update_provisioned_model_throughput(provisionedModelId=pt, desiredProvisionedModelName="pt-2")
    double.settle()
    # A desired model of another base model is refused
    other = double.add_custom_model("llama-model", base_model_id="meta.llama3-1-8b-instruct-v1:0:128k")
    with pytest.raises(client.exceptions.ValidationException, match="customized from"):
        client.update_provisioned_model_throughput(provisionedModelId=pt, desiredModelId=other)
    # A rename only keeps it InService
    client.update_provisioned_model_throughput(provisionedModelId=pt, desiredProvisionedModelName="pt-2")
    assert client.get_provisioned_model_throughput(provisionedModelId=pt)["status"] == "InService"


def test_pt_idempotency_and_duplicate_name(client, double):
    # Given a PT created with a token
    params = dict(modelUnits=1, provisionedModelName="pt-1", modelId=NOVA, clientRequestToken="pt-token-1")
    first = client.create_provisioned_model_throughput(**params)["provisionedModelArn"]
    # When replayed / Then same ARN, one PT
    assert client.create_provisioned_model_throughput(**params)["provisionedModelArn"] == first
    assert len(double.throughputs) == 1
    # When the name is reused with another token / Then ValidationException (code UNCONFIRMED)
    with pytest.raises(client.exceptions.ValidationException, match="already exists"):
        client.create_provisioned_model_throughput(**{**params, "clientRequestToken": "pt-token-2"})
    # An unknown custom model is ResourceNotFoundException; a non-Active one ValidationException
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.create_provisioned_model_throughput(modelUnits=1, provisionedModelName="pt-2", modelId="no-such-model")
    double.add_custom_model("creating-model", status="Creating")
    with pytest.raises(client.exceptions.ValidationException, match="not Active"):
        client.create_provisioned_model_throughput(modelUnits=1, provisionedModelName="pt-3", modelId="creating-model")


def test_commitment_term_delete_refused(client, double, clock):
    # Given a one-month committed PT created 2026-01-05T09:00Z
    arn = client.create_provisioned_model_throughput(
        modelUnits=1, provisionedModelName="committed", modelId=NOVA, commitmentDuration="OneMonth"
    )["provisionedModelArn"]
    double.settle()
    got = client.get_provisioned_model_throughput(provisionedModelId=arn)
    assert got["commitmentDuration"] == "OneMonth"
    assert got["commitmentExpirationTime"] == dt.datetime(2026, 2, 5, 9, 0, tzinfo=dt.UTC)
    # When deleted one second before the term ends / Then refused
    clock.set(dt.datetime(2026, 2, 5, 8, 59, 59, tzinfo=dt.UTC))
    with pytest.raises(client.exceptions.ValidationException, match="commitment"):
        client.delete_provisioned_model_throughput(provisionedModelId=arn)
    assert arn in double.throughputs
    # When the term is over / Then it can be deleted
    clock.advance(seconds=1)
    client.delete_provisioned_model_throughput(provisionedModelId=arn)
    assert arn not in double.throughputs


def test_six_month_commitment_clamps_day():
    clock = FakeClock(dt.datetime(2026, 8, 31, 12, 0, tzinfo=dt.UTC))
    double = BedrockDouble(clock=clock)
    client = double.attach(make_client())
    arn = client.create_provisioned_model_throughput(
        modelUnits=1, provisionedModelName="p", modelId=NOVA, commitmentDuration="SixMonths"
    )["provisionedModelArn"]
    assert double.throughputs[arn].commitment_expiration_time == dt.datetime(2027, 2, 28, 12, 0, tzinfo=dt.UTC)


def test_pagination_over_150_pts(client, double, clock):
    # Given 150 PTs (plus one on another model), one second apart
    model_arn = create_completed_model(client, double)
    for i in range(150):
        client.create_provisioned_model_throughput(modelUnits=1, provisionedModelName=f"pt-{i:03d}", modelId=NOVA)
        clock.advance(seconds=1)
    client.create_provisioned_model_throughput(modelUnits=1, provisionedModelName="custom-pt", modelId=model_arn)
    double.settle()
    for name in ("pt-010", "pt-020"):
        double.set_throughput_status(name, "Failed")
    paginator = client.get_paginator("list_provisioned_model_throughputs")
    # When walked with the real paginator, 40 per page
    pages = list(
        paginator.paginate(
            modelArnEquals=f"arn:aws:bedrock:{REGION}::foundation-model/{NOVA}", PaginationConfig={"PageSize": 40}
        )
    )
    names = [s["provisionedModelName"] for p in pages for s in p["provisionedModelSummaries"]]
    # Then every PT comes once, newest first by default, over 4 pages
    assert [len(p["provisionedModelSummaries"]) for p in pages] == [40, 40, 40, 30]
    assert names == [f"pt-{i:03d}" for i in reversed(range(150))]
    assert "nextToken" not in pages[-1]
    # And the default page size (100) also pages, and build_full_result gathers everything
    assert len(client.list_provisioned_model_throughputs()["provisionedModelSummaries"]) == 100
    assert len(paginator.paginate().build_full_result()["provisionedModelSummaries"]) == 151
    # And filters combine with sortOrder
    failed = paginator.paginate(statusEquals="Failed", sortBy="CreationTime", sortOrder="Ascending").build_full_result()
    assert [s["provisionedModelName"] for s in failed["provisionedModelSummaries"]] == ["pt-010", "pt-020"]
    assert [
        s["provisionedModelName"]
        for s in client.list_provisioned_model_throughputs(nameContains="custom")["provisionedModelSummaries"]
    ] == ["custom-pt"]
    # And a token replayed with other filters is refused
    token = pages[0]["nextToken"]
    with pytest.raises(client.exceptions.ValidationException, match="pagination token"):
        client.list_provisioned_model_throughputs(nextToken=token, statusEquals="InService")


def test_pagination_survives_deletions_between_pages(client, double, clock):
    for i in range(6):
        client.create_provisioned_model_throughput(modelUnits=1, provisionedModelName=f"pt-{i}", modelId=NOVA)
        clock.advance(seconds=1)
    double.settle()
    first = client.list_provisioned_model_throughputs(maxResults=3, sortOrder="Ascending")
    # The last item of page 1 is deleted before page 2 is read
    client.delete_provisioned_model_throughput(provisionedModelId="pt-2")
    second = client.list_provisioned_model_throughputs(
        maxResults=3, sortOrder="Ascending", nextToken=first["nextToken"]
    )
    assert [s["provisionedModelName"] for s in second["provisionedModelSummaries"]] == ["pt-3", "pt-4", "pt-5"]


def test_model_unit_quota(clock):
    double = BedrockDouble(clock=clock, model_unit_quota=3)
    client = double.attach(make_client())
    client.create_provisioned_model_throughput(modelUnits=2, provisionedModelName="a", modelId=NOVA)
    with pytest.raises(client.exceptions.ServiceQuotaExceededException):
        client.create_provisioned_model_throughput(modelUnits=2, provisionedModelName="b", modelId=NOVA)


# ======================================================================== deployments


def test_deployment_lifecycle(client, double):
    # Given two Active custom models
    m1 = create_completed_model(client, double)
    m2 = create_completed_model(client, double, name="tailor-model-2", job="tailor-ft-2")
    # When deployed
    arn = client.create_custom_model_deployment(
        modelDeploymentName="tailor-dep",
        modelArn=m1,
        description="on-demand",
        tags=[{"key": "k", "value": "v"}],
        clientRequestToken="dep-1",
    )["customModelDeploymentArn"]
    assert_matches("CustomModelDeploymentArn", arn)
    assert (
        client.create_custom_model_deployment(
            modelDeploymentName="tailor-dep",
            modelArn=m1,
            description="on-demand",
            tags=[{"key": "k", "value": "v"}],
            clientRequestToken="dep-1",
        )["customModelDeploymentArn"]
        == arn
    )
    # Then Creating, then Active after settle
    assert client.get_custom_model_deployment(customModelDeploymentIdentifier="tailor-dep")["status"] == "Creating"
    with pytest.raises(client.exceptions.ConflictException):
        client.delete_custom_model_deployment(customModelDeploymentIdentifier=arn)
    double.settle()
    got = client.get_custom_model_deployment(customModelDeploymentIdentifier=arn)
    assert (got["status"], got["modelArn"], got["description"]) == ("Active", m1, "on-demand")
    # When updated to another model / Then updateDetails shows Updating, then UpdateCompleted with the new model
    assert (
        client.update_custom_model_deployment(customModelDeploymentIdentifier=arn, modelArn=m2)[
            "customModelDeploymentArn"
        ]
        == arn
    )
    got = client.get_custom_model_deployment(customModelDeploymentIdentifier=arn)
    assert got["updateDetails"] == {"modelArn": m2, "updateStatus": "Updating"} and got["modelArn"] == m1
    double.settle()
    got = client.get_custom_model_deployment(customModelDeploymentIdentifier=arn)
    assert got["updateDetails"]["updateStatus"] == "UpdateCompleted" and got["modelArn"] == m2
    listed = client.list_custom_model_deployments(modelArnEquals=m2, statusEquals="Active")["modelDeploymentSummaries"]
    assert [d["customModelDeploymentName"] for d in listed] == ["tailor-dep"]
    assert len(list(client.get_paginator("list_custom_model_deployments").paginate())) == 1
    # When deleted / Then gone
    client.delete_custom_model_deployment(customModelDeploymentIdentifier="tailor-dep")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_custom_model_deployment(customModelDeploymentIdentifier=arn)


def test_deployment_requires_active_existing_model(client, double):
    creating = double.add_custom_model("creating-model", status="Creating")
    with pytest.raises(client.exceptions.ValidationException, match="Active"):
        client.create_custom_model_deployment(modelDeploymentName="d", modelArn=creating)
    missing = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:custom-model/{NOVA}/abcdefghijkl"
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.create_custom_model_deployment(modelDeploymentName="d", modelArn=missing)


def test_deployment_ready_delay(clock):
    double = BedrockDouble(
        clock=clock, deployment_ready_delay=dt.timedelta(minutes=5), throughput_ready_delay=dt.timedelta(minutes=20)
    )
    client = double.attach(make_client())
    model = double.add_custom_model("m")
    dep = client.create_custom_model_deployment(modelDeploymentName="d", modelArn=model)["customModelDeploymentArn"]
    pt = client.create_provisioned_model_throughput(modelUnits=1, provisionedModelName="p", modelId=model)[
        "provisionedModelArn"
    ]
    clock.advance(minutes=5)
    assert client.get_custom_model_deployment(customModelDeploymentIdentifier=dep)["status"] == "Active"
    assert client.get_provisioned_model_throughput(provisionedModelId=pt)["status"] == "Creating"
    clock.advance(minutes=15)
    got = client.get_provisioned_model_throughput(provisionedModelId=pt)
    assert got["status"] == "InService" and got["lastModifiedTime"] == clock()


# ======================================================================== tagging


def test_tagging_round_trip_on_every_resource_kind(client, double):
    # Given one resource of each kind, created with tags
    job = client.create_model_customization_job(**job_request(jobTags=[{"key": "a", "value": "1"}]))["jobArn"]
    model = create_completed_model(client, double, name="m2", job="j2")
    pt = client.create_provisioned_model_throughput(
        modelUnits=1, provisionedModelName="pt", modelId=model, tags=[{"key": "a", "value": "1"}]
    )["provisionedModelArn"]
    dep = client.create_custom_model_deployment(
        modelDeploymentName="dep", modelArn=model, tags=[{"key": "a", "value": "1"}]
    )["customModelDeploymentArn"]
    for arn in (job, model, pt, dep):
        # When tagged (overwrite + add), untagged, and listed
        client.tag_resource(
            resourceARN=arn, tags=[{"key": "a", "value": "2"}, {"key": "managed-by", "value": "tailor"}]
        )
        client.untag_resource(resourceARN=arn, tagKeys=["a", "never-set"])
        # Then the tags reflect each step
        assert client.list_tags_for_resource(resourceARN=arn)["tags"] == [{"key": "managed-by", "value": "tailor"}]
        assert double.tags[arn] == {"managed-by": "tailor"}


def test_tagging_errors(client, double):
    pt = client.create_provisioned_model_throughput(modelUnits=1, provisionedModelName="pt", modelId=NOVA)[
        "provisionedModelArn"
    ]
    # Unknown resource of a modelled kind
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.list_tags_for_resource(resourceARN=f"arn:aws:bedrock:{REGION}:{ACCOUNT}:provisioned-model/abcdefghijkl")
    # Reserved prefix (UNCONFIRMED for Bedrock)
    with pytest.raises(client.exceptions.ValidationException, match="aws:"):
        client.tag_resource(resourceARN=pt, tags=[{"key": "aws:cloudformation:stack-name", "value": "x"}])
    # Beyond 200 tags on the resource
    client.tag_resource(resourceARN=pt, tags=[{"key": f"k{i}", "value": "v"} for i in range(150)])
    with pytest.raises(client.exceptions.TooManyTagsException) as info:
        client.tag_resource(resourceARN=pt, tags=[{"key": f"x{i}", "value": "v"} for i in range(51)])
    assert info.value.response["resourceName"] == pt
    assert len(double.tags[pt]) == 150


# ======================================================================== faults and retries


def test_injected_error_surfaces_as_client_error_with_code(client, double):
    # Given a ServiceQuotaExceededException queued for the next PT create
    double.fail_next("CreateProvisionedModelThroughput", "ServiceQuotaExceededException", "Model units quota exceeded")
    # When called / Then it surfaces as that ClientError, catchable through client.exceptions, and is not retried
    with pytest.raises(client.exceptions.ServiceQuotaExceededException) as info:
        client.create_provisioned_model_throughput(modelUnits=1, provisionedModelName="pt", modelId=NOVA)
    assert info.value.response["Error"]["Message"] == "Model units quota exceeded"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert len(double.calls_to("create_provisioned_model_throughput")) == 1
    assert double.throughputs == {}
    # And the next call goes through
    client.create_provisioned_model_throughput(modelUnits=1, provisionedModelName="pt", modelId=NOVA)
    assert len(double.throughputs) == 1


@pytest.mark.parametrize(
    "code,status", [("AccessDeniedException", 403), ("ResourceNotFoundException", 404), ("ConflictException", 400)]
)
def test_injected_error_status_from_model(client, double, code, status):
    double.fail_next("delete_provisioned_model_throughput", code)
    with pytest.raises(ClientError) as info:
        client.delete_provisioned_model_throughput(provisionedModelId="pt")
    assert error_code(info) == code and info.value.response["ResponseMetadata"]["HTTPStatusCode"] == status


def test_throttling_is_retried_by_botocore_under_before_send(client, double, clock):
    # Given two ThrottlingExceptions (429) queued; the client uses standard retries, 3 attempts
    double.fail_next("create_provisioned_model_throughput", "ThrottlingException", "Rate exceeded", times=2)
    # When the caller creates a PT without passing a token
    with double.instant_retries() as sleeps:
        resp = client.create_provisioned_model_throughput(modelUnits=1, provisionedModelName="pt", modelId=NOVA)
    # Then botocore retried twice, re-sending the same auto-filled token, and one PT exists
    assert resp["ResponseMetadata"]["RetryAttempts"] == 2
    attempts = double.calls_to("CreateProvisionedModelThroughput")
    assert [c.attempt for c in attempts] == [1, 2, 3]
    assert [c.error_code for c in attempts] == ["ThrottlingException", "ThrottlingException", None]
    assert len({c.sent_params["clientRequestToken"] for c in attempts}) == 1
    assert len(double.throughputs) == 1
    # And the back-off sleeps advanced the fake clock instead of sleeping
    assert len(sleeps) == 2 and clock() > dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


def test_throttling_exhausts_retries(client, double):
    double.fail_next("get_provisioned_model_throughput", "ThrottlingException", times=3)
    with double.instant_retries(), pytest.raises(client.exceptions.ThrottlingException) as info:
        client.get_provisioned_model_throughput(provisionedModelId="pt")
    assert info.value.response["ResponseMetadata"]["RetryAttempts"] == 2
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429


def test_lost_response_then_retry_is_idempotent(client, double):
    # Given a 500 returned AFTER the PT was created (the caller never sees the ARN)
    double.fail_next("CreateProvisionedModelThroughput", "InternalServerException", after_apply=True)
    # When botocore retries the 500 with the same token
    with double.instant_retries():
        resp = client.create_provisioned_model_throughput(
            modelUnits=1, provisionedModelName="pt", modelId=NOVA, clientRequestToken="cfn-req-1"
        )
    # Then the retry returns the ARN of the PT the first attempt created: still one PT
    assert resp["ResponseMetadata"]["RetryAttempts"] == 1
    assert list(double.throughputs) == [resp["provisionedModelArn"]]


def test_before_call_mode_bypasses_retries_like_stubber(double):
    # Given a client attached Stubber-style (before-call) with a generous retry config
    client = double.attach(make_client(Config(retries={"mode": "standard", "total_max_attempts": 5})), via="call")
    double.fail_next("CreateProvisionedModelThroughput", "ThrottlingException", times=1)
    # When the throttled call is made / Then the error surfaces on the FIRST attempt: no retry
    with pytest.raises(client.exceptions.ThrottlingException) as info:
        client.create_provisioned_model_throughput(modelUnits=1, provisionedModelName="pt", modelId=NOVA)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert len(double.calls) == 1 and double.pending_faults() == {}
    # And the rest still works in this mode (errors, datetimes, paginators)
    client.create_provisioned_model_throughput(modelUnits=1, provisionedModelName="pt", modelId=NOVA)
    pages = list(client.get_paginator("list_provisioned_model_throughputs").paginate())
    assert pages[0]["provisionedModelSummaries"][0]["creationTime"].tzinfo is not None
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_provisioned_model_throughput(provisionedModelId="nope")


def test_fail_next_rejects_unmodelled_code(double):
    # A typo in the code would make a test pass for the wrong reason
    with pytest.raises(ValueError, match="ThrottledException"):
        double.fail_next("create_provisioned_model_throughput", "ThrottledException")
    with pytest.raises(ValueError):
        double.fail_next("delete_provisioned_model_throughput", "ServiceQuotaExceededException")
    double.fail_next("delete_provisioned_model_throughput", "ServiceUnavailableException")  # generic AWS code: allowed
    assert double.pending_faults() == {"DeleteProvisionedModelThroughput": 1}


def test_job_concurrency_quota(clock):
    double = BedrockDouble(clock=clock, job_concurrency_quota=1)
    client = double.attach(make_client())
    client.create_model_customization_job(**job_request())
    with pytest.raises(client.exceptions.ServiceQuotaExceededException):
        client.create_model_customization_job(
            **job_request(jobName="ft-2", customModelName="m-2", clientRequestToken="t-2")
        )


# ======================================================================== coexistence with moto


def test_send_mode_under_moto_mock_aws(double):
    # Given moto's mock_aws, which registers a catch-all before-send handler on every new client
    from moto import mock_aws

    with mock_aws():
        client = double.attach(make_client())
        # When Bedrock operations moto lacks (PT) or has (jobs) are called
        pt = client.create_provisioned_model_throughput(modelUnits=1, provisionedModelName="pt", modelId=NOVA)[
            "provisionedModelArn"
        ]
        client.create_model_customization_job(**job_request())
        # Then only the double answered (moto raised no NotImplementedError and saw no job)
        assert pt in double.throughputs and len(double.jobs) == 1
        moto_client = make_client()
        assert moto_client.list_model_customization_jobs()["modelCustomizationJobSummaries"] == []
        # And detach gives the client back to moto
        double.detach(client)
        assert client.list_model_customization_jobs()["modelCustomizationJobSummaries"] == []
