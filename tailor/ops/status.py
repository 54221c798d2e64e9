"""`tailor status`: every job and serving entry of a deployed environment, as it is now, with what it costs.

Jobs come from their SSM records and, while training, from GetModelCustomizationJob (its statusDetails stage);
serving from its record and the live resource (its status and expires-at tag). Costs use the catalog's
provisioned rate: spent so far (model units x hours since creation) and the worst case left (until expiry, or
the end of a commitment term); on-demand deployments bill per token, which Tailor cannot see.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from tailor import naming, records
from tailor.config.environment import Environment
from tailor.config.serving import Serving
from tailor.jobs import queue, sweep, sweep_report
from tailor.serving.model import COMMITMENT_TERM, describe

STAGES = (
    ("validationDetails", "validation"),
    ("dataProcessingDetails", "data processing"),
    ("trainingDetails", "training"),
)


@dataclass(frozen=True)
class JobState:
    key: str
    name: str
    status: str
    stage: str | None
    started: str | None
    ended: str | None
    training_loss: Any
    validation_loss: Any
    custom_model: str | None
    failure: str | None
    note: str = ""


@dataclass(frozen=True)
class ServingState:
    key: str
    mode: str
    arn: str | None
    state: str
    expires_at: str | None
    expires_in: str | None
    spent_usd: float | None
    worst_left_usd: float | None
    price_confirmed: bool | None
    note: str = ""


def status(clients: Any, env: Environment, *, now: datetime) -> dict[str, Any]:
    return {
        "environment": env.name,
        "region": env.region,
        "time": now.isoformat(timespec="seconds"),
        "jobs": [asdict(_job(clients, env, key, now)) for key in env.jobs],
        "servings": [asdict(_serving(clients, env, s, now)) for s in env.servings],
        "sweeps": _sweeps(clients, env),
        "dashboard": naming.dashboard_url(env.name, env.region),
    }


def _sweeps(clients: Any, env: Environment) -> dict[str, dict[str, Any]]:
    """Each sweep's record as it is, with one row per trial (tailor.jobs.sweep_report says what a row holds)."""
    out: dict[str, dict[str, Any]] = {}
    for key, job in env.jobs.items():
        if job.sweep is None:
            continue
        record = records.get(clients.ssm, naming.job_record_name(env.name, key))
        if record is not None and record.get("kind") == sweep.KIND:
            # The sweep record takes its trials' states at each completion pass; their own records are newer.
            trials = [
                {
                    **trial,
                    **sweep.summary(records.get(clients.ssm, sweep.trial_record_name(env.name, key, trial["name"]))),
                }
                for trial in record.get("trials") or []
            ]
            record = {**record, "trials": trials}
            out[key] = {"status": record.get("status"), "trials": sweep_report.sweep_rows(record), "record": record}
    return out


def _job(clients: Any, env: Environment, key: str, now: datetime) -> JobState:
    job = env.jobs[key]
    record = records.get(clients.ssm, naming.job_record_name(env.name, key))
    if record is None:
        return JobState(
            key, job.name, "not deployed", None, None, None, None, None, None, None, "make deploy starts it"
        )
    if record.get("kind") == sweep.KIND:
        winner = (record.get("winner") or {}).get("name")
        detail = f"winner {winner}" if winner else f"{len(record.get('trials') or [])} trials: see the sweep below"
        return JobState(
            key,
            str(record.get("sweepName")),
            str(record.get("status")),
            "sweep",
            None,
            None,
            None,
            None,
            None,
            None,
            detail,
        )
    if not job.data_present:
        note = "its datasets are not on this machine, so whether the config changed it is not known"
    elif record.get("jobName") != job.name:
        note = f"the config now names {job.name}: the next deploy replaces it"
    else:
        note = ""
    if record.get("status") == queue.QUEUED:
        note = record.get("queueNote") or f"waiting for one of {record.get('maxConcurrentJobs')} job slots"
    stage = None
    if record.get("status") == "InProgress" and record.get("jobArn"):
        live = clients.bedrock.get_model_customization_job(jobIdentifier=record["jobArn"])
        details = live.get("statusDetails") or {}
        stage = next(
            (label for member, label in STAGES if (details.get(member) or {}).get("status") == "InProgress"), None
        )
    return JobState(
        key,
        str(record.get("jobName")),
        str(record.get("status")),
        stage,
        record.get("creationTime"),
        record.get("endTime"),
        record.get("trainingLoss"),
        record.get("validationLoss"),
        record.get("customModelArn"),
        record.get("failureMessage"),
        note,
    )


