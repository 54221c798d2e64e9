"""Serving custom resource, teardown and reconciler.

Against moto (SSM, SNS, SQS, Scheduler, CloudWatch) and the Bedrock double.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tailor import naming, records
from tailor.observability import RecordingSink
from tailor.serving import reconciler
from tailor.serving import resource as serving_resource
from tailor.serving import teardown as serving
from tailor.serving.lifecycle import ServingError
from tailor.serving.model import TAG_EXPIRES_AT, format_time
from tests.handlers.helpers import environment

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
POLICY = reconciler.SweepPolicy(warn_before_minutes=30, unmanaged="report", dry_run=False, max_hours=8)


@pytest.fixture
def model(bedrock_double):
    at(bedrock_double)
    return bedrock_double.add_custom_model("support-bot-model")


def at(double, delta: timedelta = timedelta()) -> datetime:
    """Moves the one clock the double and the handlers share."""
    return double.clock.set(T0 + delta)


def throughput_spec(model_arn: str, **changes) -> serving_resource.ServingSpec:
    env = environment("dev")
    entry = replace(env.throughputs["micro-eval"], model=replace(env.throughputs["micro-eval"].model, value=model_arn))
    return replace(serving_resource.spec_for("dev", {"team": "ml"}, entry), **changes)


def cfn(kind: str, spec, *, old=None, physical_id=None, request_id="req-1") -> dict:
    event = {"RequestType": kind, "RequestId": request_id, "ResourceProperties": {"Spec": spec.to_json()}}
    if old is not None:
        event["OldResourceProperties"] = {"Spec": old.to_json()}
    if physical_id is not None:
        event["PhysicalResourceId"] = physical_id
    return event


def schedules(clients, group="tailor-dev"):
    return [
        clients.scheduler.get_schedule(Name=s["Name"], GroupName=group)
        for s in clients.scheduler.list_schedules(GroupName=group)["Schedules"]
    ]


def test_given_a_throughput_entry_when_created_then_pt_is_tagged_scheduled_recorded_and_announced(
    clients, wiring, bedrock_double, model
):
    spec = throughput_spec(model)
    result = serving_resource.on_event(cfn("Create", spec), clients, wiring, now=at(bedrock_double))
    arn = result["Data"]["Arn"]
    assert result["PhysicalResourceId"] == spec.name and result["Data"]["ExpiresAt"] == "2026-11-25T13:00:00Z"
    pt = bedrock_double.throughputs[arn]
    assert pt.request["modelUnits"] == 1 and "commitmentDuration" not in pt.request
    assert bedrock_double.tags[arn] == {
        "managed-by": "tailor",
        "environment": "dev",
        "tailor-serving": "micro-eval",
        "expires-at": "2026-11-25T13:00:00Z",
        "team": "ml",
    }
    [schedule] = schedules(clients)
    assert schedule["ScheduleExpression"] == "at(2026-11-25T12:59:00)" and schedule["ActionAfterCompletion"] == "DELETE"
    assert (
        schedule["Target"]["DeadLetterConfig"]["Arn"] == wiring.dead_letter_queue_arn
        and schedule["Target"]["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    )
    assert json.loads(schedule["Target"]["Input"]) == {
        "tailor": "teardown",
        "environment": "dev",
        "arn": arn,
        "expiresAt": "2026-11-25T13:00:00Z",
    }
    assert records.get(clients.ssm, spec.record_name)["status"] == "active"


def test_given_a_redelivered_create_then_the_first_pt_is_adopted_not_doubled(clients, wiring, bedrock_double, model):
    spec = throughput_spec(model)
    first = serving_resource.on_event(cfn("Create", spec), clients, wiring, now=at(bedrock_double))
    again = serving_resource.on_event(
        cfn("Create", spec), clients, wiring, now=at(bedrock_double, timedelta(minutes=3))
    )
    assert (
        first["Data"]["Arn"] == again["Data"]["Arn"]
        and len(bedrock_double.throughputs) == 1
        and len(schedules(clients)) == 1
    )
    assert again["Data"]["ExpiresAt"] == first["Data"]["ExpiresAt"]  # adoption keeps the original expiry


def test_given_a_same_named_pt_not_ours_then_create_refuses_with_one_line(clients, wiring, bedrock_double, model):
    spec = throughput_spec(model)
    bedrock_double.client.create_provisioned_model_throughput(
        modelUnits=1, provisionedModelName=spec.name, modelId=model, clientRequestToken="someone-else"
    )
    with pytest.raises(
        ServingError,
        match=(
            r"^dev/micro-eval: a Provisioned Throughput named tailor-dev-micro-eval-\w+ "
            r"exists but Tailor did not create it"
        ),
    ):
        serving_resource.on_event(cfn("Create", spec), clients, wiring, now=at(bedrock_double))


def test_is_complete_waits_for_in_service_then_reports_pending_state_after_the_bound(
    clients, wiring, bedrock_double, model
):
    spec = throughput_spec(model)
    created = serving_resource.on_event(cfn("Create", spec), clients, wiring, now=at(bedrock_double))
    poll = {**cfn("Create", spec), "PhysicalResourceId": spec.name, "Data": created["Data"]}
    assert serving_resource.is_complete(poll, clients, wiring, now=at(bedrock_double, timedelta(minutes=1))) == {
        "IsComplete": False
    }
    late = serving_resource.is_complete(poll, clients, wiring, now=at(bedrock_double, timedelta(minutes=21)))
    assert late["IsComplete"] and late["Data"]["Status"] == "Creating"
    bedrock_double.settle()
    assert (
        serving_resource.is_complete(poll, clients, wiring, now=at(bedrock_double, timedelta(minutes=2)))["Data"][
            "Status"
        ]
        == "InService"
    )


def test_hours_change_moves_the_expiry_in_place_and_replaces_the_schedule(clients, wiring, bedrock_double, model):
    spec = throughput_spec(model)
    arn = serving_resource.on_event(cfn("Create", spec), clients, wiring, now=at(bedrock_double))["Data"]["Arn"]
    bedrock_double.settle()
    longer = replace(spec, hours=6)
    result = serving_resource.on_event(
        cfn("Update", longer, old=spec, physical_id=spec.name, request_id="req-2"),
        clients,
        wiring,
        now=at(bedrock_double, timedelta(hours=1)),
    )
    assert result["PhysicalResourceId"] == spec.name and result["Data"]["Arn"] == arn
    assert bedrock_double.tags[arn][TAG_EXPIRES_AT] == "2026-11-25T15:00:00Z"
    assert [s["ScheduleExpression"] for s in schedules(clients)] == ["at(2026-11-25T14:59:00)"]


def test_hours_shortened_into_the_past_tears_down_now(clients, wiring, bedrock_double, model):
    spec = throughput_spec(model)
    arn = serving_resource.on_event(cfn("Create", spec), clients, wiring, now=at(bedrock_double))["Data"]["Arn"]
    bedrock_double.settle()
    shorter = replace(spec, hours=1)
    serving_resource.on_event(
        cfn("Update", shorter, old=spec, physical_id=spec.name, request_id="req-2"),
        clients,
        wiring,
        now=at(bedrock_double, timedelta(hours=2)),
    )
    assert arn not in bedrock_double.throughputs and schedules(clients) == []


def test_expired_serving_stays_gone_on_an_unchanged_deploy_and_returns_with_new_hours(
    clients, wiring, bedrock_double, model
):
    spec = throughput_spec(model)
    arn = serving_resource.on_event(cfn("Create", spec), clients, wiring, now=at(bedrock_double))["Data"]["Arn"]
    bedrock_double.settle()
    assert (
        serving.teardown(clients, wiring, arn, now=at(bedrock_double, timedelta(hours=4)), reason="expired").action
        == "deleted"
    )
    tags_only = replace(spec, tags={"team": "ml", "x": "y"})
    serving_resource.on_event(
        cfn("Update", tags_only, old=spec, physical_id=spec.name, request_id="req-2"),
        clients,
        wiring,
        now=at(bedrock_double, timedelta(hours=5)),
    )
    assert bedrock_double.throughputs == {}
    back = serving_resource.on_event(
        cfn("Update", replace(spec, hours=2), old=spec, physical_id=spec.name, request_id="req-3"),
        clients,
        wiring,
        now=at(bedrock_double, timedelta(hours=6)),
    )
    assert (
        back["Data"]["Arn"] != arn
        and back["Data"]["ExpiresAt"] == "2026-11-25T17:00:00Z"
        and len(bedrock_double.throughputs) == 1
    )


def test_delete_removes_pt_schedule_and_record_and_counts_missing_as_success(clients, wiring, bedrock_double, model):
    spec = throughput_spec(model)
    arn = serving_resource.on_event(cfn("Create", spec), clients, wiring, now=at(bedrock_double))["Data"]["Arn"]
    delete = cfn("Delete", spec, physical_id=spec.name)
    serving_resource.on_event(
        delete, clients, wiring, now=at(bedrock_double, timedelta(minutes=2))
    )  # still Creating: deferred
    assert arn in bedrock_double.throughputs
    assert serving_resource.is_complete(delete, clients, wiring, now=at(bedrock_double, timedelta(minutes=3))) == {
        "IsComplete": False
    }
    bedrock_double.settle()
    assert serving_resource.is_complete(delete, clients, wiring, now=at(bedrock_double, timedelta(minutes=4))) == {
        "IsComplete": True
    }
    assert (
        bedrock_double.throughputs == {}
        and schedules(clients) == []
        and records.get(clients.ssm, spec.record_name)["status"] == "removed"
    )
    assert serving_resource.on_event(delete, clients, wiring, now=at(bedrock_double, timedelta(hours=1))) == {
        "PhysicalResourceId": spec.name
    }


def test_a_late_schedule_for_an_extended_expiry_deletes_nothing(clients, wiring, bedrock_double, model):
    spec = throughput_spec(model)
    arn = serving_resource.on_event(cfn("Create", spec), clients, wiring, now=at(bedrock_double))["Data"]["Arn"]
    bedrock_double.settle()
    serving_resource.on_event(
        cfn("Update", replace(spec, hours=8), old=spec, physical_id=spec.name, request_id="req-2"),
        clients,
        wiring,
        now=at(bedrock_double, timedelta(hours=1)),
    )
    outcome = serving.teardown(
        clients, wiring, arn, now=at(bedrock_double, timedelta(hours=4, minutes=1)), reason="old schedule replayed"
    )
    assert outcome.action == "not-due" and arn in bedrock_double.throughputs


def test_job_serving_is_pending_until_completion_then_created_once(clients, wiring, bedrock_double):
    from tailor.serving import job_serving

    env = environment("dev")
    spec = serving_resource.spec_for("dev", {}, env.jobs["support-bot"].serve)
    result = serving_resource.on_event(cfn("Create", spec), clients, wiring, now=at(bedrock_double))
    assert result["Data"]["Status"] == "pending" and bedrock_double.throughputs == {}
    model = bedrock_double.add_custom_model("tuned")
    job_record = naming.job_record_name("dev", "support-bot")
    records.put(
        clients.ssm,
        job_record,
        {
            "jobKey": "support-bot",
            "jobArn": "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/x/abcdefghijkl",
            "status": "Completed",
            "customModelArn": model,
        },
    )
    assert job_serving.serve_completed(clients, wiring, now=at(bedrock_double, timedelta(hours=3))) == ["support-bot"]
    assert job_serving.serve_completed(clients, wiring, now=at(bedrock_double, timedelta(hours=3, minutes=5))) == []
    [pt] = bedrock_double.throughputs.values()
    assert pt.model_arn == model and bedrock_double.tags[pt.arn][TAG_EXPIRES_AT] == "2026-11-25T14:00:00Z"
    recorded = records.get(clients.ssm, job_record)
    assert (recorded["servingArn"], recorded["servingExpiresAt"], recorded["status"]) == (
        pt.arn,
        "2026-11-25T14:00:00Z",
        "Completed",
    )


def test_sweep_deletes_expired_warns_once_and_reports_unmanaged_and_committed(clients, wiring, bedrock_double, model):
    spec = throughput_spec(model)
    arn = serving_resource.on_event(cfn("Create", spec), clients, wiring, now=at(bedrock_double))["Data"]["Arn"]
    other = bedrock_double.client.create_provisioned_model_throughput(
        modelUnits=1, provisionedModelName="hand-made", modelId=model, clientRequestToken="hand-made"
    )["provisionedModelArn"]
    bought = bedrock_double.client.create_provisioned_model_throughput(
        modelUnits=1,
        provisionedModelName="bought",
        modelId=model,
        clientRequestToken="bought",
        commitmentDuration="OneMonth",
    )["provisionedModelArn"]
    bedrock_double.settle()
    warn = reconciler.sweep(
        clients, wiring, POLICY, metrics=RecordingSink(), now=at(bedrock_double, timedelta(hours=3, minutes=31))
    )
    again = reconciler.sweep(
        clients, wiring, POLICY, metrics=RecordingSink(), now=at(bedrock_double, timedelta(hours=3, minutes=36))
    )
    assert warn.warned == [arn] and again.warned == []
    assert set(warn.unmanaged) == {other, bought} and [a for a, _ in warn.committed] == [bought]
    sink = RecordingSink()
    gone = reconciler.sweep(clients, wiring, POLICY, metrics=sink, now=at(bedrock_double, timedelta(hours=4)))
    assert gone.deleted == [arn] and gone.past_expiry == [] and set(bedrock_double.throughputs) == {other, bought}
    assert sink.values()["ServingDeleted"] == 1 and sink.values()["ManagedServing"] == 1


def test_sweep_in_dry_run_deletes_nothing_and_counts_past_expiry(clients, wiring, bedrock_double, model):
    spec = throughput_spec(model)
    arn = serving_resource.on_event(cfn("Create", spec), clients, wiring, now=at(bedrock_double))["Data"]["Arn"]
    bedrock_double.settle()
    report = reconciler.sweep(
        clients,
        wiring,
        replace(POLICY, dry_run=True, unmanaged="delete"),
        metrics=RecordingSink(),
        now=at(bedrock_double, timedelta(hours=5)),
    )
    assert report.would_delete == [arn] and report.past_expiry == [arn] and arn in bedrock_double.throughputs
    assert not bedrock_double.calls_to("DeleteProvisionedModelThroughput")


def test_sweep_gives_a_managed_pt_without_expiry_the_policy_maximum(clients, wiring, bedrock_double, model):
    spec = throughput_spec(model)
    arn = serving_resource.on_event(cfn("Create", spec), clients, wiring, now=at(bedrock_double))["Data"]["Arn"]
    bedrock_double.settle()
    bedrock_double.client.untag_resource(resourceARN=arn, tagKeys=[TAG_EXPIRES_AT])
    report = reconciler.sweep(
        clients, wiring, POLICY, metrics=RecordingSink(), now=at(bedrock_double, timedelta(hours=1))
    )
    assert report.expiry_assigned == [arn] and bedrock_double.tags[arn][TAG_EXPIRES_AT] == format_time(
        T0 + timedelta(hours=8)
    )


# Regressions found in review: each names the fault and what must hold.


def test_a_start_that_fails_after_buying_expires_the_pt_at_once_for_the_next_sweep(
    clients, wiring, bedrock_double, model, monkeypatch
):
    spec = throughput_spec(model)
    monkeypatch.setattr(clients.sns, "publish", lambda **_: (_ for _ in ()).throw(RuntimeError("SNS down")))
    with pytest.raises(RuntimeError):
        serving_resource.on_event(cfn("Create", spec), clients, wiring, now=at(bedrock_double))
    [pt] = bedrock_double.throughputs.values()
    assert bedrock_double.tags[pt.arn][TAG_EXPIRES_AT] == "2026-11-25T09:00:00Z"
    monkeypatch.undo()
    bedrock_double.settle()
    assert reconciler.sweep(
        clients, wiring, POLICY, metrics=RecordingSink(), now=at(bedrock_double, timedelta(minutes=5))
    ).deleted == [pt.arn]


def test_adopting_after_a_failed_start_applies_the_new_hours(clients, wiring, bedrock_double, model):
    spec = throughput_spec(model)
    serving_resource.on_event(cfn("Create", spec), clients, wiring, now=at(bedrock_double))
    again = serving_resource.on_event(
        cfn("Create", replace(spec, hours=1), request_id="req-2"),
        clients,
        wiring,
        now=at(bedrock_double, timedelta(minutes=2)),
    )
    assert again["Data"]["ExpiresAt"] == "2026-11-25T10:00:00Z"
    assert [s["ScheduleExpression"] for s in schedules(clients)] == ["at(2026-11-25T09:59:00)"]


def test_unmanaged_delete_never_takes_a_managed_pt_whose_tags_were_unreadable_in_the_list(
    clients, wiring, bedrock_double, model
):
    spec = throughput_spec(model)
    arn = serving_resource.on_event(cfn("Create", spec), clients, wiring, now=at(bedrock_double))["Data"]["Arn"]
    bedrock_double.settle()
    outcome = serving.teardown(
        clients, wiring, arn, now=at(bedrock_double, timedelta(hours=1)), reason="unmanaged", force=True, unmanaged=True
    )
    assert outcome.action == "not-managed" and arn in bedrock_double.throughputs


def test_a_delete_replayed_from_a_deleted_stack_leaves_the_new_stacks_pt(clients, wiring, bedrock_double, model):
    spec = throughput_spec(model)
    old_stack, new_stack = (
        "arn:aws:cloudformation:us-east-1:123456789012:stack/Tailor-dev-Jobs/old",
        "arn:aws:cloudformation:us-east-1:123456789012:stack/Tailor-dev-Jobs/new",
    )
    first = {**cfn("Create", spec), "StackId": old_stack}
    serving_resource.on_event(first, clients, wiring, now=at(bedrock_double))
    bedrock_double.settle()
    delete = {**cfn("Delete", spec, physical_id=spec.name), "StackId": old_stack}
    serving_resource.on_event(delete, clients, wiring, now=at(bedrock_double, timedelta(minutes=5)))
    arn = serving_resource.on_event(
        {**cfn("Create", spec, request_id="req-new"), "StackId": new_stack},
        clients,
        wiring,
        now=at(bedrock_double, timedelta(minutes=10)),
    )["Data"]["Arn"]
    bedrock_double.settle()
    serving_resource.on_event(
        delete, clients, wiring, now=at(bedrock_double, timedelta(hours=2))
    )  # the old stack's Delete, replayed late
    assert arn in bedrock_double.throughputs and records.get(clients.ssm, spec.record_name)["arn"] == arn
    assert (
        serving_resource.is_complete(delete, clients, wiring, now=at(bedrock_double, timedelta(hours=2)))
        == {"IsComplete": True}
        and arn in bedrock_double.throughputs
    )


def test_a_delete_whose_name_differs_never_creates_anything(clients, wiring, bedrock_double, model):
    spec = throughput_spec(model)
    assert serving_resource.on_event(
        cfn("Delete", spec, physical_id="tailor-dev-micro-eval-00000000"), clients, wiring, now=at(bedrock_double)
    ) == {"PhysicalResourceId": "tailor-dev-micro-eval-00000000"}
    assert bedrock_double.throughputs == {}


def test_serving_deleted_outside_tailor_comes_back_with_new_hours(clients, wiring, bedrock_double, model):
    spec = throughput_spec(model)
    arn = serving_resource.on_event(cfn("Create", spec), clients, wiring, now=at(bedrock_double))["Data"]["Arn"]
    bedrock_double.settle()
    bedrock_double.client.delete_provisioned_model_throughput(provisionedModelId=arn)
    back = serving_resource.on_event(
        cfn("Update", replace(spec, hours=2), old=spec, physical_id=spec.name, request_id="req-2"),
        clients,
        wiring,
        now=at(bedrock_double, timedelta(hours=1)),
    )
    assert back["Data"]["Arn"] not in ("", arn) and back["Data"]["ExpiresAt"] == "2026-11-25T12:00:00Z"


def test_a_committed_pt_without_a_known_term_end_is_reported_never_deleted(clients, wiring, bedrock_double, model):
    from tailor.serving.model import COMMITMENT_TERM, managed_tags

    arn = bedrock_double.client.create_provisioned_model_throughput(
        modelUnits=1,
        provisionedModelName="committed",
        modelId=model,
        clientRequestToken="committed",
        commitmentDuration="OneMonth",
        tags=managed_tags("dev", "committed", COMMITMENT_TERM, {}),
    )["provisionedModelArn"]
    bedrock_double.throughputs[arn].commitment_expiration_time = None  # not yet shown while Creating (UNCONFIRMED)
    bedrock_double.settle()
    report = reconciler.sweep(
        clients, wiring, POLICY, metrics=RecordingSink(), now=at(bedrock_double, timedelta(days=40))
    )
    assert (
        report.committed == [(arn, "term end not yet known")]
        and report.past_expiry == []
        and arn in bedrock_double.throughputs
    )


JOB_ARN_PREFIX = "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/x/"


def test_a_refused_job_serving_is_notified_and_does_not_hold_back_the_others(
    clients, wiring, bedrock_double, monkeypatch
):
    from tailor.serving import job_serving

    env = environment("dev")
    for key in ("support-bot", "support-distilled"):
        spec = serving_resource.spec_for("dev", {}, env.jobs[key].serve)
        serving_resource.on_event(cfn("Create", spec, request_id=f"req-{key}"), clients, wiring, now=at(bedrock_double))
        records.put(
            clients.ssm,
            naming.job_record_name("dev", key),
            {
                "jobKey": key,
                "jobName": f"tailor-dev-{key}",
                "jobArn": f"{JOB_ARN_PREFIX}{key[:12].replace('-', 'x'):<12}",
                "status": "Completed",
                "customModelArn": bedrock_double.add_custom_model(key),
            },
        )
    bedrock_double.fail_next("CreateProvisionedModelThroughput", "ServiceQuotaExceededException", "no model units left")
    assert job_serving.serve_completed(clients, wiring, now=at(bedrock_double, timedelta(hours=3))) == [
        "support-distilled"
    ]
    assert len(bedrock_double.deployments) == 1 and bedrock_double.throughputs == {}


def test_the_lambda_entry_points_dispatch_schedules_sweeps_and_provider_calls(
    clients, wiring, bedrock_double, model, monkeypatch
):
    from functions import serving_resource as serving_entry
    from functions import teardown as teardown_entry
    from tailor import aws
    from tests.conftest import wiring_environment

    wiring_environment(monkeypatch, wiring)
    monkeypatch.setenv("TAILOR_SWEEP_POLICY", POLICY.to_json())
    monkeypatch.setattr(aws, "Clients", lambda: clients)
    spec = throughput_spec(model)
    created = serving_entry.on_event(cfn("Create", spec), None)  # the entry points read the real clock
    assert serving_entry.is_complete(
        {**cfn("Create", spec), "PhysicalResourceId": spec.name, "Data": created["Data"]}, None
    ) == {"IsComplete": False}
    event = json.loads(schedules(clients)[0]["Target"]["Input"])
    bedrock_double.settle()
    assert teardown_entry.handler(event, None)["action"] == "not-due"  # fired early (or replayed for an old expiry)
    bedrock_double.client.tag_resource(
        resourceARN=event["arn"], tags=[{"key": TAG_EXPIRES_AT, "value": "2020-01-01T00:00:00Z"}]
    )
    assert teardown_entry.handler(event, None)["action"] == "deleted"
    assert teardown_entry.handler(event, None)["action"] == "gone"  # the duplicate delivery
    assert teardown_entry.handler({"tailor": "sweep"}, None)["managed"] == 0
    with pytest.raises(ValueError, match="teardown event for environment 'prod' reached dev"):
        teardown_entry.handler({**event, "environment": "prod"}, None)


def test_a_pt_that_fails_to_start_fails_the_deploy_with_bedrocks_reason(clients, wiring, bedrock_double, model):
    spec = throughput_spec(model)
    created = serving_resource.on_event(cfn("Create", spec), clients, wiring, now=at(bedrock_double))
    bedrock_double.set_throughput_status(
        created["Data"]["Arn"], "Failed", "Insufficient model units for no-commitment throughput"
    )
    with pytest.raises(
        ServingError,
        match=(
            r"^micro-eval: .* failed to start: Insufficient model units for no-commitment "
            r"throughput; CloudFormation rolls back"
        ),
    ):
        serving_resource.is_complete(
            {**cfn("Create", spec), "PhysicalResourceId": spec.name, "Data": created["Data"]},
            clients,
            wiring,
            now=at(bedrock_double, timedelta(minutes=5)),
        )
