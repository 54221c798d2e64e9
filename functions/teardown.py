"""Lambda entry point for serving teardown: one-time expiry schedules and the recurring reconciler sweep.

A teardown that finds the resource busy returns "deferred" rather than failing: the next sweep deletes it,
and a normal race (expiry during creation) does not page anyone through the dead-letter queue.
"""

import time
from datetime import UTC, datetime
from typing import Any

from functions import observability
from functions.wiring import budget, configure_logging, from_environment, sweep_policy
from tailor import aws
from tailor import observability as metric_names
from tailor.serving import reconciler, teardown
from tailor.serving.schedules import TEARDOWN

configure_logging()
MAX_WAIT_S = 120  # the schedule's minute of lead plus clock skew; far below the function's timeout


@observability.entry
def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    wiring, now = from_environment(), datetime.now(UTC)
    metrics = observability.sink(wiring.environment)
    if event.get("tailor") == TEARDOWN:
        if event.get("environment") != wiring.environment:
            raise ValueError(
                f"teardown event for environment {event.get('environment')!r} reached {wiring.environment}"
            )
        reason = f"expired at {event.get('expiresAt')} (schedule)"
        outcome = teardown.teardown(aws.Clients(), wiring, event["arn"], now=now, reason=reason)
        wait = (outcome.due - now).total_seconds() if outcome.action == "not-due" and outcome.due else None
        if wait is not None and 0 < wait <= MAX_WAIT_S:  # the schedule fires a minute early on purpose
            time.sleep(wait)
            outcome = teardown.teardown(aws.Clients(), wiring, event["arn"], now=datetime.now(UTC), reason=reason)
        if outcome.action in metric_names.TEARDOWN_OUTCOMES:
            metrics.put(metric_names.TEARDOWN_OUTCOMES[outcome.action], 1)
        observability.logger.info("teardown %s", outcome.action, extra={"outcome": outcome.action})
        return {**outcome.__dict__, "due": outcome.due.isoformat() if outcome.due else None}
    clients = aws.Clients()
    try:
        return reconciler.sweep(clients, wiring, sweep_policy(), now=now, metrics=metrics).as_dict()
    finally:
        if (spend := budget()) is not None:  # after the sweep, which matters more, and even when it failed
            metric_names.report_budget(clients.budgets, *spend, metrics)
