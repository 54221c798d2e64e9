"""The environment's job queue: no more jobs run than the account's concurrent-customization-job quota allows.

Every job of the environment goes through it (sweep trials and plain jobs alike). A job resource's Create
records its job `queued` in SSM, with the request that starts it, then advances the queue; the completion
handler advances it again after every job event and reconcile pass, so a lost event delays a start by one
period at most and never loses it. Advancing starts queued jobs in a deterministic order (the config's job
order, then the trial's place in its sweep) while the account has free slots:

- The limit is `policy.max_concurrent_jobs` (each queued record carries its environment's). AWS documents no
  Service Quotas code for this quota (UNCONFIRMED), so it cannot be read; when Bedrock refuses a start with
  ServiceQuotaExceededException anyway, the job stays queued instead of failing.
- Running jobs are counted account-wide (ListModelCustomizationJobs, InProgress and Stopping), because the
  quota is the account's: another team's jobs take slots too.
- One advancer at a time per environment: a lock parameter created with Overwrite=False (SSM's only atomic
  create), with a lease so a function killed while holding it delays the queue, never wedges it (queue_lock.py).
- A start is idempotent: the job's deterministic name and token make a repeated or concurrent start return the
  same job (Bedrock's clientRequestToken), and a job already there under this name and token is adopted.
- A record removed or replaced while its job was being started (the stack deleted, a rollback) is detected
  after the start, and the job just started is stopped: nothing runs that no resource owns.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from tailor import aws, naming, records
from tailor.jobs import record as job_record
from tailor.jobs.queue_lock import LOCK_WAIT_S, lock

log = logging.getLogger(__name__)
QUEUED = "queued"
RUNNING = ("InProgress", "Stopping")  # what holds a slot: a Stopping job still counts against the quota
# Bedrock (or the SDK after its retries) says "not now": the job stays queued for the next pass.
WAIT_CODES = (
    "ServiceQuotaExceededException",
    "ThrottlingException",
    "TooManyRequestsException",
    "InternalServerException",
    "ServiceUnavailableException",
)
NAME_IN_USE = "currently in use"  # ValidationException text for a taken job name (Airflow's operator relies on it)
QUEUE_FIELDS = ("request", "queuePosition", "maxConcurrentJobs", "queuedAt", "queueNote")


def position(job_index: int, trial_index: int = 0) -> str:
    """Sorts as text: the job's place in the config, then the trial's place in its sweep (0 for a plain job)."""
    return f"{job_index:04d}-{trial_index:04d}"


def queued(
    base: dict[str, Any], request: dict[str, Any], *, position_: str, limit: int, when: datetime
) -> dict[str, Any]:
    """A job record waiting for a slot: it holds what starts the job, so any advancer can start it."""
    stored = dict(request)
    if stored.get("customModelTags") == stored.get("jobTags"):
        stored.pop("customModelTags", None)  # the same list twice; put back before the start
        stored["customModelTagsAsJobTags"] = True
    return {
        **base,
        "status": QUEUED,
        "jobArn": None,
        "creationTime": None,
        "request": stored,
        "queuePosition": position_,
        "maxConcurrentJobs": limit,
        "queuedAt": job_record.iso(when),
        "updatedAt": job_record.iso(when),
    }


def request_of(record: dict[str, Any]) -> dict[str, Any]:
    request = dict(record["request"])
    if request.pop("customModelTagsAsJobTags", False):
        request["customModelTags"] = request.get("jobTags", [])
    return request


def job_records(ssm: Any, environment: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every job record of the environment, sweep trials included (they live one level below their sweep's)."""
    prefix = naming.job_record_prefix(environment).rstrip("/")
    for page in ssm.get_paginator("get_parameters_by_path").paginate(Path=prefix, Recursive=True):
        for parameter in page["Parameters"]:
            try:
                value = json.loads(parameter["Value"])
            except ValueError:
                continue  # hand-edited or not ours: ignored rather than failing every pass
            if isinstance(value, dict):
                yield parameter["Name"], value


def running_jobs(bedrock: Any) -> set[str]:
    """Names of the account's jobs that hold a slot, in this Region (the quota's scope)."""
    names: set[str] = set()
    for status in RUNNING:
        for page in bedrock.get_paginator("list_model_customization_jobs").paginate(statusEquals=status):
            names |= {s["jobName"] for s in page.get("modelCustomizationJobSummaries", [])}
    return names


@dataclass
class Advance:
    """What one pass did: started (job name -> ARN), failed (name -> reason), still waiting, or lock busy."""

    started: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    waiting: list[str] = field(default_factory=list)
    busy: bool = False
    running: int | None = None
    limit: int | None = None


Notify = Callable[[str, dict[str, Any]], None]  # (record name, the record as failed)


