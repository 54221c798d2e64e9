"""The fault scenarios, shared by tests/simulation/test_lifecycle.py and benchmarks/teardown_overrun.py.

Each scenario deploys serving through the real entry points at the start of the simulation, injects one fault
(two where the name says so), runs the clock past expiry and leaves the measuring to `measure`. A bound is the
promise for that fault: the schedule's minute when the fast path survives, one reconciler period when only the
backstop is left, counted from the moment Bedrock would accept the delete when the resource was busy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from tailor.serving.model import format_time
from tailor.serving.schedules import teardown_event
from tests.simulation.harness import (
    MINUTE,
    ON_TIME,
    RECONCILE_EVERY,
    T0,
    THROUGHPUT_READY,
    Life,
    Simulation,
    StackOperation,
    throughput_spec,
)

AFTER = 2 * RECONCILE_EVERY + 2 * MINUTE  # how long past the last expiry a scenario keeps the clock running
LONG_READY = timedelta(minutes=40)  # a creation slower than the serving's whole life (hours: 0.25)
OUTAGE = timedelta(minutes=15)
SKEW = timedelta(seconds=5)


@dataclass(frozen=True)
class Scenario:
    name: str  # a row of the benchmark table
    bound: timedelta
    play: Callable[[Simulation], list[str] | None]  # returns the ARNs to measure (None: every managed resource)
    measure: str = "expiry"  # expiry | deletable (from when Bedrock would first accept the delete)
    options: dict[str, Any] = field(default_factory=dict)  # Simulation options
    runs: int = 6  # benchmark repetitions (each with another reconciler phase and firing offset)
    faults: int = 1  # faults injected per run


@dataclass
class Result:
    scenario: Scenario
    sim: Simulation
    lives: list[Life]

    @property
    def undeleted(self) -> list[Life]:
        return [life for life in self.lives if life.deleted_at is None]

    @property
    def worst(self) -> timedelta | None:
        """The largest overrun of the measured resources; None when one of them is still alive."""
        if not self.lives or self.undeleted:
            return None
        key = "overrun_from_deletable" if self.scenario.measure == "deletable" else "overrun"
        return max(getattr(life, key) for life in self.lives)

    @property
    def worst_from_expiry(self) -> timedelta | None:
        return None if self.worst is None else max(life.overrun for life in self.lives)

    @property
    def early(self) -> list[Life]:
        return self.sim.deleted_before_expiry()

    @property
    def passed(self) -> bool:
        return self.worst is not None and self.worst <= self.scenario.bound and not self.early


def measure(scenario: Scenario, sim: Simulation) -> Result:
    arns = scenario.play(sim)
    lives = [sim.lives[arn] for arn in arns] if arns is not None else sim.managed_lives()
    return Result(scenario, sim, lives)


# ------------------------------------------------------------------------------------------------ building blocks


def deploy(sim: Simulation, *, mode: str = "provisioned", hours: float = 1, key: str = "micro-eval") -> StackOperation:
    model = sim.double.add_custom_model(f"model-{len(sim.double.custom_models)}")
    return sim.deploy(throughput_spec(model, key, hours=hours, mode=mode))


def only_life(sim: Simulation) -> Life:
    [life] = sim.managed_lives()
    return life


def expiry(sim: Simulation) -> datetime:
    return max(life.expires_at for life in sim.managed_lives())


def run_past_expiry(sim: Simulation, extra: timedelta = timedelta()) -> None:
    sim.run_until(expiry(sim) + extra + AFTER)


def _delete_operation(mode: str) -> str:
    return "DeleteProvisionedModelThroughput" if mode == "provisioned" else "DeleteCustomModelDeployment"


# ------------------------------------------------------------------------------------------------ plays


def no_fault(mode: str = "provisioned") -> Callable[[Simulation], None]:
    def play(sim: Simulation) -> None:
        deploy(sim, mode=mode)
        run_past_expiry(sim)

    return play


def schedule_deleted(mode: str = "provisioned") -> Callable[[Simulation], None]:
    def play(sim: Simulation) -> None:
        deploy(sim, mode=mode)
        sim.drop_schedules()
        run_past_expiry(sim)

    return play


def create_schedule_fails(sim: Simulation) -> None:
    sim.scheduler.fail_next("create_schedule", "InternalServerException")
    deploy(sim)  # fails; the start expires the PT it bought at once, so it ends as soon as Bedrock lets it
    sim.run_until(T0 + THROUGHPUT_READY + AFTER)


def teardown_crashes(times: int, *, after: bool = False) -> Callable[[Simulation], None]:
    def play(sim: Simulation) -> None:
        sim.crash_function("schedule", times=times, after=after)
        deploy(sim)
        run_past_expiry(sim)

    return play


def delete_fails(code: str, times: int = 1, mode: str = "provisioned") -> Callable[[Simulation], None]:
    def play(sim: Simulation) -> None:
        deploy(sim, mode=mode)
        sim.run_until(expiry(sim) - MINUTE)
        sim.double.fail_next(_delete_operation(mode), code, times=times)
        run_past_expiry(sim)

    return play


def updating_at_expiry(sim: Simulation) -> None:
    deploy(sim)
    sim.run_until(expiry(sim) - 2 * MINUTE)
    sim.double.set_throughput_status(only_life(sim).arn, "Updating")  # e.g. a model swap deployed just before expiry
    run_past_expiry(sim, THROUGHPUT_READY)


def creating_at_expiry(mode: str = "provisioned") -> Callable[[Simulation], None]:
    def play(sim: Simulation) -> None:
        deploy(sim, mode=mode, hours=0.25)
        sim.run_until(T0 + LONG_READY + AFTER)

    return play


def scheduled_event(life: Life) -> dict[str, str]:
    """The event the resource's schedule carries (also when the reconciler got there first and it never fired)."""
    return teardown_event("dev", life.arn, format_time(life.expires_at))


