"""One-time EventBridge Scheduler schedules that tear a served model down at its expiry.

Created at run time (CloudFormation's schedule type has no ActionAfterCompletion, so a CFN schedule would
outlive its one firing), named from the resource ARN and its expiry so any handler can find or remove it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from tailor import aws, naming
from tailor.serving.model import format_time

# Scheduler retries a failed delivery with backoff for up to MAX_EVENT_AGE, then hands the event to the
# dead-letter queue; the reconciler is the backstop for everything after that.
MAX_RETRY_ATTEMPTS = 20
MAX_EVENT_AGE_S = 6 * 3600
TEARDOWN = "teardown"
# Scheduler fires anywhere in the minute after its time. Firing a minute early and letting the teardown
# handler wait out the rest (it never deletes before expires-at) ends serving at its expiry, not up to 59 s after.
FIRE_EARLY = timedelta(minutes=1)


@dataclass(frozen=True)
class Wiring:
    """Deployment facts a handler needs to create schedules and notify; passed in, never looked up."""

    environment: str
    topic_arn: str
    schedule_group: str
    teardown_function_arn: str
    scheduler_role_arn: str
    dead_letter_queue_arn: str

    def to_environment(self) -> dict[str, str]:
        """As Lambda environment variables (CDK tokens at synth); `from_environment` reads them back."""
        return {name: getattr(self, attr) for name, attr in _VARIABLES.items() if getattr(self, attr)}

    @classmethod
    def from_environment(cls, variables: Mapping[str, str]) -> Wiring:
        # A function given only part of the wiring (the teardown function creates no schedules, and its own ARN
        # would be a circular reference in its template) reads the rest as empty.
        return cls(**{attr: variables.get(name, "") for name, attr in _VARIABLES.items()})


_VARIABLES = {
    "TAILOR_ENVIRONMENT": "environment",
    "TAILOR_TOPIC_ARN": "topic_arn",
    "TAILOR_SCHEDULE_GROUP": "schedule_group",
    "TAILOR_TEARDOWN_FUNCTION_ARN": "teardown_function_arn",
    "TAILOR_SCHEDULER_ROLE_ARN": "scheduler_role_arn",
    "TAILOR_DEAD_LETTER_QUEUE_ARN": "dead_letter_queue_arn",
}
# Set on the completion function only where a job serves its model: without it that function starts nothing.
SERVE_JOBS_VARIABLE = "TAILOR_SERVE_JOBS"
SWEEP_POLICY_VARIABLE = "TAILOR_SWEEP_POLICY"


def teardown_event(environment: str, arn: str, expires_at: str) -> dict[str, str]:
    return {"tailor": TEARDOWN, "environment": environment, "arn": arn, "expiresAt": expires_at}


def schedule_teardown(scheduler: Any, wiring: Wiring, arn: str, expires_at: datetime) -> str:
    """Idempotent: a second call for the same ARN and expiry finds the first schedule and changes nothing.

    No ClientToken: the name already makes a repeat a ConflictException, and a token Scheduler remembered
    after the schedule fired could silently swallow the re-creation of an expiry rolled back to an earlier value.
    """
    when = format_time(expires_at)
    name = naming.teardown_schedule_name(arn, when)
    try:
        scheduler.create_schedule(
            Name=name,
            GroupName=wiring.schedule_group,
            ScheduleExpression=f"at({(expires_at - FIRE_EARLY).strftime('%Y-%m-%dT%H:%M:%S')})",
            ScheduleExpressionTimezone="UTC",
            FlexibleTimeWindow={"Mode": "OFF"},
            ActionAfterCompletion="DELETE",
            Description=f"Tailor {wiring.environment}: delete {arn.rsplit(':', 1)[-1]} at {when}"[:512],
            Target={
                "Arn": wiring.teardown_function_arn,
                "RoleArn": wiring.scheduler_role_arn,
                "Input": json.dumps(teardown_event(wiring.environment, arn, when)),
                "RetryPolicy": {
                    "MaximumRetryAttempts": MAX_RETRY_ATTEMPTS,
                    "MaximumEventAgeInSeconds": MAX_EVENT_AGE_S,
                },
                "DeadLetterConfig": {"Arn": wiring.dead_letter_queue_arn},
            },
        )
    except ClientError as exc:
        if aws.error_code(exc) != "ConflictException":  # already there: a re-delivered request
            raise
    return name


def remove_teardown(scheduler: Any, group: str, arn: str, expires_at: str | None) -> bool:
    """Removes the schedule for this ARN and expiry; False when there was none (already fired or never made)."""
    if not expires_at:
        return False
    try:
        scheduler.delete_schedule(Name=naming.teardown_schedule_name(arn, expires_at), GroupName=group)
        return True
    except ClientError as exc:
        if aws.error_code(exc) == "ResourceNotFoundException":
            return False
        raise
