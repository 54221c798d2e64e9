"""Starting serving: create-or-adopt a PT or deployment with its expiry, and arm its teardown.

Every path is safe to repeat: creation is keyed on a deterministic name and token and adopts what an earlier
delivery made; a resource's life is counted from its creation, whichever delivery set it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from tailor import naming, records
from tailor.serving import notices
from tailor.serving.model import (
    COMMITMENT_TERM,
    PROVISIONED,
    TAG_EXPIRES_AT,
    TAG_FAILED_START,
    TAG_SERVING_KEY,
    TAG_STACK,
    Served,
    describe,
    expiry,
    format_time,
    managed_tags,
)
from tailor.serving.schedules import Wiring, remove_teardown, schedule_teardown
from tailor.serving.teardown import teardown

log = logging.getLogger(__name__)
SCHEDULE_LEAD = timedelta(minutes=1)  # an expiry closer than this is torn down now, not scheduled in the past


class ServingError(Exception):
    """A serving request that cannot proceed; the message is one line a person can act on."""


# The `hours` CloudFormation's properties hold, kept in a serving record while an operator's life is in force.
DEPLOYED_HOURS = "deployedHours"


def ensure(
    clients: Any, wiring: Wiring, record: dict[str, Any], model_arn: str, *, generation: str, now: datetime
) -> dict[str, Any]:
    """Serves `model_arn` as the record describes, once: returns the record updated to active (and saved)."""
    mode, name, key = record["mode"], record["name"], record["key"]
    existing = describe(clients.bedrock, mode, name)
    if existing is not None:
        if not existing.managed_by(wiring.environment) or existing.tags.get(TAG_SERVING_KEY) != key:
            raise ServingError(
                f"a {notices.kind(mode)} named {name} exists but Tailor did not create it for "
                f"{wiring.environment}/{key}; delete or rename it"
            )
        served, action = _with_expiry(clients, wiring, existing, record, now), "adopted"
    else:
        try:
            served = _create(clients, wiring, record, model_arn, generation=generation, now=now)
        except Exception:
            # The response was lost (a timeout, or an error after Bedrock had accepted the request and the retries
            # gave up): the resource may exist. Found by its name, it is expired like any start that failed.
            lost = describe(clients.bedrock, mode, name)
            if lost is not None and lost.managed_by(wiring.environment) and lost.tags.get(TAG_SERVING_KEY) == key:
                _expire_now(clients, lost, now)
            raise
        action = "created"
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
            notices.notify(clients, wiring, f"{key} serving started", notices.started_message(updated))
    except Exception:
        # A failed create is never deleted by CloudFormation (the Provider ignores the Delete that follows a
        # failed Create), and a busy new PT refuses deletes: expire it now so the next sweep removes it.
        _expire_now(clients, served, now)
        raise
    log.info("%s %s %s (expires %s)", action, notices.kind(mode), served.arn, expires_text)
    return updated


def retire(clients: Any, wiring: Wiring, served: Served, *, now: datetime, reason: str) -> None:
    """Ends a resource now, or, while Bedrock refuses deletes (Creating, Updating), expires it for good so the
    next sweep deletes it as soon as it settles."""
    if teardown(clients, wiring, served.arn, now=now, reason=reason, force=True).action == "deferred":
        _expire_now(clients, served, now)


def _expire_now(clients: Any, served: Served, now: datetime) -> None:
    """Expires a resource whose start failed, for good: the marker stops any later adoption or rollback from
    extending it again, so the next sweep deletes it whatever the config says its hours are."""
    if served.expires_at is None:
        return  # committed: nothing can end it early
    stamp = format_time(now)
    try:
        clients.bedrock.tag_resource(
            resourceARN=served.arn,
            tags=[{"key": TAG_EXPIRES_AT, "value": stamp}, {"key": TAG_FAILED_START, "value": stamp}],
        )
    except ClientError as exc:
        log.error("could not expire %s after a failed start; it ends at its original expiry: %s", served.arn, exc)


def _with_expiry(clients: Any, wiring: Wiring, served: Served, record: dict[str, Any], now: datetime) -> Served:
    """An adopted resource takes the record's hours (counted from its creation), not the ones it was made with."""
    if record.get("commitment") or record.get("hours") is None or TAG_FAILED_START in served.tags:
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
    clients: Any, wiring: Wiring, record: dict[str, Any], hours: float, *, now: datetime, by_operator: bool = False
) -> dict[str, Any] | None:
    """A changed `hours`: the expiry moves in place (creation time + hours); the old schedule is replaced.

    `hours` is the life in force. An operator's (`tailor serving extend`) leaves CloudFormation's properties as
    they were, so the record keeps those as DEPLOYED_HOURS: what the next deploy compares the config with (it
    re-applies hours only when the config's change). A deploy's own change drops it.
    None when the resource is gone (deleted out of band): the caller starts it again.
    """
    served = describe(clients.bedrock, record["mode"], record["arn"])
    if served is None:
        return None
    updated_record = {k: v for k, v in record.items() if k != DEPLOYED_HOURS}
    if by_operator:
        updated_record[DEPLOYED_HOURS] = record.get(DEPLOYED_HOURS, record.get("hours"))
    updated_record["hours"] = hours
    served = _with_expiry(clients, wiring, served, updated_record, now)
    updated = {**updated_record, "expiresAt": served.tags.get(TAG_EXPIRES_AT), "updatedAt": format_time(now)}
    records.put(clients.ssm, record["recordName"], updated)
    _arm(clients, wiring, served, now)
    return updated
