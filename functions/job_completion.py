"""Lambda entry point for job completion: EventBridge job state changes and the scheduled reconciliation."""
import logging

from functions.wiring import from_environment, job_serving
from tailor import aws, completion

logging.getLogger().setLevel(logging.INFO)


def handler(event, context):
    basics = from_environment()
    common = dict(environment=basics.environment, topic_arn=basics.topic_arn, wiring=job_serving())
    if event.get("detail-type") == "Model Customization Job State Change":
        outcome = completion.handle_event(event, aws.Clients(), **common)
        return {"outcomes": [outcome.__dict__]}
    outcomes = completion.reconcile(aws.Clients(), **common)
    return {"outcomes": [o.__dict__ for o in outcomes]}