def _serving(clients: Any, env: Environment, serving: Serving, now: datetime) -> ServingState:
    record = records.get(clients.ssm, naming.serving_record_name(env.name, serving.key)) or {}
    status = record.get("status")
    price = serving.base_model.prices.get("provisioned_per_mu_hour")
    if status in (None, "removed"):
        return ServingState(serving.key, serving.mode, None, "not deployed", None, None, None, None, None)
    if status == "pending":
        return ServingState(
            serving.key, serving.mode, None, "pending: starts when its job completes", None, None, None, None, None
        )
    if status == "deleted":
        note = f"{record.get('deletedReason') or 'deleted'}; a new hours or revision brings it back"
        return ServingState(
            serving.key,
            serving.mode,
            record.get("arn"),
            f"gone since {record.get('deletedAt')}",
            None,
            None,
            None,
            None,
            None,
            note,
        )
    served = describe(clients.bedrock, record["mode"], record["arn"])
    if served is None:
        return ServingState(
            serving.key, serving.mode, record["arn"], "gone (deleted outside Tailor)", None, None, None, None, None
        )
    created = served.created
    hours_up = max(0.0, (now - created).total_seconds() / 3600)
    committed = served.tags.get("expires-at") == COMMITMENT_TERM
    ends = served.commitment_end if committed else served.expires_at
    hours_left = max(0.0, (ends - now).total_seconds() / 3600) if ends else None
    units = serving.model_units
    spent = round(units * hours_up * price.usd, 2) if price and serving.mode == "provisioned" else None
    left = (
        round(units * hours_left * price.usd, 2)
        if price and hours_left is not None and serving.mode == "provisioned"
        else None
    )
    return ServingState(
        serving.key,
        serving.mode,
        served.arn,
        served.status,
        served.tags.get("expires-at"),
        _duration(hours_left) if hours_left is not None else None,
        spent,
        left,
        price.confirmed if price else None,
        "committed: ends with its term" if committed else "",
    )


def _duration(hours: float) -> str:
    minutes = int(round(hours * 60))
    return f"{minutes // 60} h {minutes % 60:02d} min"


def render(report: dict[str, Any]) -> str:
    from tailor.plan.render import _table as table  # the plan's own table layout

    lines = [f"Status of {report['environment']} ({report['region']}) at {report['time']}", ""]
    rows = []
    for j in report["jobs"]:
        state = j["status"] + (f" ({j['stage']})" if j["stage"] else "")
        losses = (
            "-"
            if j["training_loss"] is None
            else f"{j['training_loss']} / {j['validation_loss'] if j['validation_loss'] is not None else '-'}"
        )
        detail = j["failure"] or j["custom_model"] or j["note"] or "-"
        rows.append((j["key"], state, j["started"] or "-", j["ended"] or "-", losses, detail))
    lines += table(
        ("job", "state", "started", "ended", "loss (training / validation)", "model or failure"), rows, right=set()
    )
    if report["servings"]:
        serving_rows: list[tuple[str, ...]] = []
        for s in report["servings"]:
            money = "-" if s["spent_usd"] is None else f"{s['spent_usd']:,.2f}{'' if s['price_confirmed'] else '~'}"
            left = (
                "-"
                if s["worst_left_usd"] is None
                else f"{s['worst_left_usd']:,.2f}{'' if s['price_confirmed'] else '~'}"
            )
            when = f"{s['expires_at']} (in {s['expires_in']})" if s["expires_in"] else (s["expires_at"] or "-")
            serving_rows.append((s["key"], s["mode"], s["state"], when, money, left, s["note"] or s["arn"] or "-"))
        header = ("serving", "mode", "state", "expires", "spent $", "worst left $", "detail")
        lines += ["", *table(header, serving_rows, right={4, 5})]
        if any(s["mode"] == "on_demand" for s in report["servings"]):
            lines.append("On-demand deployments bill per token: Tailor cannot see that cost.")
    for key, swept in report.get("sweeps", {}).items():
        lines += ["", f"Sweep {key} ({swept['status']}; * marks the winner):", *sweep_report.table(swept["record"])]
    lines += ["", f"Dashboard: {report['dashboard']}"]
    return "\n".join(lines)
