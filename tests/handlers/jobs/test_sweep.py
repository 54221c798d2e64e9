"""The sweep's resource and its run-time steps against moto and the Bedrock double: the record it writes, the
decision made once, only the winner served, evaluations started, failed and cleaned up."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tailor import records
from tailor.jobs import queue, sweep_refresh
from tailor.jobs.resource import on_event
from tailor.jobs.spec import JobResourceError
from tailor.serving import job_serving
from tailor.serving import resource as serving_resource
from tests.handlers.helpers import DATA_BUCKET, OUTPUT_BUCKET
from tests.simulation.harness import cfn_event, put_results, stage_sweep_assets, sweep_environment, sweep_specs

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
RECORD = "/tailor/dev/jobs/support-bot"


def without_evaluation(data):
    del data["jobs"]["support-bot"]["sweep"]["evaluate"]


@pytest.fixture
def built(tmp_path):
    return lambda change=without_evaluation: sweep_specs(sweep_environment(tmp_path, change=change))


def deploy(clients, specs, *, serving_wiring=None):
    stage_sweep_assets(clients.s3, specs)
    ids = {
        s.job_name: on_event(cfn_event("Create", s), clients, now=lambda: NOW)["PhysicalResourceId"]
        for s in specs.trials
    }
    on_event(cfn_event("Create", specs.sweep), clients, now=lambda: NOW)
    if serving_wiring is not None and specs.serving is not None:
        serving_resource.on_event(
            {"RequestType": "Create", "RequestId": "r1", "ResourceProperties": {"Spec": specs.serving.to_json()}},
            clients,
            serving_wiring,
            now=NOW,
        )
    return ids


def finish_all(bedrock_double, clients, losses):
    """Each trial ends with its (training, validation) loss, or Failed for None; the queue moves between."""
    for _ in range(len(losses)):
        for job in list(bedrock_double.jobs.values()):
            if job.status == "InProgress":
                loss = losses[job.name]
                if loss is None:
                    bedrock_double.finish_job(job.arn, "Failed", failure_message="bad record")
                else:
                    bedrock_double.finish_job(job.arn, "Completed", training_loss=loss[0], validation_loss=loss[1])
        from tailor.jobs import completion

        completion.reconcile(clients, environment="dev", topic_arn=TOPIC, now=lambda: NOW)
        queue.advance(clients, "dev", now=lambda: NOW)


TOPIC = "arn:aws:sns:us-east-1:123456789012:tailor-dev"


@pytest.fixture
def topic(clients):
    clients.sns.create_topic(Name="tailor-dev")
    sent = []
    publish = clients.sns.publish

    def recording(**message):
        sent.append(message)
        return publish(**message)

    clients.sns.publish = recording
    return sent


def test_the_sweep_resource_writes_its_record_and_a_repeat_changes_nothing(clients, built):
    # Given the example's sweep (with its evaluation dataset, a local file shipped as an asset)
    specs = built(change=None)
    stage_sweep_assets(clients.s3, specs)
    # When its resource is created
    answer = on_event(cfn_event("Create", specs.sweep), clients, now=lambda: NOW)
    # Then the record lists its trials, pending, and how the winner is chosen
    record = records.get(clients.ssm, RECORD)
    assert answer["PhysicalResourceId"] == "tailor-dev-support-bot-sweep"
    assert (
        record["kind"] == "sweep" and record["status"] == "InProgress" and record["jobName"] == specs.sweep.sweep_name
    )
    assert [(t["index"], t["status"]) for t in record["trials"]] == [(i, "pending") for i in range(1, 7)]
    assert record["evaluation"]["metric"] == "Builtin.Accuracy" and record["evaluation"]["gate"]["betterThanBase"]
    # and the prompt dataset was copied to its content-addressed key
    key = record["evaluation"]["datasetUri"].split(f"s3://{DATA_BUCKET}/", 1)[1]
    assert clients.s3.head_object(Bucket=DATA_BUCKET, Key=key)["ContentLength"] > 0
    # When the same definition is deployed again (an unchanged config)
    version = clients.ssm.get_parameter(Name=RECORD)["Parameter"]["Version"]
    on_event(cfn_event("Update", specs.sweep, physical_id=answer["PhysicalResourceId"], old=specs.sweep), clients)
    # Then nothing was written
    assert clients.ssm.get_parameter(Name=RECORD)["Parameter"]["Version"] == version


def test_an_invalid_s3_prompt_dataset_fails_the_deploy_with_its_line(clients, tmp_path):
    # Given an evaluation reading prompts from S3, one of which has no reference answer
    clients.s3.create_bucket(Bucket="team-prompts")
    body = json.dumps({"prompt": "a?", "referenceResponse": "b"}) + "\n" + json.dumps({"prompt": "c?"}) + "\n"
    clients.s3.put_object(Bucket="team-prompts", Key="eval.jsonl", Body=body.encode())

    def from_s3(data):
        data["jobs"]["support-bot"]["sweep"]["evaluate"]["dataset"] = "s3://team-prompts/eval.jsonl"

    specs = sweep_specs(sweep_environment(tmp_path, change=from_s3))
    # When / Then
    with pytest.raises(JobResourceError) as raised:
        on_event(cfn_event("Create", specs.sweep), clients)
    assert "s3://team-prompts/eval.jsonl:2: needs a non-empty `referenceResponse`" in str(raised.value)
    assert records.get(clients.ssm, RECORD) is None


def test_the_winner_is_decided_once_announced_once_and_only_it_is_served(clients, bedrock_double, wiring, built, topic):
    # Given the sweep deployed with its serving pending, trials finishing with known losses, one failing
    specs = built()
    deploy(clients, specs, serving_wiring=wiring)
    names = [s.job_name for s in specs.trials]
    losses = {n: (0.3 - i * 0.01, 0.4 - i * 0.01) for i, n in enumerate(names)}
    losses[names[5]] = None  # the one that would have won fails
    # Before the trials end the sweep serves nothing
    assert job_serving.serve_completed(clients, wiring, now=NOW) == []
    finish_all(bedrock_double, clients, losses)
    # When completion's sweep step runs, twice (a duplicate delivery)
    first = sweep_refresh.refresh(clients, "dev", topic_arn=wiring.topic_arn, now=lambda: NOW)
    second = sweep_refresh.refresh(clients, "dev", topic_arn=wiring.topic_arn, now=lambda: NOW)
    # Then it was decided by the first pass only, for the lowest validation loss of the completed trials
    assert first == [("support-bot", "decided")] and second == [("support-bot", "unchanged")]
    record = records.get(clients.ssm, RECORD)
    assert record["winner"]["name"] == names[4] and record["validationLoss"] == pytest.approx(0.36)
    assert [m["Subject"] for m in topic if "sweep" in m["Subject"]] == ["Tailor dev: sweep support-bot chose trial 5"]
    # and serving starts for the winner's model only
    assert job_serving.serve_completed(clients, wiring, now=NOW) == ["support-bot"]
    (pt,) = bedrock_double.throughputs.values()
    winner_job = next(j for j in bedrock_double.jobs.values() if j.name == names[4])
    assert pt.model_arn == winner_job.output_model_arn
    # and the losers' models are deleted (the example's retention.custom_models: delete), the winner's kept
    assert [m.arn for m in bedrock_double.custom_models.values()] == [winner_job.output_model_arn]


def test_a_trial_record_is_not_announced_on_its_own(clients, bedrock_double, built, topic):
    from tailor.jobs import completion

    specs = built()
    deploy(clients, specs)
    job = next(iter(bedrock_double.jobs.values()))
    bedrock_double.finish_job(job.arn, "Completed")
    outcomes = completion.reconcile(clients, environment="dev", topic_arn=TOPIC, now=lambda: NOW)
    assert [o.status for o in outcomes if o.action == "recorded"] == ["Completed"] and topic == []


def test_deleting_the_sweep_removes_its_record_but_never_a_plain_jobs_that_replaced_it(clients, built):
    specs = built()
    stage_sweep_assets(clients.s3, specs)
    on_event(cfn_event("Create", specs.sweep), clients)
    # Given the sweep block removed: the plain job's resource has written its record at the same path
    records.put(
        clients.ssm,
        RECORD,
        {"jobKey": "support-bot", "jobName": "tailor-dev-support-bot-plain000", "status": "InProgress"},
    )
    on_event(cfn_event("Delete", specs.sweep, physical_id="tailor-dev-support-bot-sweep"), clients)
    assert records.get(clients.ssm, RECORD)["jobName"] == "tailor-dev-support-bot-plain000"
    # and a sweep record is removed with its resource
    on_event(cfn_event("Create", specs.sweep), clients)
    on_event(cfn_event("Delete", specs.sweep, physical_id="tailor-dev-support-bot-sweep"), clients)
    assert records.get(clients.ssm, RECORD) is None


@pytest.fixture
def evaluating(clients, bedrock_double, wiring, built):
    """The example's sweep with every trial completed: its two best are ready to be evaluated."""
    bedrock_double.clock.set(NOW)  # one clock for the double and the handlers: expiries are counted on it
    bedrock_double.evaluation_results = put_results(clients.s3)
    specs = built(change=None)
    deploy(clients, specs)
    names = [s.job_name for s in specs.trials]
    # Losses the double turns into scores above its base model's 0.5 (score = 1 - 2 x validation loss)
    finish_all(bedrock_double, clients, {n: (0.08 - i * 0.005, 0.12 - i * 0.01) for i, n in enumerate(names)})
    assert sweep_refresh.refresh(clients, "dev", topic_arn=wiring.topic_arn, now=lambda: NOW) == [
        ("support-bot", "evaluating")
    ]
    return specs, names


