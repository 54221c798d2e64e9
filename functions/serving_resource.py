"""Lambda entry points for Custom::TailorServing (CDK Provider onEvent and isComplete)."""

from datetime import UTC, datetime
from typing import Any

from functions import observability
from functions.wiring import configure_logging, from_environment
from tailor import aws
from tailor.serving import resource

configure_logging()


@observability.entry
def on_event(event: dict[str, Any], context: object) -> dict[str, Any]:
    return resource.on_event(event, aws.Clients(), from_environment(), now=datetime.now(UTC))


@observability.entry
def is_complete(event: dict[str, Any], context: object) -> dict[str, Any]:
    return resource.is_complete(event, aws.Clients(), from_environment(), now=datetime.now(UTC))
