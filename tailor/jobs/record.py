"""The job record: /tailor/<env>/jobs/<key>, what a job's custom resource and its completion keep in SSM."""

from __future__ import annotations

from collections.abc import Mapping
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


def describe(record: dict[str, Any], job: Mapping[str, Any], when: datetime) -> dict[str, Any]:
    """The record brought up to what GetModelCustomizationJob says now (never from an event's own payload)."""
    validation = [
        m.get("validationLoss") for m in job.get("validationMetrics") or [] if m.get("validationLoss") is not None
    ]
    return {
        **record,
        "status": job["status"],
        "customModelArn": job.get("outputModelArn"),
        "trainingLoss": (job.get("trainingMetrics") or {}).get("trainingLoss"),
        "validationLoss": validation[0] if len(validation) == 1 else (validation or None),
        "failureMessage": failure_text(job.get("failureMessage")),
        "endTime": iso(job.get("endTime")),
        "updatedAt": when.isoformat(),
    }


def of_job(environment: str, job_key: str, job: Mapping[str, Any], when: datetime) -> dict[str, Any]:
    """A record that describes an existing job as it is now (adopted, or restored after a rollback)."""
    base = started(environment, job_key, job["jobName"], job["jobArn"], job.get("creationTime") or when)
    return describe(base, job, when) if job.get("status") in TERMINAL else base


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
