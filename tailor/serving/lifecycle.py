"""Start and end serving: create-or-adopt a PT or deployment with its expiry, and tear it down idempotently.

Every path is safe to repeat: creation is keyed on a deterministic name and token and adopts what an earlier
delivery made; teardown is keyed on the ARN and the resource's *current* expires-at tag, so a duplicate or a
six-hour-late schedule never deletes a newer resource of the same name or one whose life was extended.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from tailor import naming, records
from tailor.serving.model import (
    COMMITMENT_TERM,
    ON_DEMAND,
    PROVISIONED,
    TAG_EXPIRES_AT,
    TAG_SERVING_KEY,
    TAG_STACK,
    Served,
    describe,
    expiry,
    format_time,
    managed_tags,
    mode_of,
)
from tailor.serving.schedules import Wiring, remove_teardown, schedule_teardown

log = logging.getLogger(__name__)
SCHEDULE_LEAD = timedelta(minutes=1)  # an expiry closer than this is torn down now, not scheduled in the past


class ServingError(Exception):
    """A serving request that cannot proceed; the message is one line a person can act on."""


@dataclass(frozen=True)
class Outcome:
    arn: str | None
    # created | adopted | deleted | gone | not-due | deferred | committed | not-managed | would-delete | pending
    action: str
    detail: str = ""
    due: datetime | None = None  # for not-due: the expiry it is waiting for


def ensure(
    clients: Any, wiring: Wiring, record: dict[str, Any], model_arn: str, *, generation: str, now: datetime
) -> dict[str, Any]:
    """Serves `model_arn` as the record describes, once: returns the record updated to active (and saved)."""
    mode, name, key = record["mode"], record["name"], record["key"]
    existing = describe(clients.bedrock, mode, name)
    if existing is not None:
        if not existing.managed_by(wiring.environment) or existing.tags.get(TAG_SERVING_KEY) != key:
            raise ServingError(
                f"a {_kind(mode)} named {name} exists but Tailor did not create it for "
                f"{wiring.environment}/{key}; delete or rename it"
            )
        served, action = _with_expiry(clients, wiring, existing, record, now), "adopted"
    else:
        served, action = _create(clients, wiring, record, model_arn, generation=generation, now=now), "created"
    try:
        expires_text = served.tags.get(TAG_EXPIRES_AT, "")
        updated = {
            **record,
            "status": "active",
            "arn": served.arn,
            "modelArn": model_arn,
            "createdAt": format_time(served.created),
            "expiresAt": expires_text,
            "deletedAt": None,
            "deletedReason": None,
            "updatedAt": format_time(now),
        }
        records.put(clients.ssm, record["recordName"], updated)
        _arm(clients, wiring, served, now)
        if action == "created":
            _notify(clients, wiring, f"{key} serving started", _started_message(updated))
    except Exception:
        # A failed create is never deleted by CloudFormation (the Provider ignores the Delete that follows a
        # failed Create), and a busy new PT refuses deletes: expire it now so the next sweep removes it.
        _expire_now(clients, served, now)
        raise
    log.info("%s %s %s (expires %s)", action, _kind(mode), served.arn, expires_text)
    return updated


def _expire_now(clients: Any, served: Served, now: datetime) -> None:
    if served.expires_at is None:
        return  # committed: nothing can end it early
    try:
        clients.bedrock.tag_resource(resourceARN=served.arn, tags=[{"key": TAG_EXPIRES_AT, "value": format_time(now)}])
    except ClientError as exc:
        log.error("could not expire %s after a failed start; it ends at its original expiry: %s", served.arn, exc)


def _with_expiry(clients: Any, wiring: Wiring, served: Served, record: dict[str, Any], now: datetime) -> Served:
    """An adopted resource takes the record's hours (counted from its creation), not the ones it was made with."""
    if record.get("commitment") or record.get("hours") is None:
        return served
    wanted = format_time(expiry(served.created, record["hours"]))
    current = served.tags.get(TAG_EXPIRES_AT)
    if current == wanted:
        return served
    clients.bedrock.tag_resource(resourceARN=served.arn, tags=[{"key": TAG_EXPIRES_AT, "value": wanted}])
    remove_teardown(clients.scheduler, wiring.schedule_group, served.arn, current)
    return Served(**{**served.__dict__, "tags": {**served.tags, TAG_EXPIRES_AT: wanted}})


def _create(
    clients: Any, wiring: Wiring, record: dict[str, Any], model_arn: str, *, generation: str, now: datetime
) -> Served:
    commitment = record.get("commitment")
    expires_text = COMMITMENT_TERM if commitment else format_time(expiry(now, record["hours"]))
    tags = managed_tags(
        wiring.environment,
        record["key"],
        expires_text,
        {**(record.get("tags") or {}), **({TAG_STACK: record["stackId"]} if record.get("stackId") else {})},
    )
    token = naming.client_request_token(f"{record['name']}|{generation}")
    if record["mode"] == PROVISIONED:
        request = {
            "modelUnits": record["modelUnits"],
            "provisionedModelName": record["name"],
            "modelId": model_arn,
            "clientRequestToken": token,
            "tags": tags,
        }
        if commitment:
            request["commitmentDuration"] = commitment
        arn = clients.bedrock.create_provisioned_model_throughput(**request)["provisionedModelArn"]
    else:
        arn = clients.bedrock.create_custom_model_deployment(
            modelDeploymentName=record["name"],
            modelArn=model_arn,
            clientRequestToken=token,
            tags=tags,
            description=f"Tailor {wiring.environment}/{record['key']}, expires {expires_text}",
        )["customModelDeploymentArn"]
    return Served(
        arn, record["mode"], record["name"], "Creating", now, model_arn, None, {t["key"]: t["value"] for t in tags}
    )


