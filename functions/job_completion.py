"""Lambda entry point for job completion: EventBridge job state changes and the scheduled reconciliation.

Each invocation brings job records up to date, then starts the serving of jobs that have completed (where
this environment serves jobs at all: otherwise this function has no serving rights and no serving wiring).
"""

from datetime import UTC, datetime
from typing import Any

from functions.wiring import configure_logging, from_environment, job_serving_wiring
from tailor import aws
from tailor.jobs import completion
from tailor.serving import job_serving

configure_logging()


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    basics, clients, wiring = from_environment(), aws.Clients(), job_serving_wiring()
    if event.get("detail-type") == "Model Customization Job State Change":
        outcomes = [completion.handle_event(event, clients, environment=basics.environment, topic_arn=basics.topic_arn)]
        ours = outcomes[0].job_key is not None
    else:
        outcomes = completion.reconcile(clients, environment=basics.environment, topic_arn=basics.topic_arn)
        ours = True
    started = job_serving.serve_completed(clients, wiring, now=datetime.now(UTC)) if wiring is not None and ours else []
    return {"outcomes": [o.__dict__ for o in outcomes], "servingStarted": started}
