"""Job completion: an EventBridge event or a reconciliation pass brings a job's record up to date.

Events are best effort and at least once: the record is only ever moved forward from what
GetModelCustomizationJob says now (never from the event's own payload), and a record already at that
status is left alone, so duplicates, late replays and events for replaced jobs change nothing.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from botocore.exceptions import ClientError

from tailor import naming, records
from tailor.schedules import Wiring
from tailor.serving import ServingError, ensure

log = logging.getLogger(__name__)
SUBJECT_MAX = 100


@dataclass(frozen=True)
class Outcome:
    job_key: str | None
    action: str  # "recorded", "unchanged", "not-managed", "stale", "missing"
    status: str | None = None


def handle_event(event: dict[str, Any], clients: Any, *, environment: str, topic_arn: str, now: Callable[[], datetime] = lambda: datetime.now(timezone.utc), wiring: Wiring | None = None) -> Outcome:
    detail = event.get("detail") or {}
    job_arn = detail.get("jobArn") or next(iter(event.get("resources") or []), None)
    if not job_arn:
        log.warning("event without a job ARN ignored: %s", event.get("id"))
        return Outcome(None, "not-managed")
    for name, record in records.all_records(clients.ssm, naming.job_record_prefix(environment)):
        if record.get("jobArn") == job_arn:
            outcome = _refresh(name, record, clients, topic_arn, now)
            if wiring is not None:
                serve_completed(clients, wiring, now=now())
            return outcome
    log.info("job %s is not recorded in %s (not ours, or replaced); ignored", job_arn, environment)
    return Outcome(None, "not-managed")


def reconcile(clients: Any, *, environment: str, topic_arn: str, now: Callable[[], datetime] = lambda: datetime.now(timezone.utc), wiring: Wiring | None = None) -> list[Outcome]:
    """Re-checks every job still recorded as unfinished: a lost event never loses a completion (or its serving)."""
    outcomes = []
    for name, record in list(records.all_records(clients.ssm, naming.job_record_prefix(environment))):
        if record.get("status") not in records.TERMINAL:
            outcomes.append(_refresh(name, record, clients, topic_arn, now))
    if wiring is not None:
        serve_completed(clients, wiring, now=now())
    return outcomes


def serve_completed(clients: Any, wiring: Wiring, *, now: datetime) -> list[str]:
    """Starts every pending serving whose job has completed; the job ARN makes the create token, so repeats adopt."""
    started = []
    for name, serving in list(records.all_records(clients.ssm, naming.serving_record_prefix(wiring.environment))):
        if serving.get("status") != "pending" or not serving.get("jobRecordName"):
            continue
        job = records.get(clients.ssm, serving["jobRecordName"])
        if not job or job.get("status") != "Completed" or not job.get("customModelArn"):
            continue
        latest = records.get(clients.ssm, name)  # removed from the config meanwhile? then nothing may be bought
        if not latest or latest.get("status") != "pending" or latest.get("name") != serving.get("name"):
            continue
        try:
            active = ensure(clients, wiring, latest, job["customModelArn"], generation=job["jobArn"], now=now)
            # The job's own record points at what serves its model, so one read answers "where do I call it?".
            records.put(clients.ssm, serving["jobRecordName"], {**job, "servingArn": active["arn"], "servingExpiresAt": active["expiresAt"]})
            started.append(serving["key"])
        except (ServingError, ClientError) as exc:
            # One entry Bedrock refuses (quota, the budget's deny policy) must not hold back the others.
            reason = str(exc) if isinstance(exc, ServingError) else f"{exc.response['Error']['Code']}: {exc.response['Error'].get('Message', '')}"
            log.error("cannot serve %s: %s", serving.get("key"), reason)
            clients.sns.publish(TopicArn=wiring.topic_arn, Subject=f"Tailor {wiring.environment}: {serving.get('key')} not served"[:SUBJECT_MAX],
                                Message=f"Serving {serving.get('key')} for the completed job {job.get('jobName')} could not start: {reason}. Tailor retries at every reconcile pass.")
    return started


def _refresh(name: str, record: dict[str, Any], clients: Any, topic_arn: str, now: Callable[[], datetime]) -> Outcome:
    key = record.get("jobKey")
    try:
        job = clients.bedrock.get_model_customization_job(jobIdentifier=record["jobArn"])
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceNotFoundException":
            log.warning("recorded job %s no longer exists", record["jobArn"])
            return Outcome(key, "missing")
        raise
    status = job["status"]
    if status == record.get("status"):
        return Outcome(key, "unchanged", status)
    if record.get("status") in records.TERMINAL:
        log.warning("record for %s says %s but the job says %s; keeping the record", key, record.get("status"), status)
        return Outcome(key, "stale", record.get("status"))
    updated = _updated(record, job, now())
    records.put(clients.ssm, name, updated)
    if status in records.TERMINAL:
        clients.sns.publish(TopicArn=topic_arn, Subject=subject(updated), Message=message(updated))
    return Outcome(key, "recorded", status)


def _updated(record: dict[str, Any], job: dict[str, Any], when: datetime) -> dict[str, Any]:
    validation = [m.get("validationLoss") for m in job.get("validationMetrics") or [] if m.get("validationLoss") is not None]
    return {
        **record,
        "status": job["status"],
        "customModelArn": job.get("outputModelArn"),
        "trainingLoss": (job.get("trainingMetrics") or {}).get("trainingLoss"),
        "validationLoss": validation[0] if len(validation) == 1 else (validation or None),
        "failureMessage": job.get("failureMessage"),
        "endTime": _iso(job.get("endTime")),
        "updatedAt": when.isoformat(),
    }


def subject(record: dict[str, Any]) -> str:
    text = f"Tailor {record.get('environment')}: job {record.get('jobKey')} {record.get('status')}"
    return text[:SUBJECT_MAX]


def message(record: dict[str, Any]) -> str:
    lines = [
        f"Customization job {record.get('jobKey')} in environment {record.get('environment')} is {record.get('status')}.",
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
            "The model is stored (billed monthly). If the job has a serve block, a separate message follows when serving starts.",
        ]
    elif record.get("status") == "Failed":
        lines += ["", f"Failure: {record.get('failureMessage') or '(no message)'}"]
    lines += ["", f"Record: /{naming.PROJECT}/{record.get('environment')}/jobs/{record.get('jobKey')} in SSM Parameter Store."]
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    return "-" if value is None else str(value)


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else value