def duplicate_delivery(sim: Simulation) -> None:
    deploy(sim)
    sim.run_until(expiry(sim) + 2 * MINUTE)
    event = scheduled_event(only_life(sim))
    sim.redeliver(event)
    sim.redeliver(event, at=sim.now + timedelta(seconds=30))
    run_past_expiry(sim)


def replay_after_recreate(sim: Simulation) -> None:
    model = sim.double.add_custom_model("model-0")
    short = throughput_spec(model, hours=0.25)
    sim.deploy(short)
    sim.run_until(T0 + timedelta(hours=1))
    [first] = sim.managed_lives()
    sim.deploy(replace(short, hours=5.5), old=short)  # new hours bring expired serving back: same name, new ARN
    sim.redeliver(scheduled_event(first), at=first.expires_at + timedelta(hours=6))
    run_past_expiry(sim)


def replay_after_extend(sim: Simulation) -> None:
    model = sim.double.add_custom_model("model-0")
    short = throughput_spec(model, hours=0.5)
    sim.deploy(short)
    old = scheduled_event(only_life(sim))
    sim.run_until(T0 + timedelta(minutes=10))
    sim.deploy(replace(short, hours=7), old=short)  # its old schedule is replaced, but a delivery may be in flight
    sim.redeliver(old, at=T0 + timedelta(minutes=30, seconds=5))
    sim.redeliver(old, at=T0 + timedelta(hours=6, minutes=30))
    run_past_expiry(sim)


def reconciler_misses_pass(sim: Simulation) -> None:
    deploy(sim)
    sim.run_until(expiry(sim) - MINUTE)
    sim.crash_function("reconciler", times=3)  # the pass at expiry and both its Lambda retries
    run_past_expiry(sim)


def schedule_lost_and_pass_missed(sim: Simulation) -> None:
    deploy(sim)
    sim.drop_schedules()
    sim.run_until(expiry(sim) - MINUTE)
    sim.crash_function("reconciler", times=3)
    run_past_expiry(sim)


def completion_event(delivered: bool) -> Callable[[Simulation], None]:
    def play(sim: Simulation) -> None:
        job_arn, _ = sim.start_job("support-bot")
        sim.run(minutes=48)  # no completion reconcile within the event's 20 s: each path is seen on its own
        sim.finish_job(job_arn, event_delivered=delivered)
        sim.run(minutes=6)  # serving starts: on the event, or at the next completion reconcile
        run_past_expiry(sim)

    return play


def scheduler_cannot_invoke(sim: Simulation) -> None:
    sim.block_scheduler_delivery(until=T0 + timedelta(days=1))
    deploy(sim)
    run_past_expiry(sim)


