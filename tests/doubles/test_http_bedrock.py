"""The local Bedrock over HTTP: real boto3 clients against a server on a free loopback port."""

from __future__ import annotations

import datetime as dt
import hashlib
import http.client
import json
import re
import threading
from pathlib import Path

import pytest
from botocore import xform_name
from botocore.exceptions import ClientError

from rehearsal.bedrock import BedrockDouble
from rehearsal.clock import WallClock
from rehearsal.http import LocalBedrock, Settings
from rehearsal.service_model import get_service_model
from tests.doubles.conftest import ACCOUNT, control, http_client, ok, wait_for
from tests.doubles.samples import sample_params

MODEL = get_service_model()
ROOT = Path(__file__).resolve().parents[2]
ROLE = f"arn:aws:iam::{ACCOUNT}:role/TailorBedrockRole"
NOVA = "amazon.nova-micro-v1:0:128k"
MS = dt.timedelta(milliseconds=1)


def job_request(name: str, **overrides):
    request = {
        "jobName": name,
        "customModelName": f"{name}-model",
        "roleArn": ROLE,
        "baseModelIdentifier": NOVA,
        "clientRequestToken": hashlib.sha256(name.encode()).hexdigest(),
        "trainingDataConfig": {"s3Uri": "s3://tailor-data/datasets/train.jsonl"},
        "validationDataConfig": {"validators": [{"s3Uri": "s3://tailor-data/datasets/validation.jsonl"}]},
        "outputDataConfig": {"s3Uri": "s3://tailor-output/jobs/dev/"},
        "hyperParameters": {"epochCount": "2"},
    }
    request.update(overrides)
    return request


def advance(server, seconds: float) -> None:
    ok(server, "POST", "/clock", {"advance_seconds": seconds})


def calls(server) -> list[dict]:
    return ok(server, "GET", "/calls")


