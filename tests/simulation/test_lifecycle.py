"""Serving lifecycles on a controlled clock with injected faults: how long does anything live past expires-at?

The issue's bar ("serving with a guaranteed end"): with no fault, the one-time schedule deletes serving within
the Scheduler's minute; whatever single fault is injected, nothing managed lives more than one reconciler period
(5 min) past its expiry, counted from when Bedrock would accept the delete if it was busy. Each test plays a
scenario from tests/simulation/scenarios.py (benchmarks/teardown_overrun.py runs them over many phases) and
asserts what it measured, plus what the fault should leave behind: messages, dead letters, records.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tailor import records
from tailor.serving.model import COMMITMENT_TERM, expiry, format_time, managed_tags
from tailor.serving.reconciler import SweepError
from tests.simulation import scenarios
from tests.simulation.harness import MINUTE, POLICY, RECONCILE_EVERY, T0, THROUGHPUT_READY, Simulation
from tests.simulation.scenarios import BY_NAME, LONG_READY, OUTAGE, Scenario, measure, only_life

# Reconciler phases relative to T0 (serving is created at T0 and expires on a whole minute).
# passes land mid-way between expiry minutes: the schedule gets there first
OFF_PHASE = timedelta(minutes=2, seconds=30)
LATE_PHASE = timedelta(minutes=4, seconds=30)  # the first pass after expiry is 4:30 late: retries get their chance
WORST_PHASE = timedelta(minutes=4, seconds=59)  # a pass one second before expiry: the next is a whole period later
ON_TIME = timedelta(0)  # a pass exactly at expiry


def fired(sim: Simulation):
    [invocation] = [i for i in sim.invocations if i.source == "schedule"]
    return invocation


def subjects(sim: Simulation) -> list[str]:
    return [m["subject"].split(": ", 1)[1] for m in sim.messages]


def metric_max(sim: Simulation, name: str) -> float:
    # moto stamps datapoints with the wall clock, not the simulation's
    now = datetime.now(UTC)
    points = sim.clients.cloudwatch.get_metric_statistics(
        Namespace="Tailor",
        MetricName=name,
        Dimensions=[{"Name": "Environment", "Value": "dev"}],
        StartTime=now - timedelta(days=1),
        EndTime=now + timedelta(days=1),
        Period=60,
        Statistics=["Maximum"],
    )["Datapoints"]
    return max((p["Maximum"] for p in points), default=0)


# --------------------------------------------------------------------------------------------------------- no fault


@pytest.mark.parametrize("mode", ["provisioned", "on_demand"])
def test_given_no_fault_when_serving_expires_then_it_is_warned_once_and_its_schedule_deletes_it_within_a_minute(
    simulate, mode
):
    # Given
    sim = simulate(reconcile_phase=OFF_PHASE)
    # When
    measure(Scenario("none", ON_TIME, scenarios.no_fault(mode)), sim)
    # Then
    life = only_life(sim)
    assert life.mode == mode and life.deleted_by == "schedule"
    assert life.overrun == ON_TIME
    assert subjects(sim) == ["micro-eval serving started", "micro-eval ends soon", "micro-eval serving deleted"]
    [warning] = [m for m in sim.messages if m["subject"].endswith("ends soon")]
    assert life.expires_at - timedelta(minutes=POLICY.warn_before_minutes) <= warning["at"] < life.expires_at
    assert sim.schedules() == [] and sim.failed_attempts() == [] and sim.dead_letters() == []
    record = records.get(sim.clients.ssm, sim.stack_operations[0].spec.record_name)
    assert record["status"] == "deleted" and record["deletedAt"] == format_time(life.deleted_at)


# ------------------------------------------------------------------------------------------- the schedule path lost


@pytest.mark.parametrize(
    "phase", [ON_TIME, OFF_PHASE, WORST_PHASE], ids=["pass-at-expiry", "pass-2m30-late", "pass-4m59-late"]
)
@pytest.mark.parametrize("mode", ["provisioned", "on_demand"])
def test_given_its_schedule_deleted_right_after_creation_then_the_next_reconciler_pass_deletes_it(
    simulate, mode, phase
):
    # Given
    sim = simulate(reconcile_phase=phase)
    # When
    result = measure(Scenario("schedule deleted", RECONCILE_EVERY, scenarios.schedule_deleted(mode)), sim)
    # Then
    life = only_life(sim)
    assert life.deleted_by == "reconciler" and timedelta(0) <= life.overrun <= RECONCILE_EVERY
    assert life.overrun == (phase - (life.expires_at - T0)) % RECONCILE_EVERY  # exactly the wait for the next pass
    assert result.passed


def test_given_create_schedule_fails_once_then_the_deploy_fails_and_the_reconciler_still_ends_the_throughput(simulate):
    # Given
    sim = simulate(reconcile_phase=WORST_PHASE)
    # When
    measure(BY_NAME["CreateSchedule fails once (deploy fails)"], sim)
    # Then
    [deploy] = sim.stack_operations
    assert "InternalServerException" in deploy.failed
    # The Provider sends no Delete after a failed Create, so the start expired what it bought at once: the PT
    # goes as soon as it leaves Creating, not an hour later.
    life = only_life(sim)
    assert life.expires_at == T0 and life.deletable_from == T0 + THROUGHPUT_READY
    assert life.deleted_by == "reconciler" and timedelta(0) <= life.overrun_from_deletable <= RECONCILE_EVERY
    assert sim.schedules() == []


@pytest.mark.parametrize("crashes", [1, 2, 3])
def test_given_the_teardown_function_crashes_then_lambda_retries_and_past_its_retries_the_event_is_dead_lettered(
    simulate, crashes
):
    # Given
    sim = simulate(reconcile_phase=LATE_PHASE)
    # When
    measure(Scenario(f"crashes {crashes}", RECONCILE_EVERY, scenarios.teardown_crashes(crashes)), sim)
    # Then
    invocation, life = fired(sim), only_life(sim)
    assert [attempt.error is None for attempt in invocation.attempts] == [False] * crashes + (
        [True] if crashes < 3 else []
    )
    # Lambda's two retries come 1 and then 2 more minutes after the first attempt.
    assert [a.at - invocation.attempts[0].at for a in invocation.attempts] == [timedelta(0), MINUTE, 3 * MINUTE][
        : len(invocation.attempts)
    ]
    assert timedelta(0) <= life.overrun <= RECONCILE_EVERY
    if crashes < 3:
        assert life.deleted_by == "schedule" and sim.dead_letters() == []
    else:
        assert life.deleted_by == "reconciler" and invocation.dead_lettered
        [letter] = sim.dead_letters()
        assert letter == invocation.event
        # Redriving the dead letter later is harmless: the throughput is already gone.
        sim.redeliver(letter)
        sim.run(minutes=1)
        assert [o["action"] for o in sim.outcomes("replay")] == ["gone"]


def test_given_the_teardown_crashes_after_deleting_then_the_retry_finds_it_gone_and_it_is_announced_once(simulate):
    # Given
    sim = simulate(reconcile_phase=OFF_PHASE)
    # When
    measure(BY_NAME["teardown crashes after deleting"], sim)
    # Then
    invocation, life = fired(sim), only_life(sim)
    assert [a.error is None for a in invocation.attempts] == [False, True] and invocation.result["action"] == "gone"
    assert life.deleted_by == "schedule" and life.overrun == ON_TIME
    assert subjects(sim).count("micro-eval serving deleted") == 1 and sim.dead_letters() == []


# --------------------------------------------------------------------------------------------------- Bedrock faults


@pytest.mark.parametrize("code", ["ThrottlingException", "InternalServerException"])
@pytest.mark.parametrize("times", [1, 3])
def test_given_bedrock_fails_the_delete_then_a_retry_or_the_reconciler_deletes_within_a_period(simulate, code, times):
    # Given
    sim = simulate(reconcile_phase=OFF_PHASE)
    # When
    measure(Scenario(f"{code} x{times}", RECONCILE_EVERY, scenarios.delete_fails(code, times)), sim)
    # Then
    life = only_life(sim)
    assert timedelta(0) <= life.overrun <= RECONCILE_EVERY
    errors = sim.failed_attempts()
    assert len(errors) == times and all(code in attempt.error for attempt in errors)
    assert len(sim.double.calls_to("DeleteProvisionedModelThroughput")) == times + 1
    assert sim.double.pending_faults() == {}


def test_given_a_conflict_on_delete_then_teardown_defers_without_an_error_and_the_reconciler_deletes_within_a_period(
    simulate,
):
    # Given
    sim = simulate(reconcile_phase=WORST_PHASE)
    # When
    measure(BY_NAME["Delete ConflictException (race)"], sim)
    # Then
    life = only_life(sim)
    assert fired(sim).result["action"] == "deferred" and sim.failed_attempts() == []
    assert life.deleted_by == "reconciler" and timedelta(0) <= life.overrun <= RECONCILE_EVERY


def test_given_an_update_in_progress_at_expiry_then_it_is_deleted_within_a_period_of_becoming_deletable(simulate):
    # Given
    sim = simulate(reconcile_phase=OFF_PHASE)
    # When
    measure(BY_NAME["Updating at expiry (from deletable)"], sim)
    # Then
    life = only_life(sim)
    assert fired(sim).result["action"] == "deferred"  # Bedrock refuses deletes while Updating: no error, no DLQ
    assert life.deletable_from == life.expires_at - 2 * MINUTE + THROUGHPUT_READY
    assert timedelta(0) <= life.overrun_from_deletable <= RECONCILE_EVERY
    assert life.overrun == THROUGHPUT_READY - 2 * MINUTE + life.overrun_from_deletable  # 10 min + the wait for a pass
    assert metric_max(sim, "ManagedPastExpiry") == 1  # the overrun alarm saw it while it waited


@pytest.mark.parametrize("mode", ["provisioned", "on_demand"])
def test_given_serving_still_creating_at_expiry_then_it_is_deleted_within_a_period_of_becoming_deletable(
    simulate, mode
):
    # Given a creation (40 min) longer than the whole life (15 min)
    sim = simulate(reconcile_phase=WORST_PHASE, throughput_ready=LONG_READY, deployment_ready=LONG_READY)
    # When
    measure(Scenario("creating", RECONCILE_EVERY, scenarios.creating_at_expiry(mode), measure="deletable"), sim)
    # Then
    life = only_life(sim)
    assert life.expires_at == T0 + timedelta(minutes=15) and life.deletable_from == T0 + LONG_READY
    assert timedelta(0) <= life.overrun_from_deletable <= RECONCILE_EVERY
    assert life.overrun == LONG_READY - timedelta(minutes=15) + life.overrun_from_deletable
    # CloudFormation did not wait for it: the Provider's bounded wait (20 min) let the stack go on.
    [deploy] = sim.stack_operations
    assert deploy.complete and deploy.completed_at - deploy.started_at <= timedelta(minutes=21)


# ------------------------------------------------------------------------------------------- at-least-once delivery


def test_given_the_same_schedule_delivered_three_times_then_the_extra_deliveries_are_quiet_no_ops(simulate):
    # Given
    sim = simulate(reconcile_phase=OFF_PHASE)
    # When
    measure(BY_NAME["duplicate delivery (x3)"], sim)
    # Then
    life = only_life(sim)
    assert [o["action"] for o in sim.outcomes("replay")] == ["gone", "gone"] and sim.failed_attempts() == []
    assert life.overrun == ON_TIME
    assert subjects(sim).count("micro-eval serving deleted") == 1


def test_given_a_replay_six_hours_late_after_the_name_was_reused_then_the_new_throughput_is_kept(simulate):
    # Given
    sim = simulate(reconcile_phase=OFF_PHASE)
    # When
    measure(BY_NAME["6 h late replay after recreate"], sim)
    # Then
    old, new = sorted(sim.managed_lives(), key=lambda life: life.created_at)
    assert old.name == new.name and old.arn != new.arn
    [replay] = [i for i in sim.invocations if i.source == "replay"]
    assert replay.event["arn"] == old.arn and replay.attempts[0].at == old.expires_at + timedelta(hours=6)
    assert replay.result["action"] == "gone" and replay.attempts[0].at < new.expires_at
    assert new.deleted_by == "schedule" and new.overrun == ON_TIME
    assert old.overrun == ON_TIME and sim.failed_attempts() == []


def test_given_replays_after_the_hours_were_extended_then_nothing_is_deleted_before_the_new_expiry(simulate):
    # Given
    sim = simulate(reconcile_phase=OFF_PHASE)
    # When
    measure(BY_NAME["6 h late replay after extend"], sim)
    # Then
    life = only_life(sim)
    assert [o["action"] for o in sim.outcomes("replay")] == ["not-due", "not-due"]
    assert life.expires_at == T0 + timedelta(hours=7) and life.deleted_by == "schedule"
    assert life.overrun == ON_TIME


# --------------------------------------------------------------------------------------------------- the reconciler


def test_given_the_reconciler_misses_a_pass_then_the_intact_schedule_still_deletes_within_a_minute(simulate):
    # Given a pass due exactly at expiry, and that pass failing with both its retries
    sim = simulate(reconcile_phase=ON_TIME)
    # When
    measure(BY_NAME["reconciler misses one pass"], sim)
    # Then
    life = only_life(sim)
    assert len(sim.failed_attempts("reconciler")) == 3 and sim.dead_letters() == [{"tailor": "sweep"}]
    assert life.deleted_by == "schedule" and life.overrun == ON_TIME


def test_given_the_schedule_lost_and_a_missed_pass_then_two_faults_cost_at_most_two_periods(simulate):
    # Given
    sim = simulate(reconcile_phase=ON_TIME)
    # When
    measure(BY_NAME["2 faults: schedule lost + missed pass"], sim)
    # Then
    life = only_life(sim)
    assert life.deleted_by == "reconciler" and RECONCILE_EVERY <= life.overrun <= 2 * RECONCILE_EVERY


def test_given_one_throughput_bedrock_never_lets_delete_then_the_sweep_still_ends_the_others_and_fails_loudly(simulate):
    # Given a neighbour whose every delete is denied, listed before a throughput whose schedule was lost
    sim = simulate(reconcile_phase=OFF_PHASE)
    # When
    result = measure(BY_NAME["2 faults: schedule lost + neighbour undeletable"], sim)
    # Then the lost-schedule throughput goes at the next pass
    [bravo] = result.lives
    assert bravo.deleted_by == "reconciler" and timedelta(0) <= bravo.overrun <= RECONCILE_EVERY
    # and the stuck one is counted past expiry and makes every pass fail, so the alarms page.
    [alpha] = [life for life in sim.alive() if life.managed]
    assert alpha.key == "alpha" and metric_max(sim, "ManagedPastExpiry") == 1
    sweep_errors = sim.failed_attempts("reconciler")
    assert sweep_errors and all(SweepError.__name__ in a.error and alpha.arn in a.error for a in sweep_errors)


def test_given_the_teardown_function_down_for_fifteen_minutes_then_the_first_pass_after_it_recovers_deletes_it(
    simulate,
):
    # Given: schedule and sweep share functions/teardown.py, so one outage stops both paths
    sim = simulate(reconcile_phase=OFF_PHASE)
    # When
    measure(BY_NAME[f"function down {int(OUTAGE.total_seconds() // 60)} min at expiry (schedule + sweep)"], sim)
    # Then
    life = only_life(sim)
    assert life.deleted_by == "reconciler" and OUTAGE <= life.overrun <= OUTAGE + RECONCILE_EVERY
    letters = sim.dead_letters()
    assert {"tailor": "sweep"} in letters and fired(sim).event in letters


def test_given_scheduler_cannot_invoke_the_function_then_the_reconciler_deletes_it_and_removes_the_retrying_schedule(
    simulate,
):
    # Given
    sim = simulate(reconcile_phase=WORST_PHASE)
    # When
    measure(BY_NAME["Scheduler cannot invoke the function"], sim)
    # Then
    life = only_life(sim)
    assert life.deleted_by == "reconciler" and timedelta(0) <= life.overrun <= RECONCILE_EVERY
    assert not any(i.source == "schedule" for i in sim.invocations)
    # The teardown removed the schedule Scheduler was still retrying, so no stale delivery is left to come.
    assert sim.schedules() == []


def test_given_the_function_clock_five_seconds_behind_then_the_early_firing_waits_and_ends_it_five_seconds_late(
    simulate,
):
    # Given Scheduler firing at hh:mm:00 (a minute before expiry, by design) and a function clock 5 s behind
    sim = simulate(reconcile_phase=OFF_PHASE, fire_offset=timedelta(0), lambda_skew=timedelta(seconds=-5))
    # When
    measure(BY_NAME["function clock 5 s behind, fires at :00"], sim)
    # Then the handler waits out the minute by its own clock: the schedule still ends it, 5 s late
    life = only_life(sim)
    assert fired(sim).result["action"] == "deleted" and sim.failed_attempts() == []
    assert life.deleted_by == "schedule" and life.overrun == timedelta(seconds=5)


# ------------------------------------------------------------------------------------------------------ job serving


@pytest.mark.parametrize("delivered", [True, False], ids=["event-delivered", "event-lost"])
def test_given_a_job_with_a_serve_block_when_it_completes_then_serving_starts_and_its_expiry_counts_from_its_creation(
    simulate, delivered
):
    # Given
    sim = simulate(reconcile_phase=OFF_PHASE)
    # When
    measure(Scenario("job", ON_TIME, scenarios.completion_event(delivered)), sim)
    # Then
    life = only_life(sim)
    [job] = sim.double.jobs.values()
    started_after = life.created_at - job.end_time
    if delivered:
        assert started_after == timedelta(seconds=20)  # the state-change event's delay
    else:
        assert timedelta(0) < started_after <= RECONCILE_EVERY and not any(
            i.source == "job-event" for i in sim.invocations
        )
    assert life.expires_at == expiry(life.created_at, 2)  # config/dev.yaml: support-bot serves for 2 hours
    assert life.deleted_by == "schedule" and life.overrun == ON_TIME
    assert "support-bot serving started" in subjects(sim)


# --------------------------------------------------------------------------------------------------- stack deletion


@pytest.mark.parametrize("gone_by", ["expiry", "out-of-band"])
def test_given_the_throughput_already_gone_when_its_stack_is_deleted_then_no_schedule_is_left_and_it_is_tombstoned(
    simulate, gone_by
):
    # Given
    sim = simulate(reconcile_phase=OFF_PHASE)
    deploy = scenarios.deploy(sim)
    arn = deploy.response["Data"]["Arn"]
    if gone_by == "expiry":
        scenarios.run_past_expiry(sim)
    else:
        sim.run(minutes=20)
        sim.double.client.delete_provisioned_model_throughput(provisionedModelId=arn)  # someone used the console
    assert arn not in sim.double.throughputs
    # When
    delete = sim.delete_stack(deploy.spec)
    sim.run(minutes=2)
    # Then
    assert delete.complete and delete.failed is None
    # The record stays as a tombstone, so a late job completion cannot start serving for a removed entry.
    assert sim.schedules() == [] and records.get(sim.clients.ssm, deploy.spec.record_name)["status"] == "removed"
    sim.run(hours=2)  # and nothing fires for it later
    assert [i for i in sim.invocations if i.source == "schedule" and i.attempts[0].at > delete.started_at] == []
    assert sim.failed_attempts() == []


# ---------------------------------------------------------------------------------------- one sweep, many resources


def _create_pt(
    sim: Simulation, name: str, *, tags: list[dict] | None = None, commitment: str | None = None, model: str
) -> str:
    request = {"modelUnits": 1, "provisionedModelName": name, "modelId": model, "clientRequestToken": name}
    if tags:
        request["tags"] = tags
    if commitment:
        request["commitmentDuration"] = commitment
    return sim.double.client.create_provisioned_model_throughput(**request)["provisionedModelArn"]


@pytest.fixture
def crowded(simulate):
    """150 PTs (two pages of 100) and six deployments, managed or not, expired or not, committed or not."""
    sim = simulate(reconcile_phase=OFF_PHASE)
    model = sim.double.add_custom_model("crowd")
    now = sim.now
    past, future = format_time(now - timedelta(minutes=10)), format_time(now + timedelta(hours=3))
    groups = {
        "expired": [
            _create_pt(sim, f"expired-{i}", tags=managed_tags("dev", f"e{i}", past, {}), model=model) for i in range(25)
        ],
        "future": [
            _create_pt(sim, f"future-{i}", tags=managed_tags("dev", f"f{i}", future, {}), model=model)
            for i in range(20)
        ],
        "managed-committed": [
            _create_pt(
                sim,
                f"bought-{i}",
                tags=managed_tags("dev", f"b{i}", COMMITMENT_TERM, {}),
                commitment="OneMonth",
                model=model,
            )
            for i in range(5)
        ],
        "unmanaged": [_create_pt(sim, f"hand-made-{i}", model=model) for i in range(60)],
        "unmanaged-committed": [
            _create_pt(sim, f"their-bought-{i}", commitment="SixMonths", model=model) for i in range(20)
        ],
        "other-environment": [
            _create_pt(sim, f"prod-{i}", tags=managed_tags("prod", f"p{i}", past, {}), model=model) for i in range(20)
        ],
    }
    deployments = sim.double.client.create_custom_model_deployment
    groups["expired"] += [
        deployments(
            modelDeploymentName=f"dep-expired-{i}",
            modelArn=model,
            clientRequestToken=f"de{i}",
            tags=managed_tags("dev", f"de{i}", past, {}),
        )["customModelDeploymentArn"]
        for i in range(3)
    ]
    groups["unmanaged"] += [
        deployments(modelDeploymentName=f"dep-hand-made-{i}", modelArn=model, clientRequestToken=f"du{i}")[
            "customModelDeploymentArn"
        ]
        for i in range(3)
    ]
    sim.double.settle()
    assert len(sim.double.throughputs) == 150
    return sim, groups


@pytest.mark.parametrize("dry_run", [False, True], ids=["delete", "dry-run"])
def test_given_150_throughputs_over_two_pages_when_swept_then_exactly_the_expired_managed_ones_are_deleted(
    crowded, dry_run
):
    # Given
    sim, groups = crowded
    sim.policy = replace(POLICY, dry_run=dry_run)
    tags_before = {arn: dict(tags) for arn, tags in sim.double.tags.items()}
    calls_before = len(sim.double.calls)
    # When
    report = sim.sweep_now().result
    # Then
    expired, committed = set(groups["expired"]), set(groups["managed-committed"]) | set(groups["unmanaged-committed"])
    assert len(sim.double.calls_to("ListProvisionedModelThroughputs")) == 2  # both pages read
    assert set(report["deleted"]) == (set() if dry_run else expired)
    assert set(report["would_delete"]) == (expired if dry_run else set())
    assert set(report["past_expiry"]) == (expired if dry_run else set())
    assert set(report["unmanaged"]) == set(groups["unmanaged"]) | set(groups["unmanaged-committed"])
    assert {arn for arn, _ in report["committed"]} == committed
    assert report["managed"] == 25 + 3 + 20 + 5 and report["warned"] == [] and report["expiry_assigned"] == []
    # Nothing else was touched: no writes besides the deletes, every other resource alive with its tags unchanged.
    writes = [c for c in sim.double.calls[calls_before:] if not c.operation_name.startswith(("List", "Get"))]
    assert len(writes) == (0 if dry_run else 28) and {c.operation_name for c in writes} <= {
        "DeleteProvisionedModelThroughput",
        "DeleteCustomModelDeployment",
    }
    survivors = set(tags_before) - (set() if dry_run else expired)
    assert {arn: sim.double.tags.get(arn) for arn in survivors} == {arn: tags_before[arn] for arn in survivors}
    assert set(sim.double.throughputs) | set(sim.double.deployments) == (
        set().union(*groups.values()) - (set() if dry_run else expired)
    )
    [digest] = [m for m in sim.messages if m["subject"].endswith("serving report")]
    assert digest["message"].count("unmanaged (policy: report)") == 83 and digest["message"].count(
        "would delete (dry run)"
    ) == (28 if dry_run else 0)
    assert metric_max(sim, "ManagedPastExpiry") == (28 if dry_run else 0)


# -------------------------------------------------------------------------------------- bounds hold for every phase


@pytest.mark.parametrize("k", range(5))
@pytest.mark.parametrize(
    "name", ["teardown crashes 3x (DLQ)", "Delete InternalServer 3x", "Creating at expiry (from deletable)"]
)
def test_given_any_reconciler_phase_then_a_single_fault_costs_at_most_one_period(simulate, name, k):
    # Given the scenarios whose outcome depends most on where the passes fall, at five phases and firing offsets
    scenario = BY_NAME[name]
    sim = simulate(reconcile_phase=timedelta(seconds=61 * k), seed=k, **scenario.options)
    # When
    result = measure(scenario, sim)
    # Then
    assert result.passed, (result.worst, result.early)
