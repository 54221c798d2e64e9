"""A discrete-event simulation of serving lifecycles: one fake clock, emulated Scheduler, Lambda and CloudFormation.

moto stores schedules but never fires them, and nothing fires the reconciler's rate rule, so this harness
plays the AWS services the handlers rely on, on the Bedrock double's FakeClock:

- EventBridge Scheduler: every simulated minute it checks the one-time schedules moto holds in the group
  (ListSchedules + GetSchedule, `at(YYYY-MM-DDTHH:MM:SS)` in UTC; the list is re-read after any call that can
  change it, not 60 times an hour) and fires each due one within that minute
  (a seeded 0-59 s offset, the service's 60 s precision). The target is an asynchronous Lambda invoke, so once
  Lambda has the event the schedule is deleted (ActionAfterCompletion DELETE) whatever the function does.
  `block_scheduler_delivery` makes the invoke itself fail: Scheduler then retries with backoff and, past its
  retry policy, sends the event to the dead-letter queue, keeping nothing.
- Lambda asynchronous invocation: a function error is retried after 1 and then 2 more minutes (two retries,
  as cdk_constructs/serving_teardown.py configures), and the event then goes to the on-failure destination,
  the dead-letter queue the schedules also use.
- functions/teardown.py, invoked for real: only its seams are patched (clock, clients, wiring, the sweep
  policy variable), so a schedule event and the recurring sweep run exactly the code Lambda runs.
- The recurring reconciler: the sweep and the completion reconcile every `reconcile_every` (5 min).
- CloudFormation with the CDK Provider: Custom::TailorServing on_event, then is_complete polled every 30 s up
  to the Provider's 30-minute total timeout. A failed Create gets no Delete (the Provider skips it); a failed
  Update is rolled back by an Update to the old properties.

The harness wraps the double's two delete operations to record, for every resource, the tags it had and the
exact simulated time it disappeared; overrun = deleted_at - expires_at (or, when an update moved the expiry into
the past, minus the time of that update). The double is attached like Stubber (tests/conftest.py), so botocore's
own retries never absorb an injected Bedrock fault: each one costs a whole Lambda attempt, the worst case.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import heapq
import io
import itertools
import json
import os
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from unittest import mock

import boto3
from botocore.exceptions import ClientError

import functions.teardown as teardown_function
from rehearsal.bedrock import BedrockDouble, BedrockServiceError, FakeClock
from tailor import naming
from tailor.config import serving as serving_config
from tailor.jobs import completion
from tailor.jobs import resource as job_resource
from tailor.serving import job_serving, reconciler
from tailor.serving import resource as serving_resource
from tailor.serving.model import BUSY, TAG_ENVIRONMENT, TAG_EXPIRES_AT, TAG_MANAGED_BY, TAG_SERVING_KEY, parse_time
from tailor.serving.schedules import MAX_EVENT_AGE_S, MAX_RETRY_ATTEMPTS, Wiring
from tests.conftest import ACCOUNT, REGION

UTC = UTC
T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
POLICY = reconciler.SweepPolicy(warn_before_minutes=30, unmanaged="report", dry_run=False, max_hours=8)
RECONCILE_EVERY = timedelta(minutes=5)  # config/dev.yaml reconcile_every_minutes
SCHEDULER_PRECISION = MINUTE  # a one-time schedule fires within the minute of its at() time
ON_TIME = timedelta(0)  # ...and fires a minute early; the handler waits out the rest, so serving ends at its expiry
LAMBDA_RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=2))  # Lambda async: 2 retries, 1 then 2 minutes apart
PROVIDER_POLL = timedelta(seconds=30)  # cdk_constructs/serving_provider.py QUERY_INTERVAL and TOTAL_TIMEOUT
PROVIDER_TIMEOUT = timedelta(minutes=30)
SWEEP_EVENT = {"tailor": "sweep"}  # the reconciler rule's input (cdk_constructs/serving_teardown.py)
THROUGHPUT_READY = timedelta(minutes=12)  # Creating -> InService for a custom-model PT (order of magnitude)
DEPLOYMENT_READY = timedelta(minutes=8)
AT = re.compile(r"at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)")


class InjectedCrash(RuntimeError):
    """What a crashing Lambda invocation raises (an unhandled bug, an out-of-memory kill, a timeout)."""


# --------------------------------------------------------------------------------------------------------------
# What the simulation records
# --------------------------------------------------------------------------------------------------------------


@dataclass
class Life:
    """One Bedrock serving resource from the first time the harness saw it to the moment it disappeared."""

    arn: str
    mode: str
    name: str
    created_at: datetime
    tags: dict[str, str]
    deleted_at: datetime | None = None
    deleted_by: str | None = None  # the harness activity that was running: schedule, reconciler, stack-delete, ...
    deletable_from: datetime | None = None  # when it last left Creating/Updating (Bedrock refuses deletes before)
    expiry_changed_at: datetime | None = None  # when its expires-at tag last changed after creation (an hours update)

    @property
    def managed(self) -> bool:
        return self.tags.get(TAG_MANAGED_BY) == naming.PROJECT and self.tags.get(TAG_ENVIRONMENT) == "dev"

    @property
    def key(self) -> str | None:
        return self.tags.get(TAG_SERVING_KEY)

    @property
    def expires_at(self) -> datetime | None:
        return parse_time(self.tags.get(TAG_EXPIRES_AT))

    @property
    def due_at(self) -> datetime | None:
        """When it had to go: its expiry, or the moment an update moved that expiry into the past."""
        if self.expires_at is None:
            return None
        return max(self.expires_at, self.expiry_changed_at or self.expires_at)

    @property
    def overrun(self) -> timedelta | None:
        """deleted_at - due_at (negative: deleted early)."""
        if self.deleted_at is None or self.due_at is None:
            return None
        return self.deleted_at - self.due_at

    @property
    def overrun_from_deletable(self) -> timedelta | None:
        """Overrun counted from when a delete could first succeed: when due, or leaving Creating/Updating if later."""
        if self.overrun is None:
            return None
        return self.deleted_at - max(self.due_at, self.deletable_from or self.due_at)

    def retag(self, tags: dict[str, str], now: datetime) -> None:
        if tags.get(TAG_EXPIRES_AT) != self.tags.get(TAG_EXPIRES_AT):
            self.expiry_changed_at = now
        self.tags = dict(tags)


@dataclass
class Attempt:
    at: datetime
    error: str | None
    result: Any = None


@dataclass
class Invocation:
    """One asynchronous event handed to a function, with Lambda's attempts at it."""

    source: str  # schedule | reconciler | completion | replay | job-event
    event: dict[str, Any]
    attempts: list[Attempt] = field(default_factory=list)
    dead_lettered: bool = False

    @property
    def succeeded(self) -> bool:
        return bool(self.attempts) and self.attempts[-1].error is None

    @property
    def result(self) -> Any:
        return self.attempts[-1].result if self.succeeded else None


