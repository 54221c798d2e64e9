"""`tailor preview` and `tailor status` against moto (SSM) and the Bedrock double, from deployed states."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from tailor import naming, records
from tailor.jobs.preflight import check_datasets
from tailor.ops import preview, status
from tailor.plan.build import build_plan
from tailor.serving import resource as serving_resource
from tests.handlers.helpers import environment
from tests.handlers.serving.test_lifecycle import at, cfn

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _actions(changes):
    return {c["path"]: c["action"] for c in changes}


def _plan(env):
    return build_plan(env, check_datasets(env))


def test_nothing_deployed_starts_every_job_and_buys_every_serving(clients):
    env = environment("dev")
    changes = preview.preview(clients, env, _plan(env), now=NOW)
    assert {a for p, a in _actions(changes).items() if p.startswith("jobs.") and "serve" not in p} == {"START"}
    assert _actions(changes)["throughputs.micro-eval"] == "BUY"
    assert _actions(changes)["jobs.support-bot.serve"] == "BUY"


def test_each_change_kind_is_classified_from_what_is_deployed(clients):
    env = environment("dev")
    bot = env.jobs["support-bot"]
    put = lambda name, record: records.put(clients.ssm, name, record)  # noqa: E731
    # jobs: support-bot deployed as configured; support-distilled running under older settings; a removed job running
    put(naming.job_record_name("dev", "support-bot"), {"jobName": bot.name, "status": "Completed"})
    put(
        naming.job_record_name("dev", "support-distilled"),
        {
            "jobName": "tailor-dev-support-distilled-00000000",
            "status": "InProgress",
            "creationTime": "2026-11-25T09:30:00+00:00",
        },
    )
    put(naming.job_record_name("dev", "old-job"), {"jobName": "tailor-dev-old-job-1", "status": "InProgress"})
    # serving: micro-eval active with other hours; support-bot gone at its expiry with the same hours; a removed entry
    micro = env.throughputs["micro-eval"]
    put(
        naming.serving_record_name("dev", "micro-eval"),
        {
            "name": micro.name,
            "status": "active",
            "hours": 2,
            "createdAt": "2026-11-25T10:00:00Z",
            "expiresAt": "2026-11-25T12:00:00Z",
            "arn": "arn:pt",
        },
    )
    put(
        naming.serving_record_name("dev", "support-bot"),
        {
            "name": bot.serve.name,
            "status": "deleted",
            "hours": bot.serve.hours,
            "deletedAt": "2026-11-25T11:00:00Z",
            "deletedReason": "expired",
        },
    )
    put(naming.serving_record_name("dev", "gone-entry"), {"name": "x", "status": "active", "arn": "arn:old"})
    changes = preview.preview(clients, env, _plan(env), now=NOW)
    actions = _actions(changes)
    assert actions["jobs.support-bot"] == "UNCHANGED"
    assert actions["jobs.support-distilled"] == "REPLACE"
    replaced = next(c for c in changes if c["path"] == "jobs.support-distilled")
    assert "STOPS" in replaced["detail"] and "2 h 30 min" in replaced["detail"]
    assert actions["jobs.old-job"] == "DELETE" and actions["gone-entry"] == "DELETE"
    assert actions["throughputs.micro-eval"] == "EXTEND"  # 4 hours in the config, 2 deployed
    assert actions["jobs.support-bot.serve"] == "STAYS GONE"
    assert actions["jobs.docs-refresh"] == "START"
    assert "WARNING: 2 running job(s) will be stopped." in preview.render(changes, "dev")


def test_a_gone_serving_with_new_hours_is_revived_and_a_new_name_replaces(clients):
    env = environment("dev")
    bot = env.jobs["support-bot"]
    records.put(
        clients.ssm,
        naming.serving_record_name("dev", "support-bot"),
        {
            "name": bot.serve.name,
            "status": "deleted",
            "hours": 1,
            "deletedAt": "2026-11-25T11:00:00Z",
        },
    )
    records.put(
        clients.ssm, naming.serving_record_name("dev", "micro-eval"), {"name": "other", "status": "active", "arn": "a"}
    )
    actions = _actions(preview.preview(clients, env, _plan(env), now=NOW))
    assert actions["jobs.support-bot.serve"] == "REVIVE" and actions["throughputs.micro-eval"] == "REPLACE"


def test_status_shows_a_training_stage_losses_and_what_serving_costs(clients, wiring, bedrock_double):
    env = environment("dev")
    # a running job (in its first stage), a completed one, and a live throughput 1 hour old
    running = bedrock_double.client.create_model_customization_job(
        jobName="tailor-dev-docs-refresh-1",
        customModelName="tailor-dev-docs-refresh-1",
        roleArn="arn:aws:iam::123456789012:role/r",
        baseModelIdentifier="amazon.nova-micro-v1:0:128k",
        trainingDataConfig={"s3Uri": "s3://bucket-x/k.jsonl"},
        outputDataConfig={"s3Uri": "s3://bucket-x/o/"},
        clientRequestToken="t1",
    )["jobArn"]
    records.put(
        clients.ssm,
        naming.job_record_name("dev", "docs-refresh"),
        {
            "jobName": "tailor-dev-docs-refresh-1",
            "jobArn": running,
            "status": "InProgress",
        },
    )
    records.put(
        clients.ssm,
        naming.job_record_name("dev", "support-bot"),
        {
            "jobName": env.jobs["support-bot"].name,
            "status": "Completed",
            "trainingLoss": 0.1,
            "validationLoss": 0.2,
            "customModelArn": "arn:model",
        },
    )
    model = bedrock_double.add_custom_model("m")
    micro = replace(env.throughputs["micro-eval"], model=replace(env.throughputs["micro-eval"].model, value=model))
    spec = serving_resource.spec_for("dev", {}, micro)
    serving_resource.on_event(cfn("Create", spec), clients, wiring, now=at(bedrock_double))
    bedrock_double.settle()
    report = status.status(clients, env, now=at(bedrock_double, timedelta(hours=1)))
    jobs = {j["key"]: j for j in report["jobs"]}
    assert jobs["docs-refresh"]["status"] == "InProgress" and jobs["docs-refresh"]["stage"] == "validation"
    assert jobs["support-bot"]["training_loss"] == 0.1 and jobs["math-grader"]["status"] == "not deployed"
    servings = {s["key"]: s for s in report["servings"]}
    micro_state = servings["micro-eval"]
    assert micro_state["state"] == "InService" and micro_state["expires_in"] == "3 h 00 min"
    assert micro_state["spent_usd"] == 24.0 and micro_state["worst_left_usd"] == 72.0  # $24/MU-hour bound
    assert servings["support-bot"]["state"] == "not deployed"
    text = status.render(report)
    assert "micro-eval" in text and "validation" in text and "24.00~" in text
    assert text.endswith(f"Dashboard: {naming.dashboard_url('dev', env.region)}")


def test_a_job_whose_record_lags_its_end_is_not_said_to_be_stopped(clients, bedrock_double):
    # Given a record still saying InProgress for a job Bedrock has finished (its event not yet handled)
    env = environment("dev")
    arn = bedrock_double.client.create_model_customization_job(
        jobName="tailor-dev-support-bot-00000000",
        customModelName="tailor-dev-support-bot-00000000",
        roleArn="arn:aws:iam::123456789012:role/r",
        baseModelIdentifier="amazon.nova-micro-v1:0:128k",
        trainingDataConfig={"s3Uri": "s3://bucket-x/k.jsonl"},
        outputDataConfig={"s3Uri": "s3://bucket-x/o/"},
        clientRequestToken="t-lag",
    )["jobArn"]
    bedrock_double.finish_job(arn, "Completed")
    record = {"jobName": "tailor-dev-support-bot-00000000", "jobArn": arn, "status": "InProgress"}
    records.put(clients.ssm, naming.job_record_name("dev", "support-bot"), record)
    # When the next deploy is previewed
    changes = preview.preview(clients, env, _plan(env), now=NOW)
    # Then the replacement says the old job ended, and no stop is announced
    (change,) = [c for c in changes if c["path"] == "jobs.support-bot"]
    assert change["action"] == "REPLACE" and "STOPS" not in change["detail"] and "(Completed)" in change["detail"]
    assert "WARNING" not in preview.render(changes, "dev")
