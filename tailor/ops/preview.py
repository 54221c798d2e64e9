"""`tailor preview`: what the next deploy will do, entry by entry, compared with what is deployed now.

Jobs: START (a new job, with its estimated training cost), REPLACE (the running job that will be STOPPED,
how long it has run), DELETE (removed from the config: stopped if running), UNCHANGED. Serving: BUY (its
worst case), REPLACE (delete and buy), EXTEND / SHORTEN (a new `hours`, counted from creation), REVIVE (gone,
and a new `hours` brings it back), STAYS GONE, DELETE, UNCHANGED. What is deployed is read from the records
the handlers keep in SSM and from Bedrock; nothing is changed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from tailor import naming, records
from tailor.config.environment import Environment
from tailor.serving.lifecycle import DEPLOYED_HOURS
from tailor.serving.model import expiry, format_time, parse_time


@dataclass(frozen=True)
class Change:
    action: str
    path: str
    detail: str
    cost_usd: float | None = None


def preview(clients: Any, env: Environment, plan: dict[str, Any], *, now: datetime) -> list[dict[str, Any]]:
    jobs_plan = {j["key"]: j for j in plan["jobs"]}
    servings_plan = {s["key"]: s for s in plan["servings"]}
    changes: list[Change] = []
    deployed_jobs = dict(records.all_records(clients.ssm, naming.job_record_prefix(env.name)))
    for key, job in env.jobs.items():
        record = _live(clients, deployed_jobs.pop(naming.job_record_name(env.name, key), None))
        cost = jobs_plan.get(key, {}).get("estimated_training_usd")
        if record is None:
            changes.append(Change("START", f"jobs.{key}", f"starts {job.name}", cost))
        elif record.get("jobName") == job.name:
            changes.append(Change("UNCHANGED", f"jobs.{key}", f"{job.name} ({record.get('status')})"))
        else:
            changes.append(Change("REPLACE", f"jobs.{key}", _replacement(record, job.name, now), cost))
    for name, stored in deployed_jobs.items():
        key = name.rsplit("/", 1)[-1]
        record = _live(clients, stored) or stored
        running = record.get("status") == "InProgress"
        what = (
            f"STOPS {record.get('jobName')} ({_since(record.get('creationTime'), now)})"
            if running
            else f"forgets {record.get('jobName')} ({record.get('status')})"
        )
        changes.append(Change("DELETE", f"jobs.{key}", f"removed from the config: {what}"))
    deployed_serving = dict(records.all_records(clients.ssm, naming.serving_record_prefix(env.name)))
    for serving in env.servings:
        path = servings_plan.get(serving.key, {}).get("path", serving.key)
        worst = servings_plan.get(serving.key, {}).get("worst_case_usd")
        record = deployed_serving.pop(naming.serving_record_name(env.name, serving.key), None)
        changes.append(_serving_change(path, serving, record, worst, now))
    for name, record in deployed_serving.items():
        if record.get("status") in ("active", "pending"):
            changes.append(
                Change(
                    "DELETE",
                    name.rsplit("/", 1)[-1],
                    f"removed from the config: deletes {record.get('arn') or 'its pending start'}",
                )
            )
    return [asdict(c) for c in changes]


def _live(clients: Any, record: dict[str, Any] | None) -> dict[str, Any] | None:
    """A record that says InProgress, with Bedrock's status now: the record lags a job that ended until the
    completion handler hears of it, and "STOPS the running job" must not be said of a finished one."""
    if record is None or record.get("status") != "InProgress" or not record.get("jobArn"):
        return record
    live = clients.bedrock.get_model_customization_job(jobIdentifier=record["jobArn"])
    return {**record, "status": live.get("status", record["status"])}


def _replacement(record: dict[str, Any], new_name: str, now: datetime) -> str:
    if record.get("status") == "InProgress":
        return (
            f"STOPS the running {record.get('jobName')} ({_since(record.get('creationTime'), now)}; the tokens it has "
            f"trained are billed and not resumable) and starts {new_name}"
        )
    return f"starts {new_name}; {record.get('jobName')} ({record.get('status')}) is kept or deleted as retention says"


def _serving_change(
    path: str, serving: Any, record: dict[str, Any] | None, worst: float | None, now: datetime
) -> Change:
    if record is None or record.get("status") == "removed":
        when = " when its job completes" if serving.model.kind == "job" else ""
        return Change("BUY", path, f"buys {serving.name}{when}", worst)
    if record.get("name") != serving.name:
        return Change(
            "REPLACE", path, f"deletes {record.get('arn') or record.get('name')} and buys {serving.name}", worst
        )
    if record.get("status") == "pending":
        return Change("UNCHANGED", path, "pending: starts when its job completes")
    # What CloudFormation holds: an operator's `tailor serving extend` changed the life, not the properties.
    deployed = record.get(DEPLOYED_HOURS, record.get("hours"))
    if record.get("status") == "deleted":
        if serving.hours != deployed:
            return Change("REVIVE", path, f"gone since {record.get('deletedAt')}; the new hours buy it again", worst)
        return Change("STAYS GONE", path, f"gone since {record.get('deletedAt')} ({record.get('deletedReason')})")
    if serving.hours is not None and serving.hours != deployed:
        created = parse_time(record.get("createdAt"))
        new = format_time(expiry(created, serving.hours)) if created else "?"
        longer = (record.get("hours") or 0) < serving.hours
        return Change("EXTEND" if longer else "SHORTEN", path, f"ends at {new} instead of {record.get('expiresAt')}")
    kept = f" (set by {record.get('changedBy')}: kept)" if DEPLOYED_HOURS in record else ""
    return Change("UNCHANGED", path, f"{record.get('arn')} until {record.get('expiresAt')}{kept}")


def _since(text: Any, now: datetime) -> str:
    started = parse_time(str(text or "")[:19] + "Z")
    if started is None:
        return "running"
    minutes = int((now - started).total_seconds() // 60)
    return f"running for {minutes // 60} h {minutes % 60:02d} min"


def render(changes: list[dict[str, Any]], environment: str) -> str:
    from tailor.plan.render import _table as table  # the plan's own table layout

    rows = [
        (c["action"], c["path"], "-" if c["cost_usd"] is None else f"{c['cost_usd']:,.2f}", c["detail"])
        for c in changes
    ]
    stops = sum("STOPS" in c["detail"] for c in changes)
    head = f"Preview of the next deploy of {environment}: {len(changes)} entries"
    warning = [f"WARNING: {stops} running job(s) will be stopped."] if stops else []
    return "\n".join([head, "", *table(("action", "entry", "cost $", "what happens"), rows, right={2}), *warning])