def raw(server, method: str, path: str, body: bytes = b"", headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def evaluation_request(name: str, model: str) -> dict:
    """A CreateEvaluationJob request as tailor/jobs/evaluation.py builds it."""
    dataset = {"name": "support-bot-prompts", "datasetLocation": {"s3Uri": "s3://tailor-dev-data/datasets/e.jsonl"}}
    return {
        "jobName": name,
        "roleArn": "arn:aws:iam::111122223333:role/tailor-dev-evaluation",
        "clientRequestToken": hashlib.sha256(name.encode()).hexdigest(),
        "applicationType": "ModelEvaluation",
        "evaluationConfig": {
            "automated": {
                "datasetMetricConfigs": [
                    {"taskType": "QuestionAndAnswer", "dataset": dataset, "metricNames": ["Builtin.Accuracy"]}
                ]
            }
        },
        "inferenceConfig": {"models": [{"bedrockModel": {"modelIdentifier": model}}]},
        "outputDataConfig": {"s3Uri": "s3://tailor-dev-output/evaluations/dev/support-bot/"},
    }


def tailor_operations() -> set[str]:
    """Every Bedrock operation Tailor's code calls: `bedrock.<method>(` and `bedrock.get_paginator("<method>")`."""
    methods: set[str] = set()
    for path in [*(ROOT / "tailor").rglob("*.py"), *(ROOT / "functions").rglob("*.py")]:
        text = path.read_text()
        methods |= set(re.findall(r"bedrock\.get_paginator\(\"([a-z_]+)\"\)", text))
        methods |= {m for m in re.findall(r"bedrock\.([a-z_]+)\(", text) if m != "get_paginator"}
    by_method = {xform_name(name): name for name in MODEL.operation_names}
    unknown = methods - set(by_method)
    assert not unknown, f"not bedrock operations: {unknown}"
    return {by_method[m] for m in methods}


# ======================================================================== every operation Tailor calls


def test_a_tailor_shaped_tour_gets_bedrocks_answers_for_every_operation_tailor_calls(local_bedrock):
    # Given the local Bedrock with Bedrock's quotas and long delays that the harness's clock jumps over
    server = local_bedrock(job_seconds=30, throughput_seconds=60, deployment_seconds=60, stop_seconds=5)
    c = http_client(server)

    # Jobs: create (idempotent on its token), read by name and by ARN, complete by time
    first = job_request("tailor-dev-support-bot-0a1b2c3d", jobTags=[{"key": "managed-by", "value": "tailor"}])
    first["customModelTags"] = [{"key": "environment", "value": "dev"}]
    job_arn = c.create_model_customization_job(**first)["jobArn"]
    assert c.create_model_customization_job(**first)["jobArn"] == job_arn
    job = c.get_model_customization_job(jobIdentifier=first["jobName"])
    assert (job["jobArn"], job["status"], job["clientRequestToken"]) == (
        job_arn,
        "InProgress",
        first["clientRequestToken"],
    )
    advance(server, 31)
    job = c.get_model_customization_job(jobIdentifier=job_arn)
    assert job["status"] == "Completed" and job["trainingMetrics"] == {"trainingLoss": 0.1}
    model = job["outputModelArn"]
    assert c.list_tags_for_resource(resourceARN=model)["tags"] == [{"key": "environment", "value": "dev"}]
    second = job_request("tailor-dev-support-bot-9f8e7d6c")
    c.create_model_customization_job(**second)
    advance(server, 31)
    model_2 = c.get_model_customization_job(jobIdentifier=second["jobName"])["outputModelArn"]

    # Stop: Stopping, then Stopped after the stop delay; while Stopping it still holds a slot (the queue counts it)
    third = c.create_model_customization_job(**job_request("tailor-dev-old-11112222"))["jobArn"]
    c.stop_model_customization_job(jobIdentifier=third)
    assert c.get_model_customization_job(jobIdentifier=third)["status"] == "Stopping"
    stopping = c.get_paginator("list_model_customization_jobs").paginate(statusEquals="Stopping")
    assert [s["jobArn"] for page in stopping for s in page["modelCustomizationJobSummaries"]] == [third]
    advance(server, 6)
    assert c.get_model_customization_job(jobIdentifier=third)["status"] == "Stopped"

    # Provisioned Throughput: Creating -> InService, tagged at creation and later, listed, swapped in place
    expires = [{"key": "expires-at", "value": "2026-01-05T11:00Z"}]
    pt = c.create_provisioned_model_throughput(
        modelUnits=1,
        provisionedModelName="tailor-dev-support-bot-pt",
        modelId=model,
        clientRequestToken=hashlib.sha256(b"pt").hexdigest(),
        tags=expires,
    )["provisionedModelArn"]
    assert c.get_provisioned_model_throughput(provisionedModelId=pt)["status"] == "Creating"
    advance(server, 61)
    assert c.get_provisioned_model_throughput(provisionedModelId=pt)["status"] == "InService"
    c.tag_resource(resourceARN=pt, tags=[{"key": "expires-at", "value": "2026-01-05T12:00Z"}])
    assert c.list_tags_for_resource(resourceARN=pt)["tags"] == [{"key": "expires-at", "value": "2026-01-05T12:00Z"}]
    listed = [
        s["provisionedModelArn"]
        for page in c.get_paginator("list_provisioned_model_throughputs").paginate()
        for s in page["provisionedModelSummaries"]
    ]
    assert listed == [pt]
    # Evaluation: of the PT (a custom model is evaluated through one) and of a base model, read, listed, stopped
    evaluation = evaluation_request("tailor-dev-support-bot-5e6f7a8b", pt)
    evaluation_arn = c.create_evaluation_job(**evaluation)["jobArn"]
    assert c.create_evaluation_job(**evaluation)["jobArn"] == evaluation_arn
    assert c.get_evaluation_job(jobIdentifier=evaluation_arn)["status"] == "InProgress"
    found = c.get_paginator("list_evaluation_jobs").paginate(nameContains="tailor-dev-support-bot-5e6f")
    assert [s["jobArn"] for page in found for s in page["jobSummaries"]] == [evaluation_arn]
    advance(server, 31)
    assert c.get_evaluation_job(jobIdentifier=evaluation_arn)["status"] == "Completed"
    base = c.create_evaluation_job(**evaluation_request("tailor-dev-support-bot-0000base", "amazon.nova-micro-v1:0"))
    c.stop_evaluation_job(jobIdentifier=base["jobArn"])
    assert c.get_evaluation_job(jobIdentifier=base["jobArn"])["status"] == "Stopping"
    c.update_provisioned_model_throughput(provisionedModelId=pt, desiredModelId=model_2)
    assert c.get_provisioned_model_throughput(provisionedModelId=pt)["status"] == "Updating"
    advance(server, 61)
    view = c.get_provisioned_model_throughput(provisionedModelId=pt)
    assert (view["status"], view["modelArn"]) == ("InService", model_2)

    # On-demand deployment: Creating -> Active, swapped in place, listed
    dep = c.create_custom_model_deployment(
        modelDeploymentName="tailor-dev-support-bot-od",
        modelArn=model,
        clientRequestToken=hashlib.sha256(b"dep").hexdigest(),
        tags=expires,
    )["customModelDeploymentArn"]
    assert c.get_custom_model_deployment(customModelDeploymentIdentifier=dep)["status"] == "Creating"
    advance(server, 61)
    assert c.get_custom_model_deployment(customModelDeploymentIdentifier=dep)["status"] == "Active"
    c.update_custom_model_deployment(customModelDeploymentIdentifier=dep, modelArn=model_2)
    assert c.get_custom_model_deployment(customModelDeploymentIdentifier=dep)["updateDetails"]["updateStatus"] == (
        "Updating"
    )
    advance(server, 61)
    view = c.get_custom_model_deployment(customModelDeploymentIdentifier=dep)
    assert (view["modelArn"], view["updateDetails"]["updateStatus"]) == (model_2, "UpdateCompleted")
    listed = [
        s["customModelDeploymentArn"]
        for page in c.get_paginator("list_custom_model_deployments").paginate()
        for s in page["modelDeploymentSummaries"]
    ]
    assert listed == [dep]

    # Teardown: the model in use refuses deletion; serving goes; nothing is left billed
    with pytest.raises(c.exceptions.ConflictException):
        c.delete_custom_model(modelIdentifier=model_2)
    c.delete_provisioned_model_throughput(provisionedModelId=pt)
    c.delete_custom_model_deployment(customModelDeploymentIdentifier=dep)
    c.delete_custom_model(modelIdentifier=model)
    c.delete_custom_model(modelIdentifier=model_2)
    with pytest.raises(c.exceptions.ResourceNotFoundException):
        c.get_provisioned_model_throughput(provisionedModelId=pt)
    assert ok(server, "GET", "/billed") == []

    # Then every operation Tailor's code calls was answered here
    answered = {e["operation"] for e in calls(server) if e["status"] < 500}
    assert tailor_operations() <= answered, tailor_operations() - answered


# ======================================================================== error shapes


@pytest.mark.parametrize(
    "code,status",
    [
        ("ThrottlingException", 429),
        ("InternalServerException", 500),
        ("AccessDeniedException", 403),
        ("ServiceQuotaExceededException", 400),
        ("ResourceNotFoundException", 404),
        ("ValidationException", 400),
    ],
)
def test_modelled_errors_have_their_status_error_type_and_exception_class(local_bedrock, no_backoff, code, status):
    # Given a fault on the next CreateProvisionedModelThroughput and a client that does not retry
    server = local_bedrock()
    ok(server, "POST", "/faults", {"operation": "CreateProvisionedModelThroughput", "code": code, "message": "boom"})
    c = http_client(server, attempts=1)
    # When called
    with pytest.raises(getattr(c.exceptions, code)) as raised:
        c.create_provisioned_model_throughput(modelUnits=1, provisionedModelName="pt", modelId=NOVA)
    # Then botocore raised the modelled exception from the status, x-amzn-ErrorType and JSON message
    meta = raised.value.response["ResponseMetadata"]
    assert meta["HTTPStatusCode"] == status
    assert meta["HTTPHeaders"]["x-amzn-errortype"] == code
    assert re.fullmatch(r"[0-9a-f-]{36}", meta["RequestId"])
    assert raised.value.response["Error"]["Message"] == "boom"


def test_real_rule_violations_over_http(local_bedrock):
    server = local_bedrock()
    c = http_client(server)
    # Model validation botocore does not do: AWS's wording and the member path
    with pytest.raises(c.exceptions.ValidationException, match=r"at 'provisionedModelName' failed to satisfy"):
        c.create_provisioned_model_throughput(modelUnits=1, provisionedModelName="bad name!", modelId=NOVA)
    # Unknown identifiers: 404 with the modelled exception
    with pytest.raises(c.exceptions.ResourceNotFoundException) as raised:
        c.get_model_customization_job(
            jobIdentifier=f"arn:aws:bedrock:us-east-1:{ACCOUNT}:model-customization-job/{NOVA}/abcdefghijkl"
        )
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    # State conflicts: a PT still Creating cannot be deleted
    pt = c.create_provisioned_model_throughput(
        modelUnits=1, provisionedModelName="c", modelId=NOVA, commitmentDuration="OneMonth"
    )["provisionedModelArn"]
    with pytest.raises(c.exceptions.ConflictException, match="Creating"):
        c.delete_provisioned_model_throughput(provisionedModelId=pt)


def test_unknown_routes_are_404_with_a_clear_body(local_bedrock):
    server = local_bedrock()
    status, headers, body = raw(server, "GET", "/no-such-api")
    assert status == 404
    assert headers["x-amzn-errortype"] == "UnknownOperationException"
    assert "No Bedrock operation matches GET /no-such-api" in json.loads(body)["message"]
    status, _headers, body = raw(server, "DELETE", "/model-customization-jobs")
    assert status == 404 and "this path takes GET, POST" in json.loads(body)["message"]
    # bedrock-runtime pointed here by mistake says what is served
    status, _headers, body = raw(server, "POST", "/model/x/invoke", b"{}")
    assert status == 404 and "only the bedrock control plane" in json.loads(body)["message"]


def test_an_operation_the_double_lacks_is_501_not_implemented(local_bedrock):
    server = local_bedrock()
    c = http_client(server)
    with pytest.raises(ClientError) as raised:
        c.list_foundation_models()
    error = raised.value.response
    assert error["Error"]["Code"] == "NotImplemented"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert "does not implement ListFoundationModels" in error["Error"]["Message"]
    assert calls(server)[-1]["operation"] == "ListFoundationModels"
    # The double also keeps it as a loud error, for the harness to fail on
    double = server.local.doubles[(ACCOUNT, "us-east-1")]
    assert [type(e).__name__ for e in double.errors] == ["UnimplementedOperationError"]


@pytest.mark.parametrize(
    "body,code",
    [
        (b"{not json", "SerializationException"),
        (b'{"modelUnits": 1, "provisionedModelName": "a", "modelId": "b", "colour": "red"}', "ValidationException"),
    ],
    ids=["malformed", "unknown-member"],
)
def test_bodies_botocore_would_never_send(local_bedrock, body, code):
    server = local_bedrock()
    status, headers, payload = raw(server, "POST", "/provisioned-model-throughput", body)
    assert (status, headers["x-amzn-errortype"]) == (400, code)
    assert json.loads(payload)["message"]


# ======================================================================== retries, idempotency tokens


@pytest.mark.parametrize(
    "code,status",
    [("ThrottlingException", 429), ("InternalServerException", 500), ("ServiceUnavailableException", 503)],
)
def test_429_and_5xx_are_retried_with_the_same_token(local_bedrock, no_backoff, code, status):
    # Given two faults on CreateProvisionedModelThroughput and a standard-mode client (3 attempts)
    server = local_bedrock(commitment_model_unit_quota=None)
    ok(server, "POST", "/faults", {"operation": "CreateProvisionedModelThroughput", "code": code, "times": 2})
    c = http_client(server, attempts=3)
    # When created without a token of its own
    result = c.create_provisioned_model_throughput(
        modelUnits=1, provisionedModelName="pt", modelId=NOVA, commitmentDuration="OneMonth"
    )
    # Then botocore retried twice with the token it filled in once, and one PT exists
    assert result["ResponseMetadata"]["RetryAttempts"] == 2
    attempts = [e for e in calls(server) if e["operation"] == "CreateProvisionedModelThroughput"]
    assert [e["status"] for e in attempts] == [status, status, 201]
    assert len({e["params"]["clientRequestToken"] for e in attempts}) == 1
    assert all(e["tokens_injected"] == ["clientRequestToken"] for e in attempts)
    assert [e["attempt"] for e in attempts] == [1, 2, 3]
    assert len(ok(server, "GET", "/billed")) == 1
    assert len(no_backoff) == 2


def test_a_lost_response_is_adopted_by_the_retry(local_bedrock, no_backoff):
    # Given Bedrock creates the PT but the response is lost (500 after apply)
    server = local_bedrock()
    fault = {"operation": "CreateProvisionedModelThroughput", "code": "InternalServerException", "after_apply": True}
    ok(server, "POST", "/faults", fault)
    c = http_client(server)
    token = hashlib.sha256(b"tailor-dev-x").hexdigest()
    # When botocore retries / Then the token returns the same PT: one PT, no duplicate
    arn = c.create_provisioned_model_throughput(
        modelUnits=1, provisionedModelName="pt", modelId=NOVA, commitmentDuration="OneMonth", clientRequestToken=token
    )["provisionedModelArn"]
    assert [b["arn"] for b in ok(server, "GET", "/billed")] == [arn]


def test_retries_exhausted_surface_the_throttling(local_bedrock, no_backoff):
    server = local_bedrock()
    ok(server, "POST", "/faults", {"operation": "ListCustomModels", "code": "ThrottlingException", "times": 5})
    c = http_client(server, attempts=3)
    with pytest.raises(c.exceptions.ThrottlingException):
        c.list_custom_models()
    assert ok(server, "GET", "/state")["pending_faults"][0]["remaining"] == 2


def test_uuid4_tokens_are_taken_for_botocores_and_can_be_refused(local_bedrock):
    # Given a server that refuses Create* calls relying on botocore's token
    server = local_bedrock(require_client_tokens=True)
    c = http_client(server)
    # When a PT is created without a token / Then refused, loudly, with nothing created
    with pytest.raises(ClientError) as raised:
        c.create_provisioned_model_throughput(
            modelUnits=1, provisionedModelName="pt", modelId=NOVA, commitmentDuration="OneMonth"
        )
    assert raised.value.response["Error"]["Code"] == "MissingClientToken"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert ok(server, "GET", "/billed") == []
    server.local.doubles[(ACCOUNT, "us-east-1")].errors.clear()  # expected here
    # When Tailor's kind of token (a SHA-256 hex digest) is given / Then accepted
    c.create_provisioned_model_throughput(
        modelUnits=1,
        provisionedModelName="pt",
        modelId=NOVA,
        commitmentDuration="OneMonth",
        clientRequestToken=hashlib.sha256(b"pt").hexdigest(),
    )
    assert calls(server)[-1]["tokens_injected"] == []


# ======================================================================== pagination


def test_paginators_and_list_filters(local_bedrock):
    server = local_bedrock()
    c = http_client(server)
    for i in range(5):
        c.create_provisioned_model_throughput(
            modelUnits=1, provisionedModelName=f"pt-{i}", modelId=NOVA, commitmentDuration="OneMonth"
        )
    pages = list(
        c.get_paginator("list_provisioned_model_throughputs").paginate(
            sortOrder="Ascending", PaginationConfig={"PageSize": 2}
        )
    )
    names = [[s["provisionedModelName"] for s in p["provisionedModelSummaries"]] for p in pages]
    assert names == [["pt-0", "pt-1"], ["pt-2", "pt-3"], ["pt-4"]]
    descending = c.list_provisioned_model_throughputs(maxResults=2)
    assert [s["provisionedModelName"] for s in descending["provisionedModelSummaries"]] == ["pt-4", "pt-3"]
    assert c.list_provisioned_model_throughputs(nameContains="pt-3")["provisionedModelSummaries"][0]["modelUnits"] == 1
    with pytest.raises(c.exceptions.ValidationException, match="pagination token"):
        c.list_provisioned_model_throughputs(nextToken="forged")
    # Query timestamps and enums reach the double typed
    c.create_model_customization_job(**job_request("tailor-dev-a-00000001"))
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    assert c.list_model_customization_jobs(creationTimeAfter=later)["modelCustomizationJobSummaries"] == []
    running = c.list_model_customization_jobs(statusEquals="InProgress")["modelCustomizationJobSummaries"]
    assert [j["jobName"] for j in running] == ["tailor-dev-a-00000001"]


# ======================================================================== the wall clock


def test_lifecycles_advance_by_themselves_on_the_wall_clock(local_bedrock):
    # Given short real delays
    server = local_bedrock(job_seconds=0.3, throughput_seconds=0.2, deployment_seconds=0.2)
    c = http_client(server)
    # When a job starts and time passes
    arn = c.create_model_customization_job(**job_request("tailor-dev-clock-00000001"))["jobArn"]
    job = wait_for(lambda: c.get_model_customization_job(jobIdentifier=arn), lambda j: j["status"] == "Completed")
    # Then it completed 0.3 s after it started, its stages at 20 % and 40 % of that, with metrics and a model
    start = job["creationTime"]
    assert job["endTime"] - start == 300 * MS
    details = job["statusDetails"]
    assert details["validationDetails"]["status"] == "Completed"
    assert details["dataProcessingDetails"]["lastModifiedTime"] - start == 120 * MS
    assert job["validationMetrics"] == [{"validationLoss": 0.2}]
    model = job["outputModelArn"]
    # PTs go InService and deployments Active 0.2 s after creation, by themselves
    pt = c.create_provisioned_model_throughput(modelUnits=1, provisionedModelName="pt", modelId=model)
    view = wait_for(
        lambda: c.get_provisioned_model_throughput(provisionedModelId=pt["provisionedModelArn"]),
        lambda v: v["status"] == "InService",
    )
    assert view["lastModifiedTime"] - view["creationTime"] == 200 * MS
    dep = c.create_custom_model_deployment(modelDeploymentName="od", modelArn=model)["customModelDeploymentArn"]
    view = wait_for(
        lambda: c.get_custom_model_deployment(customModelDeploymentIdentifier=dep), lambda v: v["status"] == "Active"
    )
    assert view["lastUpdatedAt"] - view["createdAt"] == 200 * MS
    # And the timeline has each change once, in order per resource
    events = [(e["name"], e["stage"], e["new"]) for e in ok(server, "GET", "/events") if e["kind"] != "custom-model"]
    assert events == [
        ("tailor-dev-clock-00000001", None, "InProgress"),
        ("tailor-dev-clock-00000001", "validationDetails", "InProgress"),
        ("tailor-dev-clock-00000001", "validationDetails", "Completed"),
        ("tailor-dev-clock-00000001", "dataProcessingDetails", "InProgress"),
        ("tailor-dev-clock-00000001", "dataProcessingDetails", "Completed"),
        ("tailor-dev-clock-00000001", "trainingDetails", "InProgress"),
        ("tailor-dev-clock-00000001", "trainingDetails", "Completed"),
        ("tailor-dev-clock-00000001", None, "Completed"),
        ("pt", None, "Creating"),
        ("pt", None, "InService"),
        ("od", None, "Creating"),
        ("od", None, "Active"),
    ]


def test_intermediate_states_on_a_controlled_wall_clock(local_bedrock):
    # Given the server's wall clock over a time source the test moves
    now = [1_800_000_000.0]
    local = LocalBedrock(Settings(throughput_seconds=10, job_seconds=100), clock=WallClock(time_source=lambda: now[0]))
    server = local_bedrock(local=local)
    c = http_client(server)
    model = c.create_model_customization_job(**job_request("tailor-dev-ctl-00000001"))["jobArn"]
    now[0] += 100
    model = c.get_model_customization_job(jobIdentifier=model)["outputModelArn"]
    arn = c.create_provisioned_model_throughput(modelUnits=1, provisionedModelName="pt", modelId=model)[
        "provisionedModelArn"
    ]
    # When 9.999 s pass / Then still Creating; at 10 s InService
    now[0] += 9.999
    assert c.get_provisioned_model_throughput(provisionedModelId=arn)["status"] == "Creating"
    now[0] += 0.001
    assert c.get_provisioned_model_throughput(provisionedModelId=arn)["status"] == "InService"


# ======================================================================== quotas and commitments


def test_bedrocks_default_quotas_are_on(local_bedrock):
    server = local_bedrock(job_seconds=None)
    c = http_client(server)
    models = []
    for i in (1, 2):
        c.create_model_customization_job(**job_request(f"tailor-dev-q-{i}"))
    with pytest.raises(c.exceptions.ServiceQuotaExceededException, match="quota of 2 concurrent"):
        c.create_model_customization_job(**job_request("tailor-dev-q-3"))
    for i in (1, 2):
        models.append(ok(server, "POST", "/jobs/finish", {"job": f"tailor-dev-q-{i}"})["outputModelArn"])
    create = c.create_provisioned_model_throughput
    with pytest.raises(c.exceptions.ValidationException, match="only for custom models"):
        create(modelUnits=1, provisionedModelName="base", modelId=NOVA)
    with pytest.raises(c.exceptions.ServiceQuotaExceededException, match="at most 1 model unit"):
        create(modelUnits=2, provisionedModelName="big", modelId=models[0])
    create(modelUnits=1, provisionedModelName="pt-1", modelId=models[0])
    create(modelUnits=1, provisionedModelName="pt-2", modelId=models[1])
    with pytest.raises(c.exceptions.ServiceQuotaExceededException, match="no commitment"):
        create(modelUnits=1, provisionedModelName="pt-3", modelId=models[0])
    # Quotas are per account: another account has its own two
    other = http_client(server, access_key="444455556666")
    other.create_model_customization_job(**job_request("tailor-dev-q-9"))
    assert other.list_model_customization_jobs()["modelCustomizationJobSummaries"][0]["jobArn"].split(":")[4] == (
        "444455556666"
    )


def test_commitment_term_refuses_deletion_until_it_ends(local_bedrock):
    server = local_bedrock(throughput_seconds=0)
    c = http_client(server)
    arn = c.create_provisioned_model_throughput(
        modelUnits=1, provisionedModelName="committed", modelId=NOVA, commitmentDuration="OneMonth"
    )["provisionedModelArn"]
    view = c.get_provisioned_model_throughput(provisionedModelId=arn)
    assert view["commitmentDuration"] == "OneMonth"
    assert dt.timedelta(days=28) <= view["commitmentExpirationTime"] - view["creationTime"] <= dt.timedelta(days=31)
    with pytest.raises(c.exceptions.ValidationException, match="cannot be deleted before the term ends"):
        c.delete_provisioned_model_throughput(provisionedModelId=arn)
    # The other reading of the rule, for rehearsing Tailor against it
    ok(server, "POST", "/settings", {"commitment_delete_code": "ConflictException"})
    with pytest.raises(c.exceptions.ConflictException):
        c.delete_provisioned_model_throughput(provisionedModelId=arn)
    advance(server, 32 * 86400)
    c.delete_provisioned_model_throughput(provisionedModelId=arn)
    assert ok(server, "GET", "/billed") == []


# ======================================================================== tags


def test_tags_on_every_taggable_resource(local_bedrock):
    server = local_bedrock(throughput_seconds=0, deployment_seconds=0, job_seconds=None)
    c = http_client(server)
    request = job_request("tailor-dev-tags-00000001", jobTags=[{"key": "job", "value": "1"}])
    request["customModelTags"] = [{"key": "model", "value": "1"}]
    job = c.create_model_customization_job(**request)["jobArn"]
    model = ok(server, "POST", "/jobs/finish", {"job": job})["outputModelArn"]
    pt = c.create_provisioned_model_throughput(
        modelUnits=1, provisionedModelName="pt", modelId=model, tags=[{"key": "pt", "value": "1"}]
    )["provisionedModelArn"]
    dep = c.create_custom_model_deployment(
        modelDeploymentName="od", modelArn=model, tags=[{"key": "od", "value": "1"}]
    )["customModelDeploymentArn"]
    for arn, key in ((job, "job"), (model, "model"), (pt, "pt"), (dep, "od")):
        assert c.list_tags_for_resource(resourceARN=arn)["tags"] == [{"key": key, "value": "1"}]
        c.tag_resource(resourceARN=arn, tags=[{"key": "extra", "value": "x"}])
        c.untag_resource(resourceARN=arn, tagKeys=[key])
        assert c.list_tags_for_resource(resourceARN=arn)["tags"] == [{"key": "extra", "value": "x"}]
    with pytest.raises(c.exceptions.ResourceNotFoundException):
        c.list_tags_for_resource(resourceARN=pt.replace(pt[-12:], "zzzzzzzzzzzz"))
    state = ok(server, "GET", "/state")["accounts"][0]
    assert state["provisioned_throughputs"][0]["tags"] == {"extra": "x"}


# ======================================================================== control endpoints


def test_control_settings_and_their_errors(local_bedrock):
    server = local_bedrock()
    assert ok(server, "GET", "/settings")["job_concurrency_quota"] == 2
    assert (
        ok(server, "POST", "/settings", {"throughput_seconds": None, "job_concurrency_quota": 5})["throughput_seconds"]
        is None
    )
    status, body = control(server, "POST", "/settings", {"job_seconds": -1})
    assert (
        status == 400 and body["error"] == "settings: job_seconds: is -1.0; allowed: a number of seconds >= 0, or null"
    )
    status, body = control(server, "POST", "/settings", {"jobseconds": 1})
    assert status == 400 and "jobseconds: unknown setting; allowed:" in body["error"]
    status, body = control(server, "POST", "/nope")
    assert status == 404 and "known: GET /_double/health" in body["error"]
    status, body = control(server, "POST", "/settings", b"{nope")
    assert status == 400 and "not valid JSON" in body["error"]
    health = ok(server, "GET", "/health")
    assert health["status"] == "ok" and health["operations"] == 133
    assert "CreateProvisionedModelThroughput" in health["implemented"]


def test_control_jobs_finish_outcome_and_status(local_bedrock):
    server = local_bedrock(job_seconds=50, throughput_seconds=None)
    c = http_client(server)
    for i in (1, 2):
        c.create_model_customization_job(**job_request(f"tailor-dev-ctl-{i}"))
    failed = ok(server, "POST", "/jobs/finish", {"job": "tailor-dev-ctl-1", "status": "Failed", "failure_message": "x"})
    assert (failed["status"], failed["failureMessage"]) == ("Failed", "x")
    status, body = control(server, "POST", "/jobs/finish", {"job": "tailor-dev-ctl-1"})
    assert status == 409 and "already Failed" in body["error"]
    status, body = control(server, "POST", "/jobs/finish", {"job": "nope"})
    assert status == 404 and "known: ['tailor-dev-ctl-1', 'tailor-dev-ctl-2']" in body["error"]
    status, body = control(server, "POST", "/jobs/finish", {"job": "tailor-dev-ctl-2", "status": "Done"})
    assert status == 400 and "allowed: Completed, Failed, Stopped" in body["error"]
    # A planned outcome: the next job named like "flaky" fails when its time is up
    ok(server, "POST", "/jobs/outcome", {"name_contains": "flaky", "status": "Failed", "failure_message": "OOM"})
    ok(server, "POST", "/jobs/finish", {"job": "tailor-dev-ctl-2", "status": "Stopped"})
    c.create_model_customization_job(**job_request("tailor-dev-flaky-1"))
    advance(server, 50)
    job = c.get_model_customization_job(jobIdentifier="tailor-dev-flaky-1")
    assert (job["status"], job["failureMessage"]) == ("Failed", "OOM")
    # Force a PT Failed
    pt = c.create_provisioned_model_throughput(
        modelUnits=1, provisionedModelName="pt", modelId=NOVA, commitmentDuration="OneMonth"
    )["provisionedModelArn"]
    view = ok(server, "POST", "/status", {"resource": "pt", "status": "Failed", "failure_message": "capacity"})
    assert (view["status"], view["failureMessage"]) == ("Failed", "capacity")
    assert c.get_provisioned_model_throughput(provisionedModelId=pt)["status"] == "Failed"
    status, body = control(server, "POST", "/status", {"resource": "pt", "status": "Active"})
    assert status == 400 and "allowed for a PT" in body["error"]


def test_control_faults_validation_and_clearing(local_bedrock):
    server = local_bedrock()
    status, body = control(server, "POST", "/faults", {"operation": "ListCustomModels", "code": "ThrottledException"})
    assert status == 400 and "'ThrottledException' is not an error of ListCustomModels" in body["error"]
    status, body = control(server, "POST", "/faults", {"operation": "NoSuchOp", "code": "ThrottlingException"})
    assert status == 400 and "no operation 'NoSuchOp'" in body["error"]
    fault = {"operation": "list_custom_models", "code": "ServiceUnavailableException", "times": 3}
    assert ok(server, "POST", "/faults", fault)["pending"][0]["operation"] == "ListCustomModels"
    assert ok(server, "DELETE", "/faults") == {"pending": []}
    http_client(server).list_custom_models()


def test_control_hold_keeps_a_throughput_and_a_deployment_stuck_in_creating(local_bedrock):
    # Given short delays, a model, and a hold on everything named like "stuck"
    server = local_bedrock(throughput_seconds=0.05, deployment_seconds=0.05, job_seconds=None)
    c = http_client(server)
    c.create_model_customization_job(**job_request("tailor-dev-hold-00000001"))
    model = ok(server, "POST", "/jobs/finish", {"job": "tailor-dev-hold-00000001"})["outputModelArn"]
    ok(server, "POST", "/holds", {"resource": "stuck"})
    pt = c.create_provisioned_model_throughput(modelUnits=1, provisionedModelName="pt-stuck", modelId=model)
    dep = c.create_custom_model_deployment(modelDeploymentName="od-stuck", modelArn=model)
    free = c.create_custom_model_deployment(modelDeploymentName="od-free", modelArn=model)
    # When an hour passes
    advance(server, 3600)

    # Then the held ones are still Creating (and cannot be deleted), the other is Active
    def pt_status() -> str:
        return c.get_provisioned_model_throughput(provisionedModelId=pt["provisionedModelArn"])["status"]

    def dep_status(arn: str) -> str:
        return c.get_custom_model_deployment(customModelDeploymentIdentifier=arn)["status"]

    assert (pt_status(), dep_status(dep["customModelDeploymentArn"])) == ("Creating", "Creating")
    assert dep_status(free["customModelDeploymentArn"]) == "Active"
    with pytest.raises(c.exceptions.ConflictException):
        c.delete_provisioned_model_throughput(provisionedModelId=pt["provisionedModelArn"])
    # When released / Then they settle at once
    assert ok(server, "DELETE", "/holds?resource=stuck") == {"holds": []}
    assert (pt_status(), dep_status(dep["customModelDeploymentArn"])) == ("InService", "Active")
    status, body = control(server, "POST", "/status", {"resource": "nothing", "status": "Failed"})
    assert status == 404 and body["error"] == "status: no provisioned throughput or deployment named 'nothing'"


def test_control_state_calls_events_and_reset(local_bedrock):
    server = local_bedrock(throughput_seconds=0)
    c = http_client(server)
    c.create_provisioned_model_throughput(
        modelUnits=1,
        provisionedModelName="pt",
        modelId=NOVA,
        commitmentDuration="OneMonth",
        tags=[{"key": "k", "value": "v"}],
    )
    with pytest.raises(c.exceptions.ResourceNotFoundException):
        c.get_custom_model(modelIdentifier="nope")
    state = ok(server, "GET", "/state")
    (account,) = state["accounts"]
    assert (account["account"], account["region"]) == (ACCOUNT, "us-east-1")
    assert account["provisioned_throughputs"][0]["status"] == "InService"
    assert state["billed"][0]["tags"] == {"k": "v"}
    log = calls(server)
    assert [(e["operation"], e["status"], e.get("error_code")) for e in log] == [
        ("CreateProvisionedModelThroughput", 201, None),
        ("GetCustomModel", 404, "ResourceNotFoundException"),
    ]
    assert log[0]["params"]["modelUnits"] == 1 and log[0]["response"]["provisionedModelArn"].startswith("arn:aws:")
    # The resource each call acted on, and its tags then: what an IAM evaluation of the call needs
    assert log[0]["resource_arn"] == log[0]["response"]["provisionedModelArn"] and log[0]["resource_tags"] is None
    c.get_provisioned_model_throughput(provisionedModelId="pt")
    named = calls(server)[-1]
    assert (named["resource_arn"], named["resource_tags"]) == (log[0]["resource_arn"], {"k": "v"})
    assert log[1]["resource_arn"] is None  # "nope" names nothing
    assert "not found" in log[1]["error_message"] and log[1]["time"].endswith("Z")
    assert ok(server, "GET", "/calls?since=1")[0]["operation"] == "GetCustomModel"
    assert [e["new"] for e in ok(server, "GET", "/events")] == ["Creating", "InService"]
    assert ok(server, "GET", "/state?account=999999999999")["accounts"] == []
    ok(server, "POST", "/reset")
    state = ok(server, "GET", "/state")
    assert (state["accounts"], state["billed"], state["requests"], state["events"]) == ([], [], 0, 0)


def test_job_state_changes_as_eventbridge_entries(local_bedrock):
    # Given a job that completes by time and one stopped
    server = local_bedrock(job_seconds=10, stop_seconds=1)
    c = http_client(server)
    arn = c.create_model_customization_job(**job_request("tailor-dev-ev-00000001"))["jobArn"]
    stopped = c.create_model_customization_job(**job_request("tailor-dev-ev-00000002"))["jobArn"]
    c.stop_model_customization_job(jobIdentifier=stopped)
    advance(server, 10)
    # When the harness reads them as PutEvents entries
    entries = ok(server, "GET", "/eventbridge")
    # Then one per job status change (never per stage), shaped as Bedrock's event (jobStatus, not status)
    seen = [
        (json.loads(e["entry"]["Detail"])["jobName"], json.loads(e["entry"]["Detail"])["jobStatus"]) for e in entries
    ]
    assert seen == [
        ("tailor-dev-ev-00000001", "InProgress"),
        ("tailor-dev-ev-00000002", "InProgress"),
        ("tailor-dev-ev-00000002", "Stopping"),
        ("tailor-dev-ev-00000002", "Stopped"),
        ("tailor-dev-ev-00000001", "Completed"),
    ]
    completed = entries[-1]["entry"]
    assert (completed["Source"], completed["DetailType"], completed["Resources"]) == (
        "aws.bedrock",
        "Model Customization Job State Change",
        [arn],
    )
    detail = json.loads(completed["Detail"])
    assert detail["outputModelArn"].startswith(f"arn:aws:bedrock:us-east-1:{ACCOUNT}:custom-model/")
    assert "status" not in detail and detail["endTime"].endswith("Z")
    # And ?since= pages on
    assert ok(server, "GET", f"/eventbridge?since={entries[-2]['seq']}") == [entries[-1]]


def test_control_clock(local_bedrock):
    server = local_bedrock()
    before = ok(server, "POST", "/clock", {"advance_seconds": 3600})
    assert before["clock_offset_seconds"] == 3600
    target = ok(server, "POST", "/clock", {"set": "2030-01-01T00:00:00Z"})["time"]
    assert target.startswith("2030-01-01T00:00:0")
    assert ok(server, "POST", "/clock", {"reset": True})["clock_offset_seconds"] == 0
    for body in ({"advance_seconds": -1}, {"set": "tomorrow"}, {}, {"when": 1}):
        status, payload = control(server, "POST", "/clock", body)
        assert status == 400 and payload["error"].startswith("clock")


# ======================================================================== accounts, Regions, concurrency


def test_account_from_the_access_key_and_region_from_the_credential_scope(local_bedrock):
    server = local_bedrock(throughput_seconds=0)
    west = http_client(server, region="us-west-2", access_key="AKIAEXAMPLEEXAMPLE")
    arn = west.create_provisioned_model_throughput(
        modelUnits=1,
        provisionedModelName="pt",
        modelId="meta.llama3-1-8b-instruct-v1:0:128k",
        commitmentDuration="OneMonth",
    )["provisionedModelArn"]
    assert arn.startswith("arn:aws:bedrock:us-west-2:000000000000:provisioned-model/")
    east = http_client(server)
    assert east.list_provisioned_model_throughputs()["provisionedModelSummaries"] == []
    assert sorted(server.local.doubles) == [("000000000000", "us-west-2"), (ACCOUNT, "us-east-1")]
    # Unsigned requests use the defaults
    status, _headers, body = raw(server, "GET", "/provisioned-model-throughputs")
    assert status == 200 and json.loads(body)["provisionedModelSummaries"] == []
    assert calls(server)[-1]["account"] == "000000000000" and calls(server)[-1]["region"] == "us-east-1"


def test_concurrent_requests_are_safe(local_bedrock):
    # Given one PT and eight clients in eight threads
    server = local_bedrock(throughput_seconds=0)
    clients = [http_client(server) for _ in range(8)]
    pt = clients[0].create_provisioned_model_throughput(
        modelUnits=1, provisionedModelName="pt", modelId=NOVA, commitmentDuration="OneMonth"
    )["provisionedModelArn"]
    failures: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for j in range(5):
                clients[i].tag_resource(resourceARN=pt, tags=[{"key": f"t{i}-{j}", "value": "v"}])
                clients[i].list_provisioned_model_throughputs()
            clients[i].create_provisioned_model_throughput(
                modelUnits=1, provisionedModelName=f"pt-{i}", modelId=NOVA, commitmentDuration="OneMonth"
            )
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    # Then every call succeeded and nothing was lost or duplicated
    assert failures == []
    assert len(clients[0].list_tags_for_resource(resourceARN=pt)["tags"]) == 40
    names = sorted(
        s["provisionedModelName"] for s in clients[0].list_provisioned_model_throughputs()["provisionedModelSummaries"]
    )
    assert names == sorted(["pt", *(f"pt-{i}" for i in range(8))])
    assert len(calls(server)) == 1 + 8 * 11 + 2


# ======================================================================== every operation routes


def test_every_operation_in_the_model_routes_to_itself_over_http(local_bedrock, no_backoff):
    # Given a sample request for each of the 133 operations, sent by a real client
    server = local_bedrock()
    c = http_client(server, attempts=1)
    implemented = {name for name in MODEL.operation_names if hasattr(BedrockDouble, f"_op_{name}")}
    for name in MODEL.operation_names:
        params = sample_params(MODEL.operation_model(name))
        try:
            getattr(c, xform_name(name))(**params)
        except ClientError as exc:
            error = exc.response
        else:
            error = None
        # Then the server saw that very operation: never a 404
        (entry,) = ok(server, "GET", f"/calls?since={len(server.local.log) - 1}")
        assert entry["operation"] == name, (name, entry)
        assert entry["status"] != 404 or entry["error_code"] == "ResourceNotFoundException", (name, entry)
        if name not in implemented:
            # and an operation the double lacks is a clear 501, not a silent success
            assert error is not None and error["Error"]["Code"] == "NotImplemented", (name, error)
            assert f"does not implement {name}" in error["Error"]["Message"]
        elif error is not None:
            modelled = {s.name for s in MODEL.operation_model(name).error_shapes}
            assert error["Error"]["Code"] in modelled, (name, error)
    double = server.local.doubles[(ACCOUNT, "us-east-1")]
    assert len(double.errors) == len(set(MODEL.operation_names) - implemented)
    double.errors.clear()


# ======================================================================== the harness's client


def test_the_control_client_steers_every_endpoint(local_bedrock, no_backoff):
    from rehearsal.control import Control, ControlRequestError

    # Given a server and the harness's client for it
    server = local_bedrock(job_seconds=10, throughput_seconds=5)
    bedrock = Control(server.url)
    assert bedrock.wait_ready()["status"] == "ok"
    c = http_client(server)
    # When the harness plans, injects and steers
    assert bedrock.settings(stop_seconds=1)["stop_seconds"] == 1
    bedrock.plan_job_outcome("doomed", "Failed", failure_message="bad data")
    bedrock.fault("ListCustomModels", "ThrottlingException", times=1)
    bedrock.hold("stuck")
    c.create_model_customization_job(**job_request("tailor-dev-doomed-1"))
    c.create_model_customization_job(**job_request("tailor-dev-fine-1"))
    bedrock.finish_job("tailor-dev-fine-1")
    bedrock.advance(10)
    c.list_custom_models()  # throttled once, then retried by botocore
    model = c.list_custom_models()["modelSummaries"][0]["modelArn"]
    c.create_provisioned_model_throughput(modelUnits=1, provisionedModelName="pt-stuck", modelId=model)
    bedrock.advance(60)
    # Then what it reads back is what happened
    jobs = {j["jobName"]: j["status"] for j in bedrock.state()["accounts"][0]["jobs"]}
    assert jobs == {"tailor-dev-doomed-1": "Failed", "tailor-dev-fine-1": "Completed"}
    assert [b["status"] for b in bedrock.billed()] == ["Creating"]
    bedrock.release()
    assert [b["status"] for b in bedrock.billed()] == ["InService"]
    assert bedrock.set_status("pt-stuck", "Failed")["status"] == "Failed"
    throttled = [e for e in bedrock.calls() if e["error_code"] == "ThrottlingException"]
    assert [e["operation"] for e in throttled] == ["ListCustomModels"]
    assert bedrock.events(since=len(bedrock.events()) - 1)[0]["new"] == "Failed"
    assert {json.loads(e["entry"]["Detail"])["jobStatus"] for e in bedrock.eventbridge()} == {
        "InProgress",
        "Completed",
        "Failed",
    }
    assert bedrock.set_time("2030-01-01T00:00:00Z")["time"].startswith("2030")
    assert bedrock.reset_clock()["clock_offset_seconds"] == 0
    bedrock.fault("ListCustomModels", "InternalServerException")
    assert bedrock.clear_faults() == {"pending": []}
    # And a refusal carries the server's reason
    with pytest.raises(ControlRequestError) as refused:
        bedrock.finish_job("nobody")
    assert refused.value.status == 404 and "no job named 'nobody'" in refused.value.message
    assert bedrock.reset()["status"] == "reset" and bedrock.billed() == []


def test_tailors_own_client_factory_reaches_it_through_aws_endpoint_url_bedrock(local_bedrock, monkeypatch):
    # Given a Lambda-like environment: the endpoint in AWS_ENDPOINT_URL_BEDROCK, the emulator's credentials
    from tailor import aws

    server = local_bedrock(throughput_seconds=0)
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK", server.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    aws.client.cache_clear()
    try:
        # When Tailor's factory makes its bedrock client (standard retries, its timeouts)
        bedrock = aws.client("bedrock")
        arn = bedrock.create_provisioned_model_throughput(
            modelUnits=1, provisionedModelName="pt", modelId=NOVA, commitmentDuration="OneMonth"
        )["provisionedModelArn"]
        # Then the local Bedrock answered it, for the default account and the environment's Region
        assert arn.startswith("arn:aws:bedrock:us-east-1:000000000000:provisioned-model/")
        assert bedrock.get_provisioned_model_throughput(provisionedModelId=arn)["status"] == "InService"
    finally:
        aws.client.cache_clear()  # no later test may inherit a client bound to this server
