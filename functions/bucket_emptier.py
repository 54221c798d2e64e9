"""Lambda entry point of Custom::TailorBucketEmptier (CDK Provider onEvent): empties a bucket being deleted."""

from typing import Any

from functions import observability
from functions.wiring import configure_logging
from tailor import aws, storage

configure_logging()


@observability.entry
def on_event(event: dict[str, Any], context: Any) -> dict[str, Any]:
    def remaining_seconds() -> float:
        return float(context.get_remaining_time_in_millis()) / 1000

    clients = aws.Clients()
    return storage.on_event(event, clients.s3, clients.cloudformation, remaining_seconds=remaining_seconds)
