"""What an operator does to live serving: extend or shorten its life, or end it now (`tailor serving ...`).

Both go through the paths the handlers use, so nothing here is a second implementation: `extend` moves the
expiry the way a changed `hours` does (re-tag, replace the schedule, record, notify), and `expire` hands the
resource to the teardown function with the same event a schedule sends. Both are idempotent and leave the
record and the next deploy in agreement: a deploy re-applies hours only when the config's `hours` changes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tailor import naming, records
from tailor.serving import notices
from tailor.serving.lifecycle import set_expiry
from tailor.serving.model import COMMITMENT_TERM, TAG_FAILED_START, describe, expiry, format_time
from tailor.serving.schedules import Wiring, remove_teardown, teardown_event

MIN_AHEAD = timedelta(minutes=2)  # the schedule fires a minute early; anything sooner is `expire`


class OperationError(Exception):
    """The operation cannot be done; the message says why and what to do instead."""


@dataclass(frozen=True)
class Result:
    key: str
    arn: str
    action: str  # extended | shortened | unchanged | expiring | gone
    expires_at: str
    detail: str = ""


def wiring_from_exports(cloudformation: Any, environment: str) -> Wiring:
    """The deployed environment's wiring, from its stacks' exports (what the functions get as variables)."""
    wanted = {
        "TopicArn": "topic_arn",
        "TeardownFunctionArn": "teardown_function_arn",
        "SchedulerRoleArn": "scheduler_role_arn",
        "DeadLetterQueueArn": "dead_letter_queue_arn",
    }
    names = {naming.export_name(environment, what): attr for what, attr in wanted.items()}
    found: dict[str, str] = {}
    for page in cloudformation.get_paginator("list_exports").paginate():
        for export in page.get("Exports", []):
            if export["Name"] in names:
                found[names[export["Name"]]] = export["Value"]
    missing = sorted(set(names.values()) - set(found))
    if missing:
        raise OperationError(
            f"environment {environment} is not deployed in this account and Region (no export "
            f"{naming.export_name(environment, 'TeardownFunctionArn')}); deploy it with `make deploy ENV={environment}`"
        )
    return Wiring(environment=environment, schedule_group=naming.schedule_group(environment), **found)


def live_record(clients: Any, environment: str, key: str) -> dict[str, Any]:
    record = records.get(clients.ssm, naming.serving_record_name(environment, key))
    if record is None or record.get("status") == "removed":
        raise OperationError(
            f"{environment} serves nothing called {key} (no record {naming.serving_record_name(environment, key)})"
        )
    if record.get("status") == "pending":
        raise OperationError(f"{key} is pending: it starts when its job completes; nothing to change yet")
    if record.get("commitment") or record.get("expiresAt") == COMMITMENT_TERM:
        raise OperationError(
            f"{key} is a committed Provisioned Throughput: it cannot be deleted before its term ends, so its "
            "life can be neither extended nor shortened"
        )
    return record


def extend(clients: Any, wiring: Wiring, key: str, *, hours: float, max_hours: float, now: datetime) -> Result:
    """A new life of `hours` counted from creation (longer or shorter), within policy.max_throughput_hours."""
    record = live_record(clients, wiring.environment, key)
    if record.get("status") != "active":
        raise OperationError(
            f"{key} is {record.get('status')}: bring it back with a new `hours` or `revision` and deploy"
        )
    if hours > max_hours:
        raise OperationError(
            f"--hours {hours:g} is over policy.max_throughput_hours ({max_hours:g}) for {wiring.environment}"
        )
    served = describe(clients.bedrock, record["mode"], record["arn"])
    if served is None:
        raise OperationError(f"{key}: {record['arn']} no longer exists (deleted outside Tailor)")
    if TAG_FAILED_START in served.tags:
        raise OperationError(f"{key}: {served.arn} was expired after a failed start and is being deleted")
    target = expiry(served.created, hours)
    if target < now + MIN_AHEAD:
        raise OperationError(
            f"--hours {hours:g} ends {key} at {format_time(target)}, less than {MIN_AHEAD.seconds // 60} minutes "
            f"from now; to end it now use `tailor serving expire {wiring.environment} {key}`"
        )
    before = record.get("expiresAt") or ""
    updated = set_expiry(clients, wiring, record, hours, now=now, by_operator=True)
    if updated is None:
        raise OperationError(f"{key}: {record['arn']} no longer exists (deleted outside Tailor)")
    after = str(updated.get("expiresAt") or "")
    action = "unchanged" if after == before else ("extended" if after > before else "shortened")
    if action != "unchanged":
        records.put(clients.ssm, record["recordName"], {**updated, "changedBy": "tailor serving extend"})
        notices.notify(
            clients,
            wiring,
            f"{key} serving {action}",
            f"{served.arn} ({key}) now ends at {after} (UTC), {hours:g} h after its creation; it ended at {before}.",
        )
    return Result(key, served.arn, action, after)


def expire(clients: Any, wiring: Wiring, key: str, *, now: datetime) -> Result:
    """Ends serving now, through the teardown function (the schedule's path: record, notification, metrics)."""
    record = live_record(clients, wiring.environment, key)
    if record.get("status") == "deleted":
        return Result(
            key, record.get("arn") or "", "gone", record.get("expiresAt") or "", record.get("deletedReason") or ""
        )
    served = describe(clients.bedrock, record["mode"], record["arn"])
    if served is None:
        return Result(key, record["arn"], "gone", record.get("expiresAt") or "", "already deleted")
    stamp = format_time(now)
    current = served.tags.get("expires-at")
    if current != stamp and (served.expires_at is None or served.expires_at > now):
        clients.bedrock.tag_resource(resourceARN=served.arn, tags=[{"key": "expires-at", "value": stamp}])
        remove_teardown(clients.scheduler, wiring.schedule_group, served.arn, current)
        records.put(
            clients.ssm, record["recordName"], {**record, "expiresAt": stamp, "changedBy": "tailor serving expire"}
        )
    payload = teardown_event(wiring.environment, served.arn, stamp)
    clients.lambda_.invoke(
        FunctionName=wiring.teardown_function_arn, InvocationType="Event", Payload=json.dumps(payload)
    )
    if served.busy:
        detail = f"it is {served.status}: Bedrock refuses deletes until it settles, so the reconciler deletes it then"
    else:
        detail = "the teardown function deletes it now (the schedule's path)"
    return Result(key, served.arn, "expiring", stamp, detail)