def function_outage(sim: Simulation) -> None:
    deploy(sim)
    sim.run_until(expiry(sim) - MINUTE)
    sim.crash_function("any", until=expiry(sim) + OUTAGE)  # schedule and sweep share functions/teardown.py
    run_past_expiry(sim, OUTAGE)


def clock_behind(sim: Simulation) -> None:
    deploy(sim)
    run_past_expiry(sim)


def undeletable_neighbour(sim: Simulation) -> list[str]:
    """Two faults: B's schedule is lost, and A (listed first: newest) can never be deleted."""
    b = deploy(sim, key="bravo").response["Data"]["Arn"]
    sim.drop_schedules(b)
    sim.run(seconds=10)
    a = deploy(sim, key="alpha").response["Data"]["Arn"]
    sim.deny_delete(a)
    run_past_expiry(sim)
    return [b]


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("none (provisioned)", ON_TIME, no_fault("provisioned"), faults=0),
    Scenario("none (on-demand deployment)", ON_TIME, no_fault("on_demand"), faults=0),
    Scenario("schedule deleted after creation", RECONCILE_EVERY, schedule_deleted("provisioned")),
    Scenario("schedule deleted (on-demand)", RECONCILE_EVERY, schedule_deleted("on_demand")),
    Scenario("CreateSchedule fails once (deploy fails)", RECONCILE_EVERY, create_schedule_fails, measure="deletable"),
    Scenario("teardown crashes 1x (Lambda retry)", RECONCILE_EVERY, teardown_crashes(1)),
    Scenario("teardown crashes 3x (DLQ)", RECONCILE_EVERY, teardown_crashes(3)),
    Scenario("teardown crashes after deleting", ON_TIME, teardown_crashes(1, after=True)),
    Scenario("Delete throttled 1x", RECONCILE_EVERY, delete_fails("ThrottlingException")),
    Scenario("Delete throttled 3x", RECONCILE_EVERY, delete_fails("ThrottlingException", 3)),
    Scenario("Delete InternalServer 1x", RECONCILE_EVERY, delete_fails("InternalServerException")),
    Scenario("Delete InternalServer 3x", RECONCILE_EVERY, delete_fails("InternalServerException", 3)),
    Scenario("Delete ConflictException (race)", RECONCILE_EVERY, delete_fails("ConflictException")),
    Scenario("Delete throttled (on-demand)", RECONCILE_EVERY, delete_fails("ThrottlingException", 1, "on_demand")),
    Scenario("Updating at expiry (from deletable)", RECONCILE_EVERY, updating_at_expiry, measure="deletable"),
    Scenario(
        "Creating at expiry (from deletable)",
        RECONCILE_EVERY,
        creating_at_expiry("provisioned"),
        measure="deletable",
        options={"throughput_ready": LONG_READY},
    ),
    Scenario(
        "Creating at expiry, on-demand (from deletable)",
        RECONCILE_EVERY,
        creating_at_expiry("on_demand"),
        measure="deletable",
        options={"deployment_ready": LONG_READY},
    ),
    Scenario("duplicate delivery (x3)", ON_TIME, duplicate_delivery),
    Scenario("6 h late replay after recreate", ON_TIME, replay_after_recreate, runs=2),
    Scenario("6 h late replay after extend", ON_TIME, replay_after_extend, runs=2),
    Scenario("reconciler misses one pass", ON_TIME, reconciler_misses_pass),
    Scenario("job completion event lost", ON_TIME, completion_event(False), runs=3),
    Scenario("Scheduler cannot invoke the function", RECONCILE_EVERY, scheduler_cannot_invoke),
    # The schedule fires a minute early and the handler waits by its own (late) clock: the skew is the overrun.
    Scenario(
        "function clock 5 s behind, fires at :00",
        SKEW,
        clock_behind,
        options={"fire_offset": timedelta(0), "lambda_skew": -SKEW},
    ),
    Scenario("2 faults: schedule lost + missed pass", 2 * RECONCILE_EVERY, schedule_lost_and_pass_missed, faults=2),
    Scenario("2 faults: schedule lost + neighbour undeletable", RECONCILE_EVERY, undeletable_neighbour, faults=2),
    Scenario(
        f"function down {int(OUTAGE.total_seconds() // 60)} min at expiry (schedule + sweep)",
        OUTAGE + RECONCILE_EVERY,
        function_outage,
    ),
)
BY_NAME = {scenario.name: scenario for scenario in SCENARIOS}
