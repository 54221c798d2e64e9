"""Lambda entry point of the customization-job custom resource (CDK Provider onEvent)."""

import logging

from tailor import aws
from tailor.jobs import resource as job_resource

logging.getLogger().setLevel(logging.INFO)


def on_event(event, context):
    return job_resource.on_event(event, aws.Clients())
