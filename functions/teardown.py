"""Lambda entry point for serving teardown: one-time expiry schedules and the recurring reconciler sweep.

A teardown that finds the resource busy returns "deferred" rather than failing: the next sweep deletes it,
and a normal race (expiry during creation) does not page anyone through the dead-letter queue.
"""
import logging
from datetime import datetime, timezone

from functions.wiring import from_environment, sweep_policy
from tailor import aws, reconciler, serving
from tailor.schedules import TEARDOWN

logging.getLogger().setLevel(logging.INFO)


def handler(event, context):
    wiring, now = from_environment(), datetime.now(timezone.utc)
    if event.get("tailor") == TEARDOWN:
        if event.get("environment") != wiring.environment:
            raise ValueError(f"teardown event for environment {event.get('environment')!r} reached {wiring.environment}")
        outcome = serving.teardown(aws.Clients(), wiring, event["arn"], now=now, reason=f"expired at {event.get('expiresAt')} (schedule)")
        return outcome.__dict__
    return reconciler.sweep(aws.Clients(), wiring, sweep_policy(), now=now).as_dict()
