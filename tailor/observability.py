"""What Tailor's functions count, in one place: the namespace, the one dimension, and every metric's name.

The alarms (cdk_constructs/serving_teardown.py) and the dashboard (cdk_constructs/dashboard.py) select these
metrics by namespace, name and the Environment dimension alone. A CloudWatch metric is identified by its
whole dimension set, so whatever emits them must add no other dimension (Powertools' default `service`
dimension included): tests/handlers/serving/test_metrics.py proves the emitted documents match.

The domain never talks to CloudWatch itself: it hands counts to a MetricSink, which the Lambda adapter
(functions/observability.py) turns into embedded-metric-format lines on stdout, so the reconciler stays
testable without Lambda and publishing costs no API call.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from botocore.exceptions import ClientError

log = logging.getLogger(__name__)

NAMESPACE = "Tailor"
DIMENSION = "Environment"

# The reconciler, once per sweep (gauges of what it saw, and counts of what it did).
MANAGED_SERVING = "ManagedServing"  # its SampleCount is the reconciler's heartbeat (the "silent" alarm)
MANAGED_PAST_EXPIRY = "ManagedPastExpiry"  # the overrun alarm
UNMANAGED_SERVING = "UnmanagedServing"
SERVING_DELETED = "ServingDeleted"
TEARDOWN_DEFERRED = "TeardownDeferred"
EXPIRY_TAMPERED = "ExpiryTampered"
ORPHANED_SERVING = "OrphanedServing"
LISTING_FAILURES = "ListingFailures"
IDLE_TORN_DOWN = "IdleTornDown"
NEXT_EXPIRY_MINUTES = "NextExpiryMinutes"  # minutes until the soonest managed expiry; only while something lives
SWEEP_METRICS = (
    MANAGED_PAST_EXPIRY,
    MANAGED_SERVING,
    UNMANAGED_SERVING,
    SERVING_DELETED,
    TEARDOWN_DEFERRED,
    EXPIRY_TAMPERED,
    ORPHANED_SERVING,
    LISTING_FAILURES,
    IDLE_TORN_DOWN,
)

# The teardown function on a one-time schedule's event: one count on the metric named for its outcome.
TEARDOWN_OUTCOMES = {
    "deleted": SERVING_DELETED,
    "deferred": TEARDOWN_DEFERRED,
    "gone": "TeardownAlreadyGone",
    "not-due": "TeardownNotDue",
    "committed": "TeardownCommitted",
    "not-managed": "TeardownNotManaged",
    "would-delete": "TeardownWouldDelete",
}

# The completion function: job state changes it recorded, and the jobs a reconcile found still running.
JOB_STATES = {"Completed": "JobsCompleted", "Failed": "JobsFailed", "Stopped": "JobsStopped"}
JOBS_IN_PROGRESS = "JobsInProgress"

# The teardown function, when the environment has a budget: AWS Budgets' own figures for this month (USD).
BUDGET_ACTUAL = "BudgetActualSpend"
BUDGET_FORECAST = "BudgetForecastedSpend"
# Where CDK tells the teardown function which budget to read (cdk_constructs/serving_teardown.py).
BUDGET_VARIABLE = "TAILOR_BUDGET_NAME"
ACCOUNT_VARIABLE = "TAILOR_ACCOUNT"


def emitted() -> frozenset[str]:
    """Every metric name a Tailor function emits (a dashboard widget or alarm may name no other)."""
    return frozenset(
        {
            *SWEEP_METRICS,
            NEXT_EXPIRY_MINUTES,
            *TEARDOWN_OUTCOMES.values(),
            *JOB_STATES.values(),
            JOBS_IN_PROGRESS,
            BUDGET_ACTUAL,
            BUDGET_FORECAST,
        }
    )


class MetricSink(Protocol):
    """Where the domain hands its numbers; the environment's dimension is the sink's business."""

    def put(self, name: str, value: float, unit: str = "Count") -> None: ...


class RecordingSink:
    """Keeps what was put, in order: for callers outside Lambda (tests, the CLI) that want to see it."""

    def __init__(self) -> None:
        self.points: list[tuple[str, float, str]] = []

    def put(self, name: str, value: float, unit: str = "Count") -> None:
        self.points.append((name, value, unit))

    def values(self) -> dict[str, float]:
        """The last value put per name."""
        return {name: value for name, value, _ in self.points}


def report_budget(budgets: Any, account: str, name: str, metrics: MetricSink) -> None:
    """The environment's budget as AWS Budgets computes it this month: actual and forecasted spend (USD).

    Budgets refreshes these figures a few times a day (Budgets API reference), so a dashboard at the reconciler's
    period shows them as soon as they change. A refusal or a missing budget costs the sweep nothing: one warning,
    no metric (the dashboard then shows a gap, not a stale number)."""
    try:
        budget = budgets.describe_budget(AccountId=account, BudgetName=name)["Budget"]
    except ClientError as exc:
        log.warning("budget %s could not be read: %s", name, exc)
        return
    spend = budget.get("CalculatedSpend") or {}
    for metric, key in ((BUDGET_ACTUAL, "ActualSpend"), (BUDGET_FORECAST, "ForecastedSpend")):
        amount = (spend.get(key) or {}).get("Amount")
        if amount is not None:
            metrics.put(metric, float(amount), "None")
