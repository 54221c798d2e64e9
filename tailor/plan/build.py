"""The plan: what an environment's config will start and what it can cost, shown before anything is deployed.

Costs are worst cases for one month, from catalog prices: training and storage of every job, and every
serving entry running all its hours. What the catalog cannot price is listed, never guessed. Job entries are
built in job_entries.py; the ledger and the budget check are in cost.py.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tailor.config.environment import Environment
from tailor.config.serving import Serving
from tailor.jobs.preflight import DatasetStats
from tailor.plan.cost import Ledger
from tailor.plan.job_entries import job_entry
from tailor.plan.render import hours_text, render  # noqa: F401  (render: callers import it from here)

HOURS_PER_COMMITTED_MONTH = 24 * 31
COMMITMENT_TEXT = {"OneMonth": "1-month", "SixMonths": "6-month"}
PER_TOKEN = "billed per token, not bounded here"


def build_plan(env: Environment, stats: Mapping[tuple[str, str], DatasetStats]) -> dict[str, Any]:
    ledger = Ledger()
    jobs = [job_entry(job, stats, ledger, env.policy.max_concurrent_jobs) for job in env.jobs.values()]
    sweeps = {key for key, job in env.jobs.items() if job.sweep is not None}
    servings = [_serving(serving, ledger, sweeps) for serving in env.servings]
    for job in jobs:
        twice = [
            k
            for k, t in env.throughputs.items()
            if t.model.kind == "job" and t.model.value == job["key"] and env.jobs[job["key"]].serve
        ]
        if twice:  # legal, but two throughputs for one model are two bills
            job["warnings"].append(
                f"served twice: jobs.{job['key']}.serve and "
                f"throughputs.{', throughputs.'.join(twice)} each buy their own throughput"
            )
    return {
        "environment": env.name,
        "source": env.source,
        "account": env.account,
        "region": env.region,
        "jobs": jobs,
        "servings": servings,
        "worst_case_items": ledger.items,
        "worst_case_month_usd": round(sum(i["usd"] for i in ledger.items), 2),
        "worst_case_confirmed": all(i["confirmed"] for i in ledger.items),
        "budget_usd": env.policy.monthly_budget_usd,
        "budget_scope": env.policy.budget_scope,
        "idle_minutes": env.policy.idle_minutes,
        "unpriced": ledger.unpriced,
    }


def _serving(serving: Serving, ledger: Ledger, sweeps: set[str] | frozenset[str] = frozenset()) -> dict[str, Any]:
    path = f"jobs.{serving.key}.serve" if serving.source == "job" else f"throughputs.{serving.key}"
    # Committed rates are below the no-commitment rate, so a full month at that rate bounds a committed month
    # from above.
    billed_hours = HOURS_PER_COMMITTED_MONTH if serving.commitment else (serving.hours or 0.0)
    worst: float | None
    if serving.mode == "on_demand":
        worst, confirmed = 0.0, None
    else:
        worst, confirmed = ledger.charge(
            path, serving.base_model, "provisioned_per_mu_hour", serving.model_units * billed_hours
        )
    return {
        "path": path,
        "key": serving.key,
        "source": serving.source,
        "name": serving.name,
        "mode": serving.mode,
        "model": {"kind": serving.model.kind, "value": serving.model.value},
        "base_model": serving.base_model.model_id,
        "model_units": serving.model_units,
        "hours": serving.hours,
        "commitment": serving.commitment,
        "revision": serving.revision,
        "billed_hours": billed_hours if serving.mode == "provisioned" else None,
        "ends": _ends(serving, serving.model.kind == "job" and serving.model.value in sweeps),
        "worst_case_usd": worst,
        "price_confirmed": confirmed,
    }


def _ends(serving: Serving, sweep: bool = False) -> str:
    """The expiry rule in words: when Tailor deletes it, or why it cannot."""
    if sweep and not serving.commitment:
        return (
            f"created for the sweep's winner once chosen (nothing if its gate fails), deleted "
            f"{hours_text(serving.hours)} h later" + (f"; {PER_TOKEN}" if serving.mode == "on_demand" else "")
        )
    if serving.commitment:
        return (
            f"{COMMITMENT_TEXT[serving.commitment]} commitment: cannot be deleted before the "
            "term ends; renews automatically"
        )
    hours = hours_text(serving.hours)
    if serving.mode == "on_demand":
        life = (
            f"created when the job completes, deleted {hours} h later"
            if serving.source == "job"
            else f"deleted {hours} h after creation"
        )
        return f"deployment {life}; {PER_TOKEN}"
    return (
        f"created when the job completes, deleted {hours} h later"
        if serving.source == "job"
        else f"deleted {hours} h after it is created"
    )


def write_plan(plan: dict[str, Any], outdir: Path) -> Path:
    outdir.mkdir(parents=True, exist_ok=True)
    path = outdir / f"plan-{plan['environment']}.json"
    path.write_text(json.dumps(plan, indent=2, sort_keys=True) + "\n")
    return path
