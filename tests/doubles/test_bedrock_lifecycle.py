"""The double's time-driven lifecycles, transitions, holds, planned outcomes and quotas (in-process, FakeClock)."""

from __future__ import annotations

import datetime as dt

import pytest

from rehearsal.bedrock import BEDROCK_DEFAULT_QUOTAS, BedrockDouble, FakeClock, WireResponse
from rehearsal.clock import WallClock
from tests.doubles.conftest import ACCOUNT, make_client
from tests.doubles.test_bedrock_double import NOVA, job_request

SECOND = dt.timedelta(seconds=1)


def timed_double(clock: FakeClock, **options) -> tuple[BedrockDouble, object]:
    double = BedrockDouble(account=ACCOUNT, clock=clock, **options)
    return double, double.attach(make_client())


def stages(job: dict) -> dict[str, str]:
    return {name: detail["status"] for name, detail in job["statusDetails"].items()}


# ======================================================================== jobs by time


def test_job_walks_its_stages_and_completes_after_job_duration(clock):
    # Given jobs last 100 s: validation ends at 20 s, data processing at 40 s
    double, client = timed_double(clock, job_duration=100 * SECOND)
    start = clock()
    arn = client.create_model_customization_job(
        **job_request(validationDataConfig={"validators": [{"s3Uri": "s3://tailor-data/v.jsonl"}]})
    )["jobArn"]

    # When 19 s pass / Then still validating
    clock.advance(seconds=19)
    job = client.get_model_customization_job(jobIdentifier=arn)
    assert job["status"] == "InProgress"
    assert stages(job) == {
        "validationDetails": "InProgress",
        "dataProcessingDetails": "NotStarted",
        "trainingDetails": "NotStarted",
    }
    # When 21 s more pass / Then training, the stage changes stamped when they were due
    clock.advance(seconds=21)
    job = client.get_model_customization_job(jobIdentifier=arn)
    assert stages(job) == {
        "validationDetails": "Completed",
        "dataProcessingDetails": "Completed",
        "trainingDetails": "InProgress",
    }
    assert job["statusDetails"]["validationDetails"]["lastModifiedTime"] == start + 20 * SECOND
    assert job["statusDetails"]["trainingDetails"]["lastModifiedTime"] == start + 40 * SECOND
    # When the duration is over (seen much later) / Then Completed at exactly start + 100 s, with metrics and a model
    clock.advance(seconds=500)
    job = client.get_model_customization_job(jobIdentifier=arn)
    assert job["status"] == "Completed"
    assert job["endTime"] == start + 100 * SECOND
    assert job["trainingMetrics"] == {"trainingLoss": 0.1}
    assert job["validationMetrics"] == [{"validationLoss": 0.2}]
    model = client.get_custom_model(modelIdentifier=job["outputModelArn"])
    assert model["modelStatus"] == "Active"
    assert model["creationTime"] == start + 100 * SECOND
    assert model["trainingMetrics"] == {"trainingLoss": 0.1}


def test_without_job_duration_jobs_wait_for_finish_job(clock):
    # Given the default double (the tests' path)
    double, client = timed_double(clock)
    arn = client.create_model_customization_job(**job_request())["jobArn"]
    # When a year passes / Then the job is still InProgress until finish_job
    clock.advance(days=365)
    assert client.get_model_customization_job(jobIdentifier=arn)["status"] == "InProgress"
    double.finish_job(arn)
    assert client.get_model_customization_job(jobIdentifier=arn)["status"] == "Completed"


def test_planned_outcome_fails_the_matching_job_only(clock):
    # Given a planned failure for jobs named like "bad"
    double, client = timed_double(clock, job_duration=10 * SECOND)
    double.plan_job_outcome("bad", "Failed", failure_message="Input data is invalid: line 3")
    bad = client.create_model_customization_job(**job_request(jobName="tailor-bad-1", customModelName="m-bad"))
    good = client.create_model_customization_job(
        **job_request(jobName="tailor-good-1", customModelName="m-good", clientRequestToken="token-0002")
    )
    # When their time is up
    clock.advance(seconds=10)
    bad_job = client.get_model_customization_job(jobIdentifier=bad["jobArn"])
    good_job = client.get_model_customization_job(jobIdentifier=good["jobArn"])
    # Then only the planned one failed, with the message, and made no model; the plan was used up
    assert (bad_job["status"], bad_job["failureMessage"]) == ("Failed", "Input data is invalid: line 3")
    assert "outputModelArn" not in bad_job
    assert stages(bad_job)["trainingDetails"] == "Failed"
    assert good_job["status"] == "Completed"
    assert double.job_outcomes == []


