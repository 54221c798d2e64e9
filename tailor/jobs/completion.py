"""Job completion: an EventBridge event or a reconciliation pass brings a job's record up to date.

Events are best effort and at least once: the record is only ever moved forward from what
GetModelCustomizationJob says now (never from the event's own payload), and a record already at that
status is left alone, so duplicates, late replays and events for replaced jobs change nothing.

Records of every kind live under /<project>/<env>/jobs/: jobs (sweep trials one level down), queued jobs (no
job yet: the queue starts them), sweeps and the throughputs their evaluations run on. Only records that
describe a started job are refreshed here; a sweep trial is not announced on its own (its sweep sends one
message for all of its trials, tailor/jobs/sweep_report.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from tailor import aws, naming, records
from tailor.jobs import queue
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
    for name, record in queue.job_records(clients.ssm, environment):
        if _tracks_a_job(record) and record.get("jobArn") == job_arn:
            return _refresh(name, record, clients, topic_arn, now)
    log.info("job %s is not recorded in %s (not ours, or replaced); ignored", job_arn, environment)
    return Outcome(None, "not-managed")


def reconcile(
    clients: Any, *, environment: str, topic_arn: str, now: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> list[Outcome]:
    """Re-checks every job still recorded as unfinished: a lost event never loses a completion."""
    outcomes = []
    for name, record in list(queue.job_records(clients.ssm, environment)):
        if _tracks_a_job(record) and record.get("status") not in job_record.TERMINAL:
            outcomes.append(_refresh(name, record, clients, topic_arn, now))
    return outcomes


def _tracks_a_job(record: dict[str, Any]) -> bool:
    """A record of a started job (not a sweep, an evaluation's throughput, or a job still queued)."""
    return record.get("kind") is None and bool(record.get("jobArn")) and bool(record.get("jobName"))


def announce_failed_starts(clients: Any, *, environment: str, topic_arn: str) -> list[str]:
    """Queued jobs Bedrock refused to start for good, whoever advanced the queue: one message each, once.

    A sweep's trial is left to its sweep's message (its record says Failed with the reason, which the sweep
    shows in its table)."""
    announced = []
    for name, record in list(queue.job_records(clients.ssm, environment)):
        if not record.get("startFailed") or record.get("announced") is not False:
            continue
        job_name = record.get("jobName")
        written = records.update(clients.ssm, name, _announced(job_name))
        if written is not None and not written.get("trialOf"):
            clients.sns.publish(TopicArn=topic_arn, Subject=subject(written), Message=message(written))
            announced.append(str(job_name))
    return announced


def _announced(job_name: Any) -> records.Change:
    def change(current: dict[str, Any] | None) -> dict[str, Any] | None:
        if current is None or current.get("jobName") != job_name or current.get("announced") is not False:
            return None
        return {**current, "announced": True}

    return change


def start_failures(clients: Any, topic_arn: str) -> queue.Notify:
    """What the queue calls when Bedrock refuses a queued job's start for good: one message, as for a failure."""

    def announce(name: str, record: dict[str, Any]) -> None:
        if record.get("trialOf"):
            return  # its sweep reports it with the others
        clients.sns.publish(TopicArn=topic_arn, Subject=subject(record), Message=message(record))

    return announce


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
    job_arn, when = record["jobArn"], now()

    def moved_forward(current: dict[str, Any] | None) -> dict[str, Any] | None:
        # Only the record of this job, and only forward: a replacement written meanwhile is left alone.
        if current is None or current.get("jobArn") != job_arn or current.get("status") in job_record.TERMINAL:
            return None
        return job_record.describe(current, job, when)

    updated = records.update(clients.ssm, name, moved_forward)
    if updated is None:
        return Outcome(key, "stale", record.get("status"))
    if status in job_record.TERMINAL and not updated.get("trialOf"):
        clients.sns.publish(TopicArn=topic_arn, Subject=subject(updated), Message=message(updated))
    return Outcome(key, "recorded", status)


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
