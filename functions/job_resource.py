"""Lambda entry point of the customization-job custom resource (CDK Provider onEvent)."""

import logging
from typing import Any

from tailor import aws
from tailor.jobs import resource as job_resource

logging.getLogger().setLevel(logging.INFO)


def on_event(event: dict[str, Any], context: object) -> dict[str, Any]:
    return job_resource.on_event(event, aws.Clients())
