"""The job record: /tailor/<env>/jobs/<key>, what a job's custom resource and its completion keep in SSM."""

from __future__ import annotations

from datetime import datetime
from typing import Any

TERMINAL = ("Completed", "Failed", "Stopped")
MAX_FAILURE_MESSAGE = 1500  # keeps the record under the 4 KB standard-parameter limit


def started(environment: str, job_key: str, job_name: str, job_arn: str, when: datetime) -> dict[str, Any]:
    return {
        "environment": environment,
        "jobKey": job_key,
        "jobName": job_name,
        "jobArn": job_arn,
        "status": "InProgress",
        "customModelArn": None,
        "trainingLoss": None,
        "validationLoss": None,
        "failureMessage": None,
        "creationTime": iso(when),
        "endTime": None,
        "updatedAt": iso(when),
    }


def completed_model(record: dict[str, Any] | None) -> str | None:
    """The custom model a completed job left, or None while there is none to serve."""
    if record is not None and record.get("status") == "Completed" and record.get("customModelArn"):
        return str(record["customModelArn"])
    return None


def failure_text(message: str | None) -> str | None:
    return message[:MAX_FAILURE_MESSAGE] if message else message


def iso(when: datetime | str | None) -> str | None:
    if when is None or isinstance(when, str):
        return when
    return when.isoformat()