@dataclass
class StackOperation:
    """One custom-resource request as the CDK Provider runs it: on_event, then is_complete polls."""

    kind: str  # Create | Update | Delete
    spec: serving_resource.ServingSpec
    started_at: datetime
    event: dict[str, Any]
    response: dict[str, Any] | None = None
    complete: bool = False
    failed: str | None = None
    completed_at: datetime | None = None
    rollback: StackOperation | None = None  # the Update CloudFormation sends back after this Update failed


@dataclass
class _Fault:
    kind: str  # the invocation source it hits: schedule | reconciler | any
    remaining: int | None  # None: until `until`
    until: datetime | None = None
    after: bool = False  # crash after the handler did its work (the response is lost, the side effect is not)

    def hits(self, source: str, now: datetime) -> bool:
        if self.kind not in (source, "any"):
            return False
        if self.until is not None:
            return now < self.until
        return bool(self.remaining)


class _FailingCalls:
    """A client whose named methods raise a ClientError the next `times` calls; everything else passes through."""

    def __init__(self, target: Any, on_call: Callable[[str], None] = lambda name: None):
        self._target, self._on_call = target, on_call
        self._faults: dict[str, list[str]] = {}

    def fail_next(self, method: str, code: str, times: int = 1) -> None:
        self._faults.setdefault(method, []).extend([code] * times)

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._target, name)
        if not callable(attribute) or name.startswith("_") or name in ("meta", "exceptions"):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            self._on_call(name)
            if self._faults.get(name):
                code = self._faults[name].pop(0)
                operation = "".join(part.title() for part in name.split("_"))
                raise ClientError(
                    {"Error": {"Code": code, "Message": f"injected by the simulation ({name})"}}, operation
                )
            return attribute(*args, **kwargs)

        return call


class _Published:
    """The SNS client, recording what was published and when (moto keeps no readable log of its own)."""

    def __init__(self, target: Any, clock: Callable[[], datetime]):
        self._target, self._clock = target, clock
        self.messages: list[dict[str, Any]] = []

    def publish(self, **kwargs: Any) -> Any:
        self.messages.append(
            {"at": self._clock(), "subject": kwargs.get("Subject", ""), "message": kwargs.get("Message", "")}
        )
        return self._target.publish(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)


class _LambdaDatetime:
    """Stands in for `datetime` inside functions/teardown.py: its `now()` is the simulation's clock."""

    def __init__(self, clock: Callable[[], datetime]):
        self._clock = clock

    def now(self, tz: Any = None) -> datetime:
        return self._clock().astimezone(tz) if tz is not None else self._clock()


# --------------------------------------------------------------------------------------------------------------
# The world outside the handlers (what tests/conftest.py builds, for callers without pytest fixtures)
# --------------------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _session() -> boto3.session.Session:
    """One botocore session for every standalone world: a new session re-reads each service model (~30 ms a client).

    Made after moto is imported, so its clients carry moto's handler, which answers while a mock is active."""
    import moto  # noqa: F401

    return boto3.session.Session(region_name=REGION)