def test_stop_then_stopped_after_stop_delay(clock):
    double, client = timed_double(clock, job_duration=100 * SECOND, stop_delay=5 * SECOND)
    arn = client.create_model_customization_job(**job_request())["jobArn"]
    clock.advance(seconds=3)
    client.stop_model_customization_job(jobIdentifier=arn)
    assert client.get_model_customization_job(jobIdentifier=arn)["status"] == "Stopping"
    # When past the stop delay and past the job duration / Then Stopped (time does not complete a stopped job)
    clock.advance(seconds=200)
    job = client.get_model_customization_job(jobIdentifier=arn)
    assert job["status"] == "Stopped"
    assert job["endTime"] == FakeClock.DEFAULT_START + 8 * SECOND


def test_hold_keeps_a_throughput_creating_until_released(clock):
    # Given PTs take 60 s and one named like "stuck" is held
    double, client = timed_double(clock, throughput_ready_delay=60 * SECOND)
    double.hold("stuck")
    stuck = client.create_provisioned_model_throughput(modelUnits=1, provisionedModelName="pt-stuck", modelId=NOVA)
    fine = client.create_provisioned_model_throughput(modelUnits=1, provisionedModelName="pt-fine", modelId=NOVA)
    # When an hour passes
    clock.advance(hours=1)
    # Then the held one is still Creating, the other InService
    get = client.get_provisioned_model_throughput
    assert get(provisionedModelId=stuck["provisionedModelArn"])["status"] == "Creating"
    assert get(provisionedModelId=fine["provisionedModelArn"])["status"] == "InService"
    # When released / Then it goes InService at once (its delay is long past)
    double.release("stuck")
    assert get(provisionedModelId=stuck["provisionedModelArn"])["status"] == "InService"


def test_transitions_record_the_timeline(clock):
    double, client = timed_double(clock, throughput_ready_delay=30 * SECOND)
    arn = client.create_provisioned_model_throughput(modelUnits=1, provisionedModelName="pt", modelId=NOVA)[
        "provisionedModelArn"
    ]
    clock.advance(seconds=45)
    client.delete_provisioned_model_throughput(provisionedModelId=arn)
    timeline = [(t.old, t.new, t.cause, t.time - FakeClock.DEFAULT_START) for t in double.transitions]
    assert timeline == [
        (None, "Creating", "CreateProvisionedModelThroughput", dt.timedelta(0)),
        ("Creating", "InService", "time", 30 * SECOND),
        ("InService", "Deleted", "DeleteProvisionedModelThroughput", 45 * SECOND),
    ]


def test_respond_returns_the_wire_response(clock):
    # Given the entry point the HTTP server uses
    double = BedrockDouble(account=ACCOUNT, clock=clock)
    # When a request is answered from parameters
    ok = double.respond("ListCustomModels", {})
    missing = double.respond("GetCustomModel", {"modelIdentifier": "nope"}, request_id="rid-1")
    # Then the same REST-JSON response before-send gives: status, error header, request id, JSON body
    assert isinstance(ok, WireResponse)
    assert (ok.status, ok.body) == (200, b'{"modelSummaries": []}')
    assert missing.status == 404
    assert missing.headers["x-amzn-ErrorType"] == "ResourceNotFoundException"
    assert missing.headers["x-amzn-RequestId"] == "rid-1"
    assert double.calls[-1].status == 404
    assert double.calls[-1].time == clock()


# ======================================================================== quotas


