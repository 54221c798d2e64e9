"""Lambda entry point for serving teardown: one-time expiry schedules and the recurring reconciler sweep.

A teardown that finds the resource busy returns "deferred" rather than failing: the next sweep deletes it,
and a normal race (expiry during creation) does not page anyone through the dead-letter queue.
"""

import time
from datetime import UTC, datetime
from typing import Any

from functions.wiring import configure_logging, from_environment, sweep_policy
from tailor import aws
from tailor.serving import reconciler, teardown
from tailor.serving.schedules import TEARDOWN

configure_logging()
MAX_WAIT_S = 120  # the schedule's minute of lead plus clock skew; far below the function's timeout


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    wiring, now = from_environment(), datetime.now(UTC)
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
        return {**outcome.__dict__, "due": outcome.due.isoformat() if outcome.due else None}
    return reconciler.sweep(aws.Clients(), wiring, sweep_policy(), now=now).as_dict()
