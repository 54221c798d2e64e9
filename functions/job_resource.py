"""Lambda entry point of the customization-job custom resource (CDK Provider onEvent)."""

from typing import Any

from functions import observability
from functions.wiring import configure_logging
from tailor import aws
from tailor.jobs import resource as job_resource

configure_logging()


@observability.entry
def on_event(event: dict[str, Any], context: object) -> dict[str, Any]:
    return job_resource.on_event(event, aws.Clients())