def step(clients, wiring, minutes=0):
    """One completion pass's evaluation step, `minutes` after the trials ended (the double's clock moves too)."""
    clients.bedrock._tailor_bedrock_double[0].clock.set(NOW + timedelta(minutes=minutes))
    return job_serving.evaluate_sweeps(clients, wiring, now=NOW + timedelta(minutes=minutes))


def test_the_best_two_get_a_throughput_each_then_an_evaluation_and_the_base_model_one(
    clients, bedrock_double, wiring, evaluating
):
    specs, names = evaluating
    record = records.get(clients.ssm, RECORD)
    assert record["candidates"] == [names[5], names[4]]
    # When the first evaluation pass runs: two throughputs (Creating) and the base model's evaluation
    assert step(clients, wiring) == []
    record = records.get(clients.ssm, RECORD)
    assert {k: v["status"] for k, v in record["evaluations"].items()} == {
        names[5]: "serving",
        names[4]: "serving",
        "base": "evaluating",
    }
    assert len(bedrock_double.throughputs) == 2
    (base,) = bedrock_double.evaluations.values()
    assert base.model_identifier == "amazon.nova-micro-v1:0"
    # Then once the throughputs are InService, each gets its evaluation on its own provisioned-model ARN
    bedrock_double.settle()
    step(clients, wiring, 15)
    evaluated = {e.model_identifier for e in bedrock_double.evaluations.values()}
    assert evaluated == {"amazon.nova-micro-v1:0", *bedrock_double.throughputs}
    # and when they all finish, the scores decide: the throughputs are retired, the winner chosen once
    for job in list(bedrock_double.evaluations.values()):
        bedrock_double.finish_evaluation(job.arn)
    assert step(clients, wiring, 45) == ["support-bot"]
    record = records.get(clients.ssm, RECORD)
    assert record["status"] == "Completed" and record["gatePassed"] is True
    assert all(v["status"] == "scored" for v in record["evaluations"].values())
    assert bedrock_double.throughputs == {}
    assert step(clients, wiring, 50) == []