def advance(
    clients: Any,
    environment: str,
    *,
    now: Callable[[], datetime],
    sleep: Callable[[float], None] = time.sleep,
    wait_s: float = LOCK_WAIT_S,
    on_failed: Notify | None = None,
) -> Advance:
    """Starts queued jobs in order while the account has free slots; safe to call from anywhere, any time."""
    with lock(clients.ssm, environment, now=now, sleep=sleep, wait_s=wait_s) as held:
        if not held:
            log.info("another advancer holds the queue of %s; the next pass continues", environment)
            return Advance(busy=True)
        waiting = sorted(
            ((name, r) for name, r in job_records(clients.ssm, environment) if r.get("status") == QUEUED),
            key=lambda item: (str(item[1].get("queuePosition", "")), str(item[1].get("jobName", ""))),
        )
        result = Advance()
        if not waiting:
            return result
        limit = min(int(r.get("maxConcurrentJobs") or 1) for _, r in waiting)
        running = running_jobs(clients.bedrock)
        result.limit, result.running = limit, len(running)
        refused = False  # Bedrock's own quota is lower than the policy's, or it throttles: nothing more starts now
        for name, record in waiting:
            job_name = str(record["jobName"])
            # A job already running under this name (a start whose recording was lost) is adopted, not counted twice.
            if refused or (job_name not in running and len(running) >= limit):
                result.waiting.append(job_name)
                continue
            outcome, detail = _start(clients, name, record, now())
            if outcome == "started":
                running.add(job_name)
                result.started[job_name] = detail
            elif outcome == "failed":
                result.failed[job_name] = detail
                failed = records.get(clients.ssm, name) if on_failed is not None else None
                if on_failed is not None and failed is not None:
                    on_failed(name, failed)
            elif outcome == "wait":
                result.waiting.append(job_name)
                refused = True
        result.running = len(running)
        log.info(
            "queue of %s: %d running of %d allowed; started %s; waiting %s",
            environment,
            len(running),
            limit,
            sorted(result.started),
            result.waiting,
        )
        return result


def _start(clients: Any, name: str, record: dict[str, Any], when: datetime) -> tuple[str, str]:
    job_name = str(record["jobName"])
    request = request_of(record)
    try:
        arn = str(clients.bedrock.create_model_customization_job(**request)["jobArn"])
    except ClientError as exc:
        code, message = aws.error_code(exc), aws.error_message(exc)
        adopted = _adoptable(clients, request) if code == "ValidationException" and NAME_IN_USE in message else None
        if adopted is not None:
            arn = adopted
        elif code in WAIT_CODES:
            log.info("%s stays queued: %s: %s", job_name, code, message)
            records.update(clients.ssm, name, _noted(job_name, f"{code}: {message}", when))
            return "wait", f"{code}: {message}"
        else:
            reason = f"CreateModelCustomizationJob failed for {job_name}: {code}: {message}"
            records.update(clients.ssm, name, _failed(job_name, reason, when))
            return "failed", reason
    moved = records.update(clients.ssm, name, _started(job_name, arn, when))
    if moved is None:
        current = records.get(clients.ssm, name)
        if current is None or current.get("jobArn") != arn:
            # Removed (stack deleted) or replaced (rolled back) while we started it: nothing owns this job now.
            log.warning("%s was started but its record %s is gone or describes another job; stopping it", arn, name)
            _stop_quietly(clients.bedrock, arn)
            return "orphaned", arn
    return "started", arn


def _adoptable(clients: Any, request: dict[str, Any]) -> str | None:
    """The job this request already started (a crash after the start, before its record moved on)."""
    try:
        job = clients.bedrock.get_model_customization_job(jobIdentifier=request["jobName"])
    except ClientError:
        return None
    if job.get("clientRequestToken") not in (None, request.get("clientRequestToken")):
        return None  # someone else's job under our name: refused as a failure, with the reason
    return str(job["jobArn"])


def _started(job_name: str, arn: str, when: datetime) -> records.Change:
    def change(current: dict[str, Any] | None) -> dict[str, Any] | None:
        if current is None or current.get("jobName") != job_name or current.get("status") != QUEUED:
            return None
        kept = {k: v for k, v in current.items() if k not in QUEUE_FIELDS}
        return {
            **kept,
            "status": "InProgress",
            "jobArn": arn,
            "creationTime": job_record.iso(when),
            "queuedAt": current.get("queuedAt"),
            "updatedAt": job_record.iso(when),
        }

    return change


def _failed(job_name: str, reason: str, when: datetime) -> records.Change:
    def change(current: dict[str, Any] | None) -> dict[str, Any] | None:
        if current is None or current.get("jobName") != job_name or current.get("status") != QUEUED:
            return None
        kept = {k: v for k, v in current.items() if k not in QUEUE_FIELDS}
        return {
            **kept,
            "status": "Failed",
            "failureMessage": job_record.failure_text(reason),
            "startFailed": True,
            "announced": False,  # the completion handler announces it (the job provider has no topic rights)
            "endTime": job_record.iso(when),
            "updatedAt": job_record.iso(when),
        }

    return change


def _noted(job_name: str, note: str, when: datetime) -> records.Change:
    def change(current: dict[str, Any] | None) -> dict[str, Any] | None:
        if current is None or current.get("jobName") != job_name or current.get("status") != QUEUED:
            return None
        if current.get("queueNote") == note:
            return None
        return {**current, "queueNote": note[:300], "updatedAt": job_record.iso(when)}

    return change


def _stop_quietly(bedrock: Any, arn: str) -> None:
    try:
        bedrock.stop_model_customization_job(jobIdentifier=arn)
    except ClientError as exc:
        log.error("could not stop orphaned job %s: %s", arn, exc)
