"""Lambda entry point for job completion: EventBridge job state changes and the scheduled reconciliation."""
import logging
import os

from tailor import aws, completion

logging.getLogger().setLevel(logging.INFO)


def handler(event, context):
    environment, topic_arn = os.environ["TAILOR_ENVIRONMENT"], os.environ["TAILOR_TOPIC_ARN"]
    if event.get("detail-type") == "Model Customization Job State Change":
        outcome = completion.handle_event(event, aws.Clients(), environment=environment, topic_arn=topic_arn)
        return {"outcomes": [outcome.__dict__]}
    outcomes = completion.reconcile(aws.Clients(), environment=environment, topic_arn=topic_arn)
    return {"outcomes": [o.__dict__ for o in outcomes]}