def test_a_failed_throughput_fails_only_its_own_evaluation(clients, bedrock_double, wiring, evaluating):
    specs, names = evaluating
    step(clients, wiring)
    failed_pt = next(p for p in bedrock_double.throughputs.values())
    bedrock_double.set_throughput_status(failed_pt.arn, "Failed", "capacity")
    bedrock_double.settle()
    step(clients, wiring, 15)
    for job in list(bedrock_double.evaluations.values()):
        bedrock_double.finish_evaluation(job.arn)
    step(clients, wiring, 45)
    record = records.get(clients.ssm, RECORD)
    failed = [k for k, v in record["evaluations"].items() if v["status"] == "failed"]
    assert len(failed) == 1 and "its throughput failed: capacity" in record["evaluations"][failed[0]]["error"]
    assert record["status"] == "Completed" and "not scored" in record["decision"]


def test_an_evaluation_waiting_too_long_for_a_throughput_fails_instead_of_hanging(
    clients, bedrock_double, wiring, evaluating
):
    # Given no throughput can be bought (the account's quota is spent)
    bedrock_double.no_commitment_throughput_quota = 0
    step(clients, wiring)
    record = records.get(clients.ssm, RECORD)
    assert "ServiceQuotaExceededException" in record["evaluations"][record["candidates"][0]]["note"]
    # When longer than the evaluation's hours has passed
    (base,) = bedrock_double.evaluations.values()
    bedrock_double.finish_evaluation(base.arn)
    step(clients, wiring, 3 * 60)
    # Then both candidates failed with why, and the sweep ends with nothing served
    record = records.get(clients.ssm, RECORD)
    assert record["status"] == "Failed" and "no candidate could be evaluated" in record["failureMessage"]
    assert "no throughput within 2 h" in record["evaluations"][record["candidates"][0]]["error"]


def test_deleting_the_sweep_during_its_evaluation_stops_it_and_deletes_its_throughputs(
    clients, bedrock_double, wiring, evaluating
):
    specs, _ = evaluating
    step(clients, wiring)
    bedrock_double.settle()
    step(clients, wiring, 15)
    assert len(bedrock_double.throughputs) == 2 and len(bedrock_double.evaluations) == 3
    on_event(cfn_event("Delete", specs.sweep, physical_id="tailor-dev-support-bot-sweep"), clients)
    assert bedrock_double.throughputs == {}
    assert {e.status for e in bedrock_double.evaluations.values()} == {"Stopping"}
    assert records.get(clients.ssm, RECORD) is None


def test_the_results_are_read_from_the_output_bucket(clients, bedrock_double, wiring, evaluating):
    step(clients, wiring)
    bedrock_double.settle()
    step(clients, wiring, 15)
    for job in list(bedrock_double.evaluations.values()):
        bedrock_double.finish_evaluation(
            job.arn, scores={"Builtin.Accuracy": 0.61 if job.model_identifier.startswith("arn") else 0.4}
        )
    step(clients, wiring, 45)
    listed = clients.s3.list_objects_v2(Bucket=OUTPUT_BUCKET, Prefix="evaluations/dev/support-bot/")["KeyCount"]
    record = records.get(clients.ssm, RECORD)
    assert listed == 3 and record["evaluations"]["base"]["score"] == pytest.approx(0.4)
    assert record["winner"]["score"] == pytest.approx(0.61)