def make_world() -> tuple[BedrockDouble, SimpleNamespace, Wiring]:
    """The double, clients and wiring the conftest fixtures make; call inside an active `moto.mock_aws()`."""
    session = _session()
    double = BedrockDouble(
        account=ACCOUNT, region=REGION, strict=True, require_client_tokens=True, foundation_models=None
    )
    client = session.client("bedrock")
    double.attach(client, via="call")
    double.client = client
    clients = SimpleNamespace(
        bedrock=client,
        ssm=session.client("ssm"),
        s3=session.client("s3"),
        sns=session.client("sns"),
        scheduler=session.client("scheduler"),
        cloudwatch=session.client("cloudwatch"),
    )
    topic = clients.sns.create_topic(Name="tailor-dev")["TopicArn"]
    sqs = session.client("sqs")
    dlq = sqs.get_queue_attributes(
        QueueUrl=sqs.create_queue(QueueName="tailor-dev-dlq")["QueueUrl"], AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    clients.scheduler.create_schedule_group(Name="tailor-dev")
    wiring = Wiring(
        environment="dev",
        topic_arn=topic,
        schedule_group="tailor-dev",
        teardown_function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:tailor-dev-teardown",
        scheduler_role_arn=f"arn:aws:iam::{ACCOUNT}:role/tailor-dev-scheduler",
        dead_letter_queue_arn=dlq,
    )
    return double, clients, wiring


@contextlib.contextmanager
def standalone(**options: Any) -> Iterator[Simulation]:
    """A Simulation in its own moto world: for the benchmark and the state machine (no pytest fixtures)."""
    from moto import mock_aws

    with mock_aws():
        double, clients, wiring = make_world()
        yield Simulation(double, clients, wiring, **options)


# --------------------------------------------------------------------------------------------------------------
# Specs through the same code path synth uses
# --------------------------------------------------------------------------------------------------------------


def _environment() -> Any:
    from tests.handlers.helpers import environment

    return environment("dev")


def throughput_spec(
    model_arn: str,
    key: str = "micro-eval",
    *,
    hours: float | None = 1,
    mode: str = "provisioned",
    units: int = 1,
    commitment: str | None = None,
    revision: int = 0,
) -> serving_resource.ServingSpec:
    """A `throughputs` entry serving `model_arn`, named as synth names it (hours do not change the name)."""
    entry = _environment().throughputs["micro-eval"]
    entry = replace(
        entry,
        key=key,
        mode=mode,
        model=replace(entry.model, value=model_arn),
        model_units=units if mode == "provisioned" else 0,
        hours=hours,
        commitment=commitment,
        revision=revision,
    )
    return serving_resource.spec_for("dev", {"team": "ml"}, serving_config.named(entry, "dev", None))


def job_serving_spec(job_key: str = "support-bot") -> serving_resource.ServingSpec:
    return serving_resource.spec_for("dev", {}, _environment().jobs[job_key].serve)


def job_state_change(job_arn: str, job_name: str, status: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": f"evt-{hashlib.sha256(job_arn.encode()).hexdigest()[:8]}",
        "detail-type": "Model Customization Job State Change",
        "source": "aws.bedrock",
        "resources": [job_arn],
        "detail": {"version": "0.0", "jobName": job_name, "jobArn": job_arn, "jobStatus": status},
    }


# --------------------------------------------------------------------------------------------------------------
# The simulation
# --------------------------------------------------------------------------------------------------------------


class Simulation:
    """Runs handlers on one FakeClock as AWS would trigger them, with faults injected where a test asks.

    Time moves only through `run` / `run_until`; events due at the same instant run in the order they were
    scheduled. Everything the handlers did is kept: `lives`, `invocations`, `stack_operations`, `messages`.
    """

    def __init__(
        self,
        double: BedrockDouble,
        clients: Any,
        wiring: Wiring,
        *,
        start: datetime = T0,
        policy: reconciler.SweepPolicy = POLICY,
        reconcile_every: timedelta = RECONCILE_EVERY,
        reconcile_phase: timedelta = timedelta(),
        seed: int = 0,
        throughput_ready: timedelta | None = THROUGHPUT_READY,
        deployment_ready: timedelta | None = DEPLOYMENT_READY,
        fire_offset: timedelta | None = None,
        lambda_skew: timedelta = timedelta(),
    ):
        """`fire_offset`: when within its minute a schedule fires (default: seeded random 0-59 s).
        `lambda_skew`: how far the function's clock is ahead (+) or behind (-) the simulation's."""
        if not isinstance(double.clock, FakeClock):
            double.clock = FakeClock(start)
        self.clock: FakeClock = double.clock
        self.clock.set(start)
        double.throughput_ready_delay = throughput_ready
        double.deployment_ready_delay = deployment_ready
        self.double, self.wiring, self.policy = double, wiring, policy
        # The handlers' view of Scheduler (faults can be injected); the emulated service reads moto through the
        # real client.
        self.scheduler = _FailingCalls(clients.scheduler, on_call=self._scheduler_called)
        self.sns = _Published(clients.sns, self.clock)
        self.clients = SimpleNamespace(**{**vars(clients), "scheduler": self.scheduler, "sns": self.sns})
        self._raw_scheduler = clients.scheduler
        self._sqs = _session().client("sqs")
        self._dlq_url = self._sqs.get_queue_url(QueueName=wiring.dead_letter_queue_arn.rsplit(":", 1)[-1])["QueueUrl"]
        self.reconcile_every = reconcile_every
        self._random = random.Random(seed)
        self._queue: list[tuple[datetime, int, str, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._activity = "setup"
        self._dispatched: set[str] = set()  # schedules handed to Lambda (or in Scheduler's own retries)
        self._parsed: dict[tuple[str, Any], tuple[datetime, dict[str, Any]]] = {}
        self._listed: list[dict[str, Any]] | None = None  # ListSchedules, re-read after any call that can change it
        self._faults: list[_Fault] = []
        self._scheduler_blocked_until: datetime | None = None
        self._undeletable: dict[str, str] = {}  # ARN -> error code Bedrock keeps answering its delete with
        self.fire_offset, self.lambda_skew = fire_offset, lambda_skew
        self.lives: dict[str, Life] = {}
        self.invocations: list[Invocation] = []
        self.stack_operations: list[StackOperation] = []
        self.worst_alive_past_due = timedelta(0)  # managed, alive, past due and not busy: the bound's measure
        self._wrap_deletes()
        self._at(self._next_minute(start), "scheduler", self._poll_scheduler)
        self._at(start + reconcile_phase, "reconciler", self._reconcile)

    # --------------------------------------------------------------------------------------------------------- time
    @property
    def now(self) -> datetime:
        return self.clock()

    def run(self, **delta: float) -> datetime:
        return self.run_until(self.now + timedelta(**delta))

    def run_until(self, end: datetime) -> datetime:
        while self._queue and self._queue[0][0] <= end:
            when, _, activity, action = heapq.heappop(self._queue)
            self.clock.set(max(when, self.now))
            self._act(activity, action)
        self.clock.set(max(end, self.now))
        self._observe()
        return self.now

    def _at(self, when: datetime, activity: str, action: Callable[[], None]) -> None:
        heapq.heappush(self._queue, (when, next(self._seq), activity, action))

    @staticmethod
    def _next_minute(when: datetime) -> datetime:
        floor = when.replace(second=0, microsecond=0)
        return floor if floor == when else floor + MINUTE

    def _act(self, activity: str, action: Callable[[], Any]) -> Any:
        previous, self._activity = self._activity, activity
        try:
            self.double.tick()
            return action()
        finally:
            self._activity = previous
            self._observe()

    # -------------------------------------------------------------------------------------------------- observation
    def _wrap_deletes(self) -> None:
        double = self.double
        for operation, find, key, mode in (
            ("DeleteProvisionedModelThroughput", double._find_throughput, "provisionedModelId", "provisioned"),
            ("DeleteCustomModelDeployment", double._find_deployment, "customModelDeploymentIdentifier", "on_demand"),
        ):
            original = getattr(double, f"_op_{operation}")

            def wrapped(params: dict, original=original, find=find, key=key, mode=mode) -> dict:
                record = find(params[key])
                if record.arn in self._undeletable:
                    raise BedrockServiceError(
                        self._undeletable[record.arn], f"injected by the simulation: {record.arn} cannot be deleted"
                    )
                tags, ready_since = dict(double.tags.get(record.arn, {})), record.status_changed_at
                result = original(params)  # raises (Conflict, commitment) before anything is recorded
                life = self._saw(
                    record.arn, mode, record.name, getattr(record, "creation_time", None) or record.created_at, tags
                )
                life.deleted_at, life.deleted_by, life.deletable_from = double.clock(), self._activity, ready_since
                return result

            setattr(double, f"_op_{operation}", wrapped)

    def _saw(self, arn: str, mode: str, name: str, created: datetime, tags: dict[str, str]) -> Life:
        life = self.lives.get(arn)
        if life is None:
            life = self.lives[arn] = Life(arn, mode, name, created, dict(tags))
        elif life.deleted_at is None:
            life.retag(tags, self.now)
        return life

    def _observe(self) -> None:
        now = self.now
        live = [
            (record, "provisioned", record.creation_time, record.status) for record in self.double.throughputs.values()
        ]
        live += [
            (
                record,
                "on_demand",
                record.created_at,
                "Updating" if record.update_status == "Updating" else record.status,
            )
            for record in self.double.deployments.values()
        ]
        for record, mode, created, status in live:
            life = self._saw(record.arn, mode, record.name, created, self.double.tags.get(record.arn, {}))
            if not life.managed or life.due_at is None or status in BUSY:
                continue  # Bedrock refuses its delete for now: counted from when it settles
            since = max(life.due_at, record.status_changed_at)
            if now > since:
                self.worst_alive_past_due = max(self.worst_alive_past_due, now - since)

    def alive(self) -> list[Life]:
        return [life for life in self.lives.values() if life.deleted_at is None]

    def managed_lives(self) -> list[Life]:
        return [life for life in self.lives.values() if life.managed]

    # ---------------------------------------------------------------------------------------- EventBridge Scheduler
    def schedules(self) -> list[dict[str, Any]]:
        """The schedules moto holds in the group, in full (GetSchedule)."""
        found = []
        for page in self._raw_scheduler.get_paginator("list_schedules").paginate(GroupName=self.wiring.schedule_group):
            for summary in page["Schedules"]:
                with contextlib.suppress(self._raw_scheduler.exceptions.ResourceNotFoundException):
                    found.append(
                        self._raw_scheduler.get_schedule(Name=summary["Name"], GroupName=self.wiring.schedule_group)
                    )
        return found

    def _fire_time(self, schedule: dict[str, Any]) -> tuple[datetime, dict[str, Any]]:
        key = (schedule["Name"], schedule.get("LastModificationDate"))
        if key not in self._parsed:
            match = AT.fullmatch(schedule.get("ScheduleExpression", ""))
            if match is None or schedule.get("ScheduleExpressionTimezone", "UTC") != "UTC":
                raise AssertionError(
                    f"the harness fires only at() schedules in UTC, got {schedule.get('ScheduleExpression')!r}"
                )
            self._parsed[key] = (
                datetime.strptime(match[1], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC),
                json.loads(schedule["Target"]["Input"]),
            )
        return self._parsed[key]

    def _scheduler_called(self, method: str) -> None:
        if not method.startswith(("get_", "list_")):
            self._listed = None

    def _poll_scheduler(self) -> None:
        now = self.now
        if self._listed is None:  # only a create, update or delete changes the list: reading it each minute is waste
            self._listed = [
                summary
                for page in self._raw_scheduler.get_paginator("list_schedules").paginate(
                    GroupName=self.wiring.schedule_group
                )
                for summary in page["Schedules"]
            ]
        for summary in self._listed:
            name = summary["Name"]
            if name in self._dispatched or summary.get("State") != "ENABLED":
                continue
            cached = self._parsed.get((name, summary.get("LastModificationDate")))
            if cached is None:
                try:
                    schedule = self._raw_scheduler.get_schedule(Name=name, GroupName=self.wiring.schedule_group)
                except self._raw_scheduler.exceptions.ResourceNotFoundException:
                    continue
                cached = self._fire_time(schedule)
            when, event = cached
            if when <= now:
                self._dispatched.add(name)
                # 60 s precision: anywhere within the minute (seeded, so a run can be repeated)
                offset = (
                    self.fire_offset if self.fire_offset is not None else timedelta(seconds=self._random.randrange(60))
                )
                self._at(
                    now + offset,
                    "schedule",
                    lambda name=name, event=event, first=now + offset: self._deliver(name, event, first, 1),
                )
        self._at(now + MINUTE, "scheduler", self._poll_scheduler)

    def _deliver(self, name: str, event: dict[str, Any], first: datetime, attempt: int) -> None:
        """Scheduler invokes the function asynchronously; a deleted schedule no longer fires."""
        try:
            self._raw_scheduler.get_schedule(Name=name, GroupName=self.wiring.schedule_group)
        except self._raw_scheduler.exceptions.ResourceNotFoundException:
            self._dispatched.discard(name)
            return
        if self._scheduler_blocked_until is not None and self.now < self._scheduler_blocked_until:
            # Scheduler's own retries (exponential backoff) until its retry policy is spent, then its DLQ.
            age = self.now - first
            if attempt > MAX_RETRY_ATTEMPTS or age >= timedelta(seconds=MAX_EVENT_AGE_S):
                self._dead_letter(event, "Scheduler could not invoke the target")
                self._delete_schedule(name)
                self._dispatched.discard(name)
                return
            self._at(
                self.now + min(timedelta(minutes=2 ** (attempt - 1)), timedelta(minutes=30)),
                "schedule",
                lambda: self._deliver(name, event, first, attempt + 1),
            )
            return
        self._delete_schedule(name)  # ActionAfterCompletion DELETE: the invoke was accepted
        self._dispatched.discard(name)
        self.invoke_teardown_function(event, source="schedule")

    def _delete_schedule(self, name: str) -> None:
        self._listed = None
        with contextlib.suppress(self._raw_scheduler.exceptions.ResourceNotFoundException):
            self._raw_scheduler.delete_schedule(Name=name, GroupName=self.wiring.schedule_group)

    # ------------------------------------------------------------------------------------------------------- Lambda
    def invoke_teardown_function(self, event: dict[str, Any], *, source: str) -> Invocation:
        """An asynchronous invoke of functions/teardown.py, retried by Lambda on error (runs its first attempt now)."""
        invocation = Invocation(source, event)
        self.invocations.append(invocation)
        self._attempt(invocation, lambda: self._teardown_handler(invocation))
        return invocation

    def _teardown_handler(self, invocation: Invocation) -> Any:
        crash = next((f for f in self._faults if f.hits(invocation.source, self.now)), None)
        if crash is not None and crash.remaining:
            crash.remaining -= 1
        if crash is not None and not crash.after:
            raise InjectedCrash(f"injected crash before the handler ran ({invocation.source})")
        with (
            mock.patch.object(teardown_function, "datetime", _LambdaDatetime(lambda: self.clock() + self.lambda_skew)),
            mock.patch.object(teardown_function, "aws", SimpleNamespace(Clients=lambda: self.clients)),
            mock.patch.object(teardown_function, "from_environment", lambda: self.wiring),
            mock.patch.object(
                teardown_function, "time", SimpleNamespace(sleep=lambda seconds: self.clock.advance(seconds=seconds))
            ),
            mock.patch.dict(os.environ, {"TAILOR_SWEEP_POLICY": self.policy.to_json()}),
        ):
            out = io.StringIO()
            try:
                with contextlib.redirect_stdout(out):
                    result = teardown_function.handler(invocation.event, None)
            finally:
                # Even a failed run flushes its metrics, as Powertools does in Lambda.
                replay_emf(out.getvalue(), self.clients.cloudwatch)
        if crash is not None:
            raise InjectedCrash(f"injected crash after the handler ran ({invocation.source}); its response is lost")
        return result

    def _attempt(self, invocation: Invocation, handler: Callable[[], Any]) -> None:
        try:
            result = handler()
        except Exception as exc:  # what Lambda sees as a function error, whatever it is
            invocation.attempts.append(Attempt(self.now, f"{type(exc).__name__}: {exc}"))
            retry = len(invocation.attempts) - 1
            if retry < len(LAMBDA_RETRY_DELAYS):
                self._at(
                    self.now + LAMBDA_RETRY_DELAYS[retry], self._activity, lambda: self._attempt(invocation, handler)
                )
            else:
                invocation.dead_lettered = True
                self._dead_letter(invocation.event, invocation.attempts[-1].error or "")
            return
        invocation.attempts.append(Attempt(self.now, None, result))

    def _dead_letter(self, event: dict[str, Any], error: str) -> None:
        self._sqs.send_message(
            QueueUrl=self._dlq_url,
            MessageBody=json.dumps(event, sort_keys=True),
            MessageAttributes={"ErrorMessage": {"DataType": "String", "StringValue": error[:256] or "-"}},
        )

    def dead_letters(self) -> list[dict[str, Any]]:
        """Drains the dead-letter queue: the events Lambda or Scheduler gave up on."""
        out = []
        while True:
            batch = self._sqs.receive_message(
                QueueUrl=self._dlq_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
            ).get("Messages", [])
            if not batch:
                return out
            for message in batch:
                out.append(json.loads(message["Body"]))
                self._sqs.delete_message(QueueUrl=self._dlq_url, ReceiptHandle=message["ReceiptHandle"])

    # ----------------------------------------------------------------------------------------------- the reconciler
    def _reconcile(self) -> None:
        self.invoke_teardown_function(dict(SWEEP_EVENT), source="reconciler")
        invocation = Invocation("completion", {"source": "aws.events", "detail-type": "Scheduled Event"})
        self.invocations.append(invocation)
        self._attempt(invocation, lambda: self._completion(None))
        self._at(self.now + self.reconcile_every, "reconciler", self._reconcile)

    def _completion(self, event: dict[str, Any] | None) -> None:
        """One invocation of the completion function, as functions/job_completion.py composes it."""
        common = {"environment": self.wiring.environment, "topic_arn": self.wiring.topic_arn, "now": self.clock}
        if event is None:
            completion.reconcile(self.clients, **common)
        elif completion.handle_event(event, self.clients, **common).job_key is None:
            return
        job_serving.serve_completed(self.clients, self.wiring, now=self.clock())

    def sweep_now(self) -> Invocation:
        return self._act("reconciler", lambda: self.invoke_teardown_function(dict(SWEEP_EVENT), source="reconciler"))

    # ------------------------------------------------------------------------------------------------------- faults
    def crash_function(
        self, source: str, *, times: int | None = None, until: datetime | None = None, after: bool = False
    ) -> None:
        """The next `times` invocations from `source` (schedule | reconciler | any), or all until `until`, raise."""
        self._faults.append(_Fault(source, times, until, after))

    def block_scheduler_delivery(self, until: datetime) -> None:
        """Scheduler cannot invoke the function (a missing lambda:InvokeFunction, a deleted function) until `until`."""
        self._scheduler_blocked_until = until

    def deny_delete(self, arn: str, code: str = "AccessDeniedException") -> None:
        """Every delete of `arn` fails with `code` (an SCP or permission boundary, a resource stuck server-side)."""
        self._undeletable[arn] = code

    def allow_delete(self, arn: str) -> None:
        self._undeletable.pop(arn, None)

    def drop_schedules(self, arn: str | None = None) -> list[str]:
        """Deletes schedules out of band (a person, a failed deploy step): all of them, or those targeting `arn`."""
        dropped = []
        for schedule in self.schedules():
            if arn is None or json.loads(schedule["Target"]["Input"]).get("arn") == arn:
                self._delete_schedule(schedule["Name"])
                dropped.append(schedule["Name"])
        return dropped

    # ----------------------------------------------------------------------------------------------- CloudFormation
    def deploy(
        self, spec: serving_resource.ServingSpec, *, old: serving_resource.ServingSpec | None = None
    ) -> StackOperation:
        """Create (or Update from `old`) the serving custom resource; the Provider then polls is_complete."""
        kind = "Create" if old is None else "Update"
        event = {
            "RequestType": kind,
            "RequestId": f"req-{next(self._seq)}",
            "ResourceProperties": {"Spec": spec.to_json()},
        }
        if old is not None:
            event |= {"OldResourceProperties": {"Spec": old.to_json()}, "PhysicalResourceId": old.name}
        return self._stack_operation(kind, spec, event, "stack-update" if old else "stack-create")

    def delete_stack(self, spec: serving_resource.ServingSpec) -> StackOperation:
        event = {
            "RequestType": "Delete",
            "RequestId": f"req-{next(self._seq)}",
            "ResourceProperties": {"Spec": spec.to_json()},
            "PhysicalResourceId": spec.name,
        }
        return self._stack_operation("Delete", spec, event, "stack-delete")

    def _stack_operation(
        self, kind: str, spec: serving_resource.ServingSpec, event: dict[str, Any], activity: str
    ) -> StackOperation:
        operation = StackOperation(kind, spec, self.now, event)
        self.stack_operations.append(operation)

        def fail(reason: str) -> None:
            operation.failed, operation.completed_at = reason, self.now
            # After a failed Create the Provider sends no Delete; a failed Update is rolled back by an Update to the
            # old properties (and a failed rollback stops there, UPDATE_ROLLBACK_FAILED).
            if kind == "Update" and activity != "stack-rollback":
                self._at(self.now + PROVIDER_POLL, "stack-rollback", lambda: self._roll_back(operation))

        def start() -> None:
            try:
                operation.response = serving_resource.on_event(event, self.clients, self.wiring, now=self.now)
            except Exception as exc:
                fail(f"{type(exc).__name__}: {exc}")
                return
            self._at(self.now + PROVIDER_POLL, activity, poll)

        def poll() -> None:
            polled = {**event, **(operation.response or {})}
            try:
                answer = serving_resource.is_complete(polled, self.clients, self.wiring, now=self.now)
            except Exception as exc:
                fail(f"{type(exc).__name__}: {exc}")
                return
            if answer.get("IsComplete"):
                operation.complete, operation.completed_at = True, self.now
            elif self.now - operation.started_at >= PROVIDER_TIMEOUT:
                fail("Provider total timeout")
            else:
                self._at(self.now + PROVIDER_POLL, activity, poll)

        self._act(activity, start)
        return operation

    def _roll_back(self, failed: StackOperation) -> None:
        event = {
            "RequestType": "Update",
            "RequestId": f"req-{next(self._seq)}",
            "PhysicalResourceId": failed.event["PhysicalResourceId"],
            "ResourceProperties": failed.event["OldResourceProperties"],
            "OldResourceProperties": failed.event["ResourceProperties"],
        }
        old = serving_resource.ServingSpec.from_properties(event["ResourceProperties"])
        failed.rollback = self._stack_operation("Update", old, event, "stack-rollback")

    # --------------------------------------------------------------------------------------------------------- jobs
    def start_job(self, job_key: str = "support-bot") -> tuple[str, serving_resource.ServingSpec]:
        """Deploys the job and its `serve` block as synth would: the job starts, its serving waits as pending."""
        from tests.handlers.helpers import event, spec, stage_assets

        job_spec = spec(job_key)
        stage_assets(self.clients.s3, job_spec)
        job_arn = self._act(
            "stack-create", lambda: job_resource.on_event(event("Create", job_spec), self.clients, now=self.clock)
        )["PhysicalResourceId"]
        serving = job_serving_spec(job_key)
        self.deploy(serving)
        return job_arn, serving

    def finish_job(
        self, job_arn: str, *, event_delivered: bool = True, delay: timedelta = timedelta(seconds=20)
    ) -> None:
        """The job completes; its state-change event reaches the completion function `delay` later, or never."""
        job = self.double.finish_job(job_arn, "Completed")
        if not event_delivered:
            return
        state_change = job_state_change(job_arn, job.name, "Completed")

        def deliver() -> None:
            invocation = Invocation("job-event", state_change)
            self.invocations.append(invocation)
            self._attempt(invocation, lambda: self._completion(state_change))

        self._at(self.now + delay, "job-event", deliver)

    # ------------------------------------------------------------------------------------------------------ replays
    def redeliver(self, event: dict[str, Any], *, at: datetime | None = None, source: str = "replay") -> None:
        """At-least-once delivery: the same event again, now or later (duplicate, 6-hour-late retry, DLQ redrive)."""
        self._at(at or self.now, source, lambda: self.invoke_teardown_function(event, source=source))

    def fired_events(self) -> list[dict[str, Any]]:
        return [i.event for i in self.invocations if i.source == "schedule"]

    # ---------------------------------------------------------------------------------------------- reading results
    @property
    def messages(self) -> list[dict[str, Any]]:
        return self.sns.messages

    def outcomes(self, source: str) -> list[Any]:
        return [i.result for i in self.invocations if i.source == source and i.succeeded]

    def failed_attempts(self, source: str | None = None) -> list[Attempt]:
        return [a for i in self.invocations if source in (None, i.source) for a in i.attempts if a.error]

    def deleted_before_expiry(self, *, allowed: tuple[str, ...] = ("stack-delete",)) -> list[Life]:
        """Managed lives deleted before their expires-at by anything but the `allowed` activities."""
        return [
            life
            for life in self.managed_lives()
            if life.deleted_at is not None
            and life.expires_at is not None
            and life.deleted_at < life.expires_at
            and life.deleted_by not in allowed
        ]


def minutes(delta: timedelta | None) -> str:
    """`m:ss` for tables and messages (negative when early)."""
    if delta is None:
        return "-"
    seconds = int(delta.total_seconds())
    sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
    return f"{sign}{seconds // 60}:{seconds % 60:02d}"


__all__ = [
    "DEPLOYMENT_READY",
    "InjectedCrash",
    "Invocation",
    "LAMBDA_RETRY_DELAYS",
    "Life",
    "MINUTE",
    "POLICY",
    "RECONCILE_EVERY",
    "ON_TIME",
    "SCHEDULER_PRECISION",
    "Simulation",
    "StackOperation",
    "T0",
    "THROUGHPUT_READY",
    "job_serving_spec",
    "job_state_change",
    "make_world",
    "minutes",
    "standalone",
    "throughput_spec",
]


# --------------------------------------------------------------------------------------------------------------
# Sweeps: their specs as synth builds them, and a simulation that runs the whole completion function
# --------------------------------------------------------------------------------------------------------------

SWEEP_EXAMPLE = "examples/config/sweep.yaml"
EVALUATION_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/tailor-dev-evaluation"


def sweep_environment(directory: Any, *, change: Callable[[dict[str, Any]], None] | None = None) -> Any:
    """examples/config/sweep.yaml as environment `dev` (the world's wiring is dev's), changed by `change`."""
    from pathlib import Path

    import yaml

    from tailor.config.catalog import load_catalog
    from tailor.config.environment import load_environment
    from tests.conftest import ROOT

    data = yaml.safe_load((ROOT / SWEEP_EXAMPLE).read_text())
    data["environment"] = "dev"
    if change is not None:
        change(data)
    path = Path(directory) / "config" / "dev.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_environment(path, load_catalog(), base_dir=ROOT)


@dataclass(frozen=True)
class SweepSpecs:
    """What synth writes for one sweep job: a resource per trial, the sweep's resource, its serving (if any)."""

    trials: tuple[Any, ...]  # tailor.jobs.spec.Spec, in trial order
    sweep: Any  # tailor.jobs.sweep.SweepSpec
    serving: serving_resource.ServingSpec | None
    assets: tuple[tuple[str, bytes], ...]  # (asset key, bytes) the deploy uploads before the resources run


def sweep_specs(env: Any, job_key: str = "support-bot") -> SweepSpecs:
    """The specs cdk_constructs/customization_job.py builds, with the deploy's values made concrete."""
    from tailor.jobs import inputs
    from tailor.jobs.request import Deployment
    from tailor.jobs.spec import DatasetCopy
    from tests.handlers.helpers import ASSET_BUCKET, DATA_BUCKET, KEY_ARN, OUTPUT_BUCKET, ROLE_ARN

    job = env.jobs[job_key]
    uris, copies, assets = {}, [], []
    for role, source in inputs.datasets(job):
        key = naming.dataset_key(env.name, job.key, role, source.sha256, source.path.name)
        uris[role] = f"s3://{DATA_BUCKET}/{key}"
        copies.append(DatasetCopy(f"s3://{ASSET_BUCKET}/{source.sha256}.jsonl", uris[role]))
        assets.append((f"{source.sha256}.jsonl", source.path.read_bytes()))
    deployment = Deployment(ROLE_ARN, OUTPUT_BUCKET, KEY_ARN, uris, None)
    trials = tuple(inputs.resource_spec(env, t, deployment, tuple(copies), data_key_arn=KEY_ARN) for t in job.trials)
    settings, sweep_copies = None, ()
    if job.sweep.evaluation is not None:
        dataset = job.sweep.evaluation.dataset
        uri = dataset.location  # S3 prompts: validated by the sweep resource at deploy
        if dataset.path is not None:
            uri = f"s3://{DATA_BUCKET}/{inputs.evaluation_dataset_key(env.name, job)}"
            sweep_copies = (DatasetCopy(f"s3://{ASSET_BUCKET}/{dataset.sha256}.jsonl", uri),)
            assets.append((f"{dataset.sha256}.jsonl", dataset.path.read_bytes()))
        settings = inputs.evaluation_settings(
            env, job, dataset_uri=uri, role_arn=EVALUATION_ROLE_ARN, output_bucket=OUTPUT_BUCKET
        )
    sweep = inputs.sweep_spec(env, job, evaluation_settings=settings, copies=sweep_copies, data_key_arn=KEY_ARN)
    serving = serving_resource.spec_for(env.name, dict(env.tags), job.serve) if job.serve else None
    return SweepSpecs(trials, sweep, serving, tuple(assets))


def stage_sweep_assets(s3: Any, specs: SweepSpecs) -> None:
    from tests.handlers.helpers import ASSET_BUCKET, DATA_BUCKET, OUTPUT_BUCKET

    existing = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    for bucket in (DATA_BUCKET, OUTPUT_BUCKET, ASSET_BUCKET):
        if bucket not in existing:
            s3.create_bucket(Bucket=bucket)
    for key, body in specs.assets:
        s3.put_object(Bucket=ASSET_BUCKET, Key=key, Body=body)


def cfn_event(request_type: str, spec: Any, *, physical_id: str | None = None, old: Any = None) -> dict[str, Any]:
    """A CloudFormation custom-resource event for a job Spec or a SweepSpec (both serialize with to_json)."""
    import uuid

    from tailor.jobs.sweep import RESOURCE_TYPE as SWEEP_TYPE

    kind = SWEEP_TYPE if hasattr(spec, "sweep_name") else "Custom::TailorCustomizationJob"
    body: dict[str, Any] = {
        "RequestType": request_type,
        "RequestId": f"req-{uuid.uuid4().hex[:8]}",
        "StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/Tailor-dev-Jobs/abc",
        "LogicalResourceId": "Job",
        "ResourceType": kind,
        "ResourceProperties": {"ServiceToken": "arn:aws:lambda:token", "Spec": json.dumps(spec.to_json())},
    }
    if physical_id is not None:
        body["PhysicalResourceId"] = physical_id
    if old is not None:
        body["OldResourceProperties"] = {"ServiceToken": "arn:aws:lambda:token", "Spec": json.dumps(old.to_json())}
    return body


def put_results(s3: Any) -> Callable[[str, bytes], None]:
    """The double's evaluation-result sink, writing into moto's S3 as Bedrock writes into the output bucket."""

    def write(uri: str, body: bytes) -> None:
        bucket, key = naming.split_s3_uri(uri)
        s3.put_object(Bucket=bucket, Key=key, Body=body)

    return write


class SweepSimulation(Simulation):
    """A Simulation whose completion invocations run functions/job_completion.py whole (records, the queue,
    sweeps, evaluations, serving), and whose jobs end by time in the double, each state change delivered as
    EventBridge would: 20 s later, or never (`lose`), or twice (`duplicate`), chosen per job name fragment.

    Kept for the assertions: the most jobs ever running at once, every CreateModelCustomizationJob answer.
    """

    def __init__(
        self,
        double: BedrockDouble,
        clients: Any,
        wiring: Wiring,
        *,
        quota: int = 2,
        job_minutes: float = 60,
        evaluation_minutes: float = 30,
        lose: tuple[str, ...] = (),
        duplicate: tuple[str, ...] = (),
        **options: Any,
    ):
        double.job_concurrency_quota = quota
        double.job_metrics = "hyperparameters"
        double.job_duration = timedelta(minutes=job_minutes)
        double.evaluation_duration = timedelta(minutes=evaluation_minutes)
        double.evaluation_results = put_results(clients.s3)
        super().__init__(double, clients, wiring, **options)
        self.lose, self.duplicate = lose, duplicate
        self.most_running = 0
        self._seen_transitions = 0
        self.lost_events: list[str] = []
        self.delivered: list[tuple[datetime, str, str]] = []  # (when, job name, status)

    # the jobs' events
    def _observe(self) -> None:
        super()._observe()
        running = sum(1 for j in self.double.jobs.values() if j.status in ("InProgress", "Stopping"))
        self.most_running = max(self.most_running, running)
        for transition in self.double.transitions[self._seen_transitions :]:
            if (
                transition.kind == "job"
                and transition.stage is None
                and transition.new in ("Completed", "Failed", "Stopped")
            ):
                self._announce(transition.arn, transition.name, transition.new, transition.time)
        self._seen_transitions = len(self.double.transitions)

    def _announce(self, arn: str, name: str, status: str, when: datetime) -> None:
        if any(fragment in name for fragment in self.lose):
            self.lost_events.append(name)
            return
        event = job_state_change(arn, name, status)
        copies = 2 if any(fragment in name for fragment in self.duplicate) else 1
        for copy_ in range(copies):
            at = max(self.now, when) + timedelta(seconds=20 + 40 * copy_)

            def deliver(event: dict[str, Any] = event, name: str = name) -> None:
                self.delivered.append((self.now, name, status))
                invocation = Invocation("job-event", event)
                self.invocations.append(invocation)
                self._attempt(invocation, lambda: self._completion(event))

            self._at(at, "job-event", deliver)

    def _completion(self, event: dict[str, Any] | None) -> None:
        import functions.job_completion as completion_function

        scheduled = {"source": "aws.events", "detail-type": "Scheduled Event"}
        with (
            mock.patch.object(completion_function, "aws", SimpleNamespace(Clients=lambda: self.clients)),
            mock.patch.object(completion_function, "from_environment", lambda: self.wiring),
            mock.patch.object(completion_function, "job_serving_wiring", lambda: self.wiring),
            mock.patch.object(completion_function, "_now", self.clock),
            mock.patch.object(
                completion_function, "time", SimpleNamespace(sleep=lambda seconds: self.clock.advance(seconds=seconds))
            ),
        ):
            return completion_function.handler(event if event is not None else scheduled, None)

    # the stack
    def deploy_sweep(self, specs: SweepSpecs, *, seed: int = 0) -> dict[str, str]:
        """CloudFormation creating the sweep's resources (in parallel: here in a seeded shuffle), then its serving.
        Returns each trial's physical id by job name."""
        stage_sweep_assets(self.clients.s3, specs)
        order = list(specs.trials)
        random.Random(seed).shuffle(order)
        physical = {}
        for spec in [*order, specs.sweep]:
            answer = self._act(
                "stack-create",
                lambda spec=spec: job_resource.on_event(cfn_event("Create", spec), self.clients, now=self.clock),
            )
            if hasattr(spec, "job_name"):
                physical[spec.job_name] = answer["PhysicalResourceId"]
        if specs.serving is not None:
            self.deploy(specs.serving)
        return physical

    def delete_sweep(self, specs: SweepSpecs, physical: dict[str, str]) -> None:
        """Stack deletion: serving first (it depends on the job construct), then the trials and the sweep."""
        if specs.serving is not None:
            self.delete_stack(specs.serving)
        for spec in specs.trials:
            self._act(
                "stack-delete",
                lambda spec=spec: job_resource.on_event(
                    cfn_event("Delete", spec, physical_id=physical[spec.job_name]), self.clients, now=self.clock
                ),
            )
        self._act(
            "stack-delete",
            lambda: job_resource.on_event(
                cfn_event("Delete", specs.sweep, physical_id=f"tailor-dev-{specs.sweep.job_key}-sweep"),
                self.clients,
                now=self.clock,
            ),
        )

    # reading results
    def sweep_record(self, job_key: str = "support-bot") -> dict[str, Any] | None:
        from tailor import records

        return records.get(self.clients.ssm, naming.job_record_name("dev", job_key))

    def starts(self) -> list[Any]:
        """Every CreateModelCustomizationJob answer: (job name, error code or None)."""
        return [(c.params["jobName"], c.error_code) for c in self.double.calls_to("CreateModelCustomizationJob")]


def replay_emf(text: str, cloudwatch: Any) -> None:
    """What CloudWatch Logs does with a function's embedded-metric-format lines: each becomes datapoints."""
    for line in text.splitlines():
        if not line.startswith("{"):
            continue
        document = json.loads(line)
        for block in document.get("_aws", {}).get("CloudWatchMetrics", []):
            dimensions = [{"Name": name, "Value": document[name]} for name in block["Dimensions"][0]]
            data = []
            for metric in block["Metrics"]:
                raw = document[metric["Name"]]
                for value in raw if isinstance(raw, list) else [raw]:
                    unit = metric.get("Unit") or "None"
                    data.append({"MetricName": metric["Name"], "Dimensions": dimensions, "Value": value, "Unit": unit})
            cloudwatch.put_metric_data(Namespace=block["Namespace"], MetricData=data)
