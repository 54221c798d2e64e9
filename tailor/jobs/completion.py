"""Job completion: an EventBridge event or a reconciliation pass brings a job's record up to date.

Events are best effort and at least once: the record is only ever moved forward from what
GetModelCustomizationJob says now (never from the event's own payload), and a record already at that
status is left alone, so duplicates, late replays and events for replaced jobs change nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from tailor import aws, naming, records
from tailor.jobs import record as job_record

log = logging.getLogger(__name__)
SUBJECT_MAX = 100


@dataclass(frozen=True)
class Outcome:
    job_key: str | None
    action: str  # "recorded", "unchanged", "not-managed", "stale", "missing"
    status: str | None = None


def handle_event(
    event: dict[str, Any],
    clients: Any,
    *,
    environment: str,
    topic_arn: str,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Outcome:
    detail = event.get("detail") or {}
    job_arn = detail.get("jobArn") or next(iter(event.get("resources") or []), None)
    if not job_arn:
        log.warning("event without a job ARN ignored: %s", event.get("id"))
        return Outcome(None, "not-managed")
    for name, record in records.all_records(clients.ssm, naming.job_record_prefix(environment)):
        if record.get("jobArn") == job_arn:
            return _refresh(name, record, clients, topic_arn, now)
    log.info("job %s is not recorded in %s (not ours, or replaced); ignored", job_arn, environment)
    return Outcome(None, "not-managed")


def reconcile(
    clients: Any, *, environment: str, topic_arn: str, now: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> list[Outcome]:
    """Re-checks every job still recorded as unfinished: a lost event never loses a completion."""
    outcomes = []
    for name, record in list(records.all_records(clients.ssm, naming.job_record_prefix(environment))):
        if record.get("status") not in job_record.TERMINAL:
            outcomes.append(_refresh(name, record, clients, topic_arn, now))
    return outcomes


def _refresh(name: str, record: dict[str, Any], clients: Any, topic_arn: str, now: Callable[[], datetime]) -> Outcome:
    key = record.get("jobKey")
    try:
        job = clients.bedrock.get_model_customization_job(jobIdentifier=record["jobArn"])
    except ClientError as exc:
        if aws.error_code(exc) == "ResourceNotFoundException":
            log.warning("recorded job %s no longer exists", record["jobArn"])
            return Outcome(key, "missing")
        raise
    status = job["status"]
    if status == record.get("status"):
        return Outcome(key, "unchanged", status)
    if record.get("status") in job_record.TERMINAL:
        log.warning("record for %s says %s but the job says %s; keeping the record", key, record.get("status"), status)
        return Outcome(key, "stale", record.get("status"))
    updated = _updated(record, job, now())
    records.put(clients.ssm, name, updated)
    if status in job_record.TERMINAL:
        clients.sns.publish(TopicArn=topic_arn, Subject=subject(updated), Message=message(updated))
    return Outcome(key, "recorded", status)


def _updated(record: dict[str, Any], job: dict[str, Any], when: datetime) -> dict[str, Any]:
    validation = [
        m.get("validationLoss") for m in job.get("validationMetrics") or [] if m.get("validationLoss") is not None
    ]
    return {
        **record,
        "status": job["status"],
        "customModelArn": job.get("outputModelArn"),
        "trainingLoss": (job.get("trainingMetrics") or {}).get("trainingLoss"),
        "validationLoss": validation[0] if len(validation) == 1 else (validation or None),
        "failureMessage": job_record.failure_text(job.get("failureMessage")),
        "endTime": job_record.iso(job.get("endTime")),
        "updatedAt": when.isoformat(),
    }


def subject(record: dict[str, Any]) -> str:
    text = f"Tailor {record.get('environment')}: job {record.get('jobKey')} {record.get('status')}"
    return text[:SUBJECT_MAX]


def message(record: dict[str, Any]) -> str:
    lines = [
        (
            f"Customization job {record.get('jobKey')} in environment "
            f"{record.get('environment')} is {record.get('status')}."
        ),
        "",
        f"Job:            {record.get('jobName')}",
        f"Job ARN:        {record.get('jobArn')}",
        f"Started:        {record.get('creationTime')}",
        f"Ended:          {record.get('endTime') or '-'}",
    ]
    if record.get("status") == "Completed":
        lines += [
            f"Custom model:   {record.get('customModelArn') or '-'}",
            f"Training loss:  {_fmt(record.get('trainingLoss'))}",
            f"Validation loss:{' ' + _fmt(record.get('validationLoss'))}",
            "",
            (
                "The model is stored (billed monthly). If the job has a serve block, a separate "
                "message follows when serving starts."
            ),
        ]
    elif record.get("status") == "Failed":
        lines += ["", f"Failure: {record.get('failureMessage') or '(no message)'}"]
    lines += [
        "",
        f"Record: /{naming.PROJECT}/{record.get('environment')}/jobs/{record.get('jobKey')} in SSM Parameter Store.",
    ]
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    return "-" if value is None else str(value)
