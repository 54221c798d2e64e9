"""What serving tells people: one SNS message per start, deletion and warning, readable without the console."""

from __future__ import annotations

from typing import Any

from tailor.serving.model import COMMITMENT_TERM, ON_DEMAND, PROVISIONED
from tailor.serving.schedules import Wiring


def notify(clients: Any, wiring: Wiring, subject: str, message: str) -> None:
    clients.sns.publish(
        TopicArn=wiring.topic_arn, Subject=f"Tailor {wiring.environment}: {subject}"[:100], Message=message
    )


def started_message(record: dict[str, Any]) -> str:
    ends = (
        "at the end of its commitment term (it renews automatically: delete it before then)"
        if record["expiresAt"] == COMMITMENT_TERM
        else f"at {record['expiresAt']} (UTC), automatically"
    )
    units = (
        f"{record['modelUnits']} model unit(s) of Provisioned Throughput"
        if record["mode"] == PROVISIONED
        else "an on-demand deployment"
    )
    return "\n".join(
        [
            f"{record['key']} in {record['environment']} is served by {units}.",
            "",
            f"Model ID for InvokeModel/Converse: {record['arn']}",
            f"Custom model: {record['modelArn']}",
            f"It will be deleted {ends}.",
            "Change `hours` in the config and deploy to extend or shorten it.",
        ]
    )


def kind(mode: str) -> str:
    return "Provisioned Throughput" if mode == PROVISIONED else "custom model deployment" if mode == ON_DEMAND else mode
