"""Lambda entry point for job completion: EventBridge job state changes and the scheduled reconciliation."""
import logging

from functions.wiring import from_environment
from tailor import aws, completion

logging.getLogger().setLevel(logging.INFO)


def handler(event, context):
    wiring = from_environment()
    common = dict(environment=wiring.environment, topic_arn=wiring.topic_arn, wiring=wiring)
    if event.get("detail-type") == "Model Customization Job State Change":
        outcome = completion.handle_event(event, aws.Clients(), **common)
        return {"outcomes": [outcome.__dict__]}
    outcomes = completion.reconcile(aws.Clients(), **common)
    return {"outcomes": [o.__dict__ for o in outcomes]}
