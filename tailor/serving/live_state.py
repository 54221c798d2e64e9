"""What each serving entry of a plan is doing now, from the records the handlers keep in SSM.

Read only by `tailor plan --live` (synth makes no AWS calls): it is how a team sees that a throughput
torn down at expiry stays gone on an unchanged deploy, and what would bring it back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tailor import naming, records
from tailor.serving.model import COMMITMENT_TERM, parse_time


def annotate(plan: dict[str, Any], ssm: Any, *, now: datetime) -> dict[str, Any]:
    """The plan with a `state` text on every serving entry (the plan itself is not changed)."""
    servings = [
        {
            **s,
            "state": state(records.get(ssm, naming.serving_record_name(plan["environment"], s["key"])), s["name"], now),
        }
        for s in plan["servings"]
    ]
    return {**plan, "servings": servings}


def state(record: dict[str, Any] | None, name: str, now: datetime) -> str:
    if record is None or record.get("status") == "removed":
        return "not deployed"
    if record.get("name") != name:
        return "deployed with other settings: the next deploy replaces it"
    status = record.get("status")
    if status == "pending":
        return "pending: starts when its job completes"
    if status == "deleted":
        when = record.get("deletedAt") or "?"
        return (
            f"gone since {when} ({record.get('deletedReason') or 'deleted'}); stays gone "
            "until its hours or revision change"
        )
    if status == "active":
        if record.get("expiresAt") == COMMITMENT_TERM:
            return "active, committed: ends with its term"
        expires = parse_time(record.get("expiresAt"))
        if expires is None:
            return "active, expiry unreadable: the reconciler assigns the policy maximum"
        if now >= expires:
            return f"past its expiry {record['expiresAt']}: the reconciler deletes it at its next pass"
        left = expires - now
        return (
            f"active until {record['expiresAt']} ({int(left.total_seconds() // 3600)} h "
            f"{int(left.total_seconds() % 3600 // 60)} min left)"
        )
    return str(status)