def _arm(clients: Any, wiring: Wiring, served: Served, now: datetime) -> None:
    """Gives a live resource its teardown: a schedule at its expiry, or deletion now if that is already due."""
    expires = served.expires_at
    if expires is None:
        return  # committed: its term is its end; the reconciler reports it until then
    if expires - now <= SCHEDULE_LEAD:
        teardown(clients, wiring, served.arn, now=now, reason="expired before its schedule could be set", force=True)
        return
    schedule_teardown(clients.scheduler, wiring, served.arn, expires)


def set_expiry(
    clients: Any, wiring: Wiring, record: dict[str, Any], hours: float, *, now: datetime
) -> dict[str, Any] | None:
    """A changed `hours`: the expiry moves in place (creation time + hours); the old schedule is replaced.

    None when the resource is gone (deleted out of band): the caller starts it again.
    """
    served = describe(clients.bedrock, record["mode"], record["arn"])
    if served is None:
        return None
    updated_record = {**record, "hours": hours}
    served = _with_expiry(clients, wiring, served, updated_record, now)
    updated = {**updated_record, "expiresAt": served.tags.get(TAG_EXPIRES_AT), "updatedAt": format_time(now)}
    records.put(clients.ssm, record["recordName"], updated)
    _arm(clients, wiring, served, now)
    return updated


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
) -> Outcome:
    """Deletes a managed PT or deployment that is due. Safe to call any number of times, at any delay.

    `force` (stack deletion, replacement) deletes before expiry; nothing deletes a committed PT inside its term.
    `unmanaged` is the reconciler's `unmanaged_throughput: delete`: the only path that deletes what Tailor did
    not create.
    """
    served = describe(clients.bedrock, mode_of(arn), arn)
    if served is None:
        _mark_deleted(clients, wiring, arn, now, f"already gone ({reason})", notify=False)
        return Outcome(arn, "gone")
    if (unmanaged and served.managed_by_tailor) or (not unmanaged and not served.managed_by(wiring.environment)):
        # The unmanaged path re-checks here: the sweep may have listed this resource without its tags.
        log.warning(
            "refusing to delete %s: not managed by Tailor %s (tags %s)", arn, wiring.environment, dict(served.tags)
        )
        return Outcome(arn, "not-managed")
    if served.in_commitment(now):
        return Outcome(arn, "committed", f"commitment term ends {format_time(served.commitment_end)}")
    expires = served.expires_at
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
        code = exc.response["Error"]["Code"]
        if code == "ResourceNotFoundException":
            _mark_deleted(clients, wiring, arn, now, f"already gone ({reason})", notify=False)
            return Outcome(arn, "gone")
        if code == "ConflictException":
            return Outcome(arn, "deferred", exc.response["Error"].get("Message", code))
        raise
    remove_teardown(clients.scheduler, wiring.schedule_group, arn, served.tags.get(TAG_EXPIRES_AT))
    _mark_deleted(clients, wiring, arn, now, reason, notify=True, served=served)
    return Outcome(arn, "deleted", reason)


def _mark_deleted(
    clients: Any, wiring: Wiring, arn: str, now: datetime, reason: str, *, notify: bool, served: Served | None = None
) -> None:
    key = served.tags.get(TAG_SERVING_KEY) if served else None
    name = naming.serving_record_name(wiring.environment, key) if key else _record_for(clients, wiring, arn)
    record = records.get(clients.ssm, name) if name else None
    if record is not None and record.get("arn") == arn and record.get("status") not in ("deleted", "removed"):
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
    if notify:
        label = key or arn
        _notify(
            clients,
            wiring,
            f"{label} serving deleted",
            (
                f"Tailor {wiring.environment} deleted {_kind(mode_of(arn))} {arn} ({label}): "
                f"{reason}.\nDeleted at {format_time(now)}; expiry was "
                f"{served.tags.get(TAG_EXPIRES_AT) if served else '-'}."
            ),
        )


def _record_for(clients: Any, wiring: Wiring, arn: str) -> str | None:
    for name, record in records.all_records(clients.ssm, naming.serving_record_prefix(wiring.environment)):
        if record.get("arn") == arn:
            return name
    return None


def _notify(clients: Any, wiring: Wiring, subject: str, message: str) -> None:
    clients.sns.publish(
        TopicArn=wiring.topic_arn, Subject=f"Tailor {wiring.environment}: {subject}"[:100], Message=message
    )


def _started_message(record: dict[str, Any]) -> str:
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


def _kind(mode: str) -> str:
    return "Provisioned Throughput" if mode == PROVISIONED else "custom model deployment" if mode == ON_DEMAND else mode
