"""Reads the deployment wiring CDK put into a function's environment; handlers read os.environ only here."""

import os

from tailor.serving.reconciler import SweepPolicy
from tailor.serving.schedules import Wiring


def from_environment() -> Wiring:
    # The teardown function only removes schedules, so it is not given what creating one needs (its own ARN
    # would also be a circular reference in its template).
    return Wiring(
        environment=os.environ["TAILOR_ENVIRONMENT"],
        topic_arn=os.environ["TAILOR_TOPIC_ARN"],
        schedule_group=os.environ.get("TAILOR_SCHEDULE_GROUP", ""),
        teardown_function_arn=os.environ.get("TAILOR_TEARDOWN_FUNCTION_ARN", ""),
        scheduler_role_arn=os.environ.get("TAILOR_SCHEDULER_ROLE_ARN", ""),
        dead_letter_queue_arn=os.environ.get("TAILOR_DEAD_LETTER_QUEUE_ARN", ""),
    )


def job_serving_wiring() -> Wiring | None:
    """Wiring for starting job serving, or None where no job has a serve block (that role has no such rights)."""
    return from_environment() if os.environ.get("TAILOR_SERVE_JOBS") else None


def sweep_policy() -> SweepPolicy:
    return SweepPolicy.from_json(os.environ["TAILOR_SWEEP_POLICY"])
