"""Lambda entry point for job completion: EventBridge job state changes and the scheduled reconciliation.

Each invocation brings job records up to date, advances the environment's job queue (queued jobs start as
slots free), brings sweeps up to date (a sweep whose trials have all ended is decided, or its best trials are
evaluated), then starts the serving of jobs and sweeps that have completed (where this environment serves jobs
or evaluates sweeps at all: otherwise this function has no serving rights and no serving wiring).
"""

import logging
import time
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from functions import observability
from functions.wiring import configure_logging, from_environment, job_serving_wiring
from tailor import aws
from tailor.jobs import completion, queue, sweep_refresh
from tailor.serving import job_serving

configure_logging()
log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


@observability.entry
def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    basics, clients, wiring = from_environment(), aws.Clients(), job_serving_wiring()
    environment, topic_arn = basics.environment, basics.topic_arn
    reconciling = event.get("detail-type") != "Model Customization Job State Change"
    if reconciling:
        outcomes = completion.reconcile(clients, environment=environment, topic_arn=topic_arn)
        ours = True
    else:
        outcomes = [completion.handle_event(event, clients, environment=environment, topic_arn=topic_arn)]
        ours = outcomes[0].job_key is not None
    observability.record_jobs(outcomes, environment=environment, reconciled=reconciling)
    if not ours:
        return {"outcomes": [o.__dict__ for o in outcomes], "started": {}, "sweeps": [], "servingStarted": []}
    try:
        advanced = queue.advance(clients, environment, now=_now, sleep=time.sleep)
    except ClientError as exc:
        # The queue waits for the next pass (at most one reconcile period); sweeps and serving go on now.
        log.error("the job queue could not advance: %s: %s", aws.error_code(exc), aws.error_message(exc))
        advanced = queue.Advance()
    refused = completion.announce_failed_starts(clients, environment=environment, topic_arn=topic_arn)
    sweeps = sweep_refresh.refresh(clients, environment, topic_arn=topic_arn, now=_now)
    evaluated = job_serving.evaluate_sweeps(clients, wiring, now=_now()) if wiring is not None else []
    if evaluated:  # decided by score in this pass: its losers' models go now, not a reconcile period later
        sweeps += sweep_refresh.refresh(clients, environment, topic_arn=topic_arn, now=_now)
    started = job_serving.serve_completed(clients, wiring, now=_now()) if wiring is not None else []
    return {
        "outcomes": [o.__dict__ for o in outcomes],
        "started": advanced.started,
        "queueFailed": advanced.failed,
        "startRefused": refused,
        "sweeps": sweeps,
        "evaluated": evaluated,
        "servingStarted": started,
    }