def test_bedrock_default_quotas_for_no_commitment_throughputs(clock):
    double, client = timed_double(clock, **BEDROCK_DEFAULT_QUOTAS)
    model = double.add_custom_model("tailor-model")
    create = client.create_provisioned_model_throughput
    # A base model needs a commitment
    with pytest.raises(client.exceptions.ValidationException, match="only for custom models"):
        create(modelUnits=1, provisionedModelName="base", modelId=NOVA)
    # One MU per no-commitment PT
    with pytest.raises(client.exceptions.ServiceQuotaExceededException, match="at most 1 model unit"):
        create(modelUnits=2, provisionedModelName="two-mu", modelId=model)
    # Two no-commitment PTs per account and Region
    create(modelUnits=1, provisionedModelName="pt-1", modelId=model)
    create(modelUnits=1, provisionedModelName="pt-2", modelId=model)
    with pytest.raises(client.exceptions.ServiceQuotaExceededException, match=r"quota of 2 .*\(pt-1, pt-2\)"):
        create(modelUnits=1, provisionedModelName="pt-3", modelId=model)
    # A commitment is outside those quotas (committed MUs are unlimited unless set)
    create(modelUnits=4, provisionedModelName="committed", modelId=NOVA, commitmentDuration="OneMonth")


def test_commitment_model_unit_quota(clock):
    double, client = timed_double(clock, commitment_model_unit_quota=0)
    with pytest.raises(client.exceptions.ServiceQuotaExceededException, match="AWS Support"):
        client.create_provisioned_model_throughput(
            modelUnits=1, provisionedModelName="c", modelId=NOVA, commitmentDuration="SixMonths"
        )


def test_concurrent_job_quota_frees_up_when_a_job_ends(clock):
    double, client = timed_double(clock, job_duration=60 * SECOND, job_concurrency_quota=2)
    for i in (1, 2):
        client.create_model_customization_job(
            **job_request(jobName=f"ft-{i}", customModelName=f"m-{i}", clientRequestToken=f"t-{i}")
        )
    third = job_request(jobName="ft-3", customModelName="m-3", clientRequestToken="t-3")
    with pytest.raises(client.exceptions.ServiceQuotaExceededException, match="quota of 2 concurrent"):
        client.create_model_customization_job(**third)
    clock.advance(seconds=60)
    client.create_model_customization_job(**third)


@pytest.mark.parametrize("code", ["ValidationException", "ConflictException"])
def test_commitment_delete_code_is_configurable(clock, code):
    double, client = timed_double(clock, commitment_delete_code=code)
    arn = client.create_provisioned_model_throughput(
        modelUnits=1, provisionedModelName="c", modelId=NOVA, commitmentDuration="OneMonth"
    )["provisionedModelArn"]
    double.settle()
    with pytest.raises(getattr(client.exceptions, code), match="cannot be deleted before the term ends"):
        client.delete_provisioned_model_throughput(provisionedModelId=arn)


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="commitment_delete_code"):
        BedrockDouble(commitment_delete_code="ThrottlingException")
    with pytest.raises(ValueError, match="job_stage_fractions"):
        BedrockDouble(job_stage_fractions=(0.5, 0.2))
    double = BedrockDouble()
    with pytest.raises(ValueError, match="times"):
        double.plan_job_outcome("x", "Failed", times=0)
    with pytest.raises(ValueError, match="status"):
        double.plan_job_outcome("x", "InProgress")


# ======================================================================== clocks


def test_wall_clock_follows_its_time_source_plus_an_offset():
    # Given a wall clock over a controlled time source
    now = [1_800_000_000.0]
    clock = WallClock(time_source=lambda: now[0])
    start = clock()
    assert start.tzinfo is not None and start.utcoffset() == dt.timedelta(0)
    # When real time passes, then the harness jumps an hour, then sets a time, then resets
    now[0] += 2.5
    assert clock() - start == dt.timedelta(seconds=2.5)
    clock.advance(hours=1)
    assert clock() - start == dt.timedelta(hours=1, seconds=2.5)
    target = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    assert clock.set(target) == target
    now[0] += 1
    assert clock() == target + SECOND
    clock.reset()
    assert clock.offset_seconds == 0 and clock() == start + dt.timedelta(seconds=3.5)
    with pytest.raises(ValueError, match="timezone-aware"):
        clock.set(dt.datetime(2030, 1, 1))
