"""Ending serving: delete a managed PT or deployment that is due, keyed on its ARN and current expiry.

A duplicate or a six-hour-late schedule never deletes a newer resource of the same name or one whose life was
extended; a resource that is already gone is success; a busy one is left for the next reconciler pass.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from tailor import aws, naming, records
from tailor.serving.model import (
    PROVISIONED,
    TAG_EXPIRES_AT,
    TAG_SERVING_KEY,
    Served,
    describe,
    expiry,
    format_time,
    mode_of,
)
from tailor.serving.notices import kind, notify
from tailor.serving.schedules import Wiring, remove_teardown

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    arn: str | None
    # created | adopted | deleted | gone | not-due | deferred | committed | not-managed | would-delete | pending
    action: str
    detail: str = ""
    due: datetime | None = None  # for not-due: the expiry it is waiting for


def teardown(
    clients: Any,
    wiring: Wiring,
    arn: str,
    *,
    now: datetime,
    reason: str,
    force: bool = False,
    dry_run: bool = False,
    unmanaged: bool = False,
    max_hours: float | None = None,
) -> Outcome:
    """Deletes a managed PT or deployment that is due. Safe to call any number of times, at any delay.

    `force` (stack deletion, replacement) deletes before expiry; nothing deletes a committed PT inside its term.
    `unmanaged` is the reconciler's `unmanaged_throughput: delete`: the only path that deletes what Tailor did
    not create. `max_hours` (the reconciler's policy) caps the life at creation + max_hours whatever the tag says.
    """
    served = describe(clients.bedrock, mode_of(arn), arn)
    if served is None:
        _mark_deleted(clients, wiring, arn, now, f"already gone ({reason})", announce=False)
        return Outcome(arn, "gone")
    if (unmanaged and served.managed_by_tailor) or (not unmanaged and not served.managed_by(wiring.environment)):
        # The unmanaged path re-checks here: the sweep may have listed this resource without its tags.
        log.warning(
            "refusing to delete %s: not managed by Tailor %s (tags %s)", arn, wiring.environment, dict(served.tags)
        )
        return Outcome(arn, "not-managed")
    term_end = served.term_end(now)
    if term_end is not None:
        return Outcome(arn, "committed", f"commitment term ends {format_time(term_end)}")
    expires = served.expires_at
    if max_hours is not None and (expires is None or expires > (cap := expiry(served.created, max_hours))):
        expires = cap
    if not force and expires is not None and now < expires:
        return Outcome(
            arn, "not-due", f"expires {format_time(expires)}", expires
        )  # early, or a late schedule for an older expiry
    if dry_run:
        return Outcome(arn, "would-delete", reason)
    if served.busy:
        return Outcome(arn, "deferred", f"{served.status}; Bedrock refuses deletes until it settles")
    try:
        if served.mode == PROVISIONED:
            clients.bedrock.delete_provisioned_model_throughput(provisionedModelId=arn)
        else:
            clients.bedrock.delete_custom_model_deployment(customModelDeploymentIdentifier=arn)
    except ClientError as exc:
        code = aws.error_code(exc)
        if code == "ResourceNotFoundException":
            _mark_deleted(clients, wiring, arn, now, f"already gone ({reason})", announce=False)
            return Outcome(arn, "gone")
        if code == "ConflictException":
            return Outcome(arn, "deferred", aws.error_message(exc) or code)
        raise
    remove_teardown(clients.scheduler, wiring.schedule_group, arn, served.tags.get(TAG_EXPIRES_AT))
    _mark_deleted(clients, wiring, arn, now, reason, announce=True, served=served)
    return Outcome(arn, "deleted", reason)


def _mark_deleted(
    clients: Any, wiring: Wiring, arn: str, now: datetime, reason: str, *, announce: bool, served: Served | None = None
) -> None:
    key = served.tags.get(TAG_SERVING_KEY) if served else None
    name = naming.serving_record_name(wiring.environment, key) if key else _record_for(clients, wiring, arn)
    record = records.get(clients.ssm, name) if name else None
    if (
        name is not None
        and record is not None
        and record.get("arn") == arn
        and record.get("status") not in ("deleted", "removed")
    ):
        records.put(
            clients.ssm,
            name,
            {
                **record,
                "status": "deleted",
                "deletedAt": format_time(now),
                "deletedReason": reason,
                "updatedAt": format_time(now),
            },
        )
    if announce:
        label = key or arn
        notify(
            clients,
            wiring,
            f"{label} serving deleted",
            (
                f"Tailor {wiring.environment} deleted {kind(mode_of(arn))} {arn} ({label}): "
                f"{reason}.\nDeleted at {format_time(now)}; expiry was "
                f"{served.tags.get(TAG_EXPIRES_AT) if served else '-'}."
            ),
        )


def _record_for(clients: Any, wiring: Wiring, arn: str) -> str | None:
    for name, record in records.all_records(clients.ssm, naming.serving_record_prefix(wiring.environment)):
        if record.get("arn") == arn:
            return name
    return None
