"""Random interleavings of deploys, hour changes, stack deletes, duplicate deliveries, lost schedules and crashes.

Invariants, checked after every step: no managed serving alive more than one reconciler period plus the
Scheduler's minute past its expires-at (or past leaving Updating, if that came later), and nothing deleted
before its expiry except by a stack delete (an update, or the rollback of a failed one, that moves the expiry
to within SCHEDULE_LEAD tears down at once, by design, so it may be that early). An update that moves the
expiry into the past makes the resource due then.
The bound is the issue's single-fault bar, so an example injects at most one fault (a lost schedule, a crash, a
failed delete); duplicate and replayed deliveries are not faults, they are how delivery works.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from moto import mock_aws

from tailor.serving.lifecycle import SCHEDULE_LEAD
from tests.simulation.harness import MINUTE, RECONCILE_EVERY, Simulation, make_world, throughput_spec

KEYS = st.sampled_from(["alpha", "bravo", "charlie"])
HOURS = st.sampled_from([0.25, 0.5, 1.0])  # from the config's minimum (MIN_HOURS); all longer than a PT takes to start


class ServingLifecycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.mock = mock_aws()
        self.mock.start()
        self.sim = Simulation(*make_world(), reconcile_phase=timedelta(minutes=3, seconds=7))
        self.model = self.sim.double.add_custom_model("model")
        self.deployed: dict[str, object] = {}  # key -> its current ServingSpec
        self.deleting: dict[str, object] = {}  # key -> its stack Delete, until the Provider finishes it
        self.faults = 0

    def teardown(self) -> None:
        self.mock.stop()

    def _fault(self) -> bool:
        """True if this example may still inject its one fault (and counts it)."""
        self.faults += 1
        return self.faults == 1

    def _settled(self, key: str) -> bool:
        operation = self.deleting.get(key)
        return operation is None or operation.complete or operation.failed is not None

    @rule(key=KEYS, hours=HOURS, mode=st.sampled_from(["provisioned", "on_demand"]))
    def deploy(self, key, hours, mode) -> None:
        if key in self.deployed or not self._settled(key):
            return  # CloudFormation never creates a logical resource still being deleted
        spec = throughput_spec(self.model, key, hours=hours, mode=mode)
        if self.sim.deploy(spec).failed is None:
            self.deployed[key] = spec

    @rule(key=KEYS, hours=HOURS)
    def change_hours(self, key, hours) -> None:
        old = self.deployed.get(key)
        if old is None or old.hours == hours:
            return
        new = replace(old, hours=hours)
        if self.sim.deploy(new, old=old).failed is None:
            self.deployed[key] = new

    @rule(key=KEYS)
    def delete_stack(self, key) -> None:
        spec = self.deployed.pop(key, None)
        if spec is not None:
            self.deleting[key] = self.sim.delete_stack(spec)

    @rule(minutes=st.integers(min_value=1, max_value=30))
    def advance(self, minutes) -> None:
        self.sim.run(minutes=minutes)

    @rule()
    def sweep(self) -> None:
        self.sim.sweep_now()

    @rule(data=st.data())
    def duplicate_delivery(self, data) -> None:
        events = self.sim.fired_events()
        if events:
            self.sim.redeliver(data.draw(st.sampled_from(events)))
            self.sim.run(seconds=0)

    @rule(data=st.data())
    def drop_a_schedule(self, data) -> None:
        alive = [life.arn for life in self.sim.alive() if life.managed]
        if alive and self._fault():
            self.sim.drop_schedules(data.draw(st.sampled_from(alive)))

    @rule()
    def crash_next_teardown(self) -> None:
        if self._fault():
            self.sim.crash_function("schedule", times=1)

    @rule(key=KEYS)
    def swap_the_model(self, key) -> None:
        """A throughput goes Updating for a while (a model swap), whenever that falls, even across its expiry."""
        life = next(
            (life for life in self.sim.alive() if life.managed and life.key == key and life.mode == "provisioned"), None
        )
        if life is not None and self.sim.double.throughputs[life.arn].status == "InService":
            self.sim.double.set_throughput_status(life.arn, "Updating")

    @rule(
        operation=st.sampled_from(["DeleteProvisionedModelThroughput", "DeleteCustomModelDeployment"]),
        code=st.sampled_from(["ThrottlingException", "InternalServerException", "ConflictException"]),
    )
    def bedrock_fails_the_next_delete(self, operation, code) -> None:
        if self._fault():
            self.sim.double.fail_next(operation, code)

    @invariant()
    def nothing_outlives_its_expiry_by_more_than_a_period_and_a_minute(self) -> None:
        assert self.sim.worst_alive_past_due <= RECONCILE_EVERY + MINUTE, self.sim.worst_alive_past_due

    @invariant()
    def nothing_is_deleted_before_its_expiry_unless_its_stack_says_so(self) -> None:
        early = [
            life
            for life in self.sim.deleted_before_expiry()
            if not (life.deleted_by in ("stack-update", "stack-rollback") and life.overrun >= -SCHEDULE_LEAD)
        ]
        assert early == [], [(life.key, life.deleted_by, life.overrun) for life in early]


ServingLifecycle.TestCase.settings = settings(
    max_examples=8,
    stateful_step_count=15,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestGivenRandomLifecyclesThenNothingOutlivesItsExpiryByMoreThanAPeriodOrEndsEarly = ServingLifecycle.TestCase
