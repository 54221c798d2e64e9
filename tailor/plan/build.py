"""The plan: what an environment's config will start and what it can cost, shown before anything is deployed.

Costs are worst cases for one month, from catalog prices: training and storage of every job, and every
serving entry running all its hours. What the catalog cannot price is listed, never guessed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tailor.config.environment import Environment
from tailor.config.job import Job
from tailor.config.models import Model
from tailor.config.serving import Serving
from tailor.errors import Problem
from tailor.jobs.preflight import DatasetStats
from tailor.plan.render import hours_text, money, render  # noqa: F401  (render: callers import it from here)

HOURS_PER_COMMITTED_MONTH = 24 * 31
COMMITMENT_TEXT = {"OneMonth": "1-month", "SixMonths": "6-month"}
PER_TOKEN = "billed per token, not bounded here"


@dataclass
class _Ledger:
    """What the worst-case month adds up to, and what it leaves out for want of a price."""

    items: list[dict[str, Any]] = field(default_factory=list)
    unpriced: list[str] = field(default_factory=list)

    def charge(self, item: str, model: Model, price_name: str, quantity: float) -> tuple[float | None, bool | None]:
        """quantity x the catalog price, rounded to cents, or (None, None) and a note when there is no price."""
        price = model.prices.get(price_name)
        if price is None:
            self.unpriced.append(f"{item}: the catalog has no {price_name} price for {model.model_id}")
            return None, None
        usd = round(quantity * price.usd, 2)
        self.items.append({"item": item, "usd": usd, "confirmed": price.confirmed})
        return usd, price.confirmed


def build_plan(env: Environment, stats: Mapping[tuple[str, str], DatasetStats]) -> dict[str, Any]:
    ledger = _Ledger()
    jobs = [_job(job, stats, ledger) for job in env.jobs.values()]
    servings = [_serving(serving, ledger) for serving in env.servings]
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


def budget_problems(plan: dict[str, Any], source: str) -> list[Problem]:
    """One problem when the plan's worst-case month exceeds policy.monthly_budget_usd; none otherwise."""
    budget, worst = plan["budget_usd"], plan["worst_case_month_usd"]
    if budget is None:
        return []
    # Hourly throughput is the cost that can run away; without its price the budget check would pass anything.
    unpriced = [s for s in plan["servings"] if s["mode"] == "provisioned" and s["worst_case_usd"] is None]
    if unpriced:
        return [
            Problem(
                source,
                s["path"],
                (
                    "cannot be priced: the catalog has no provisioned_per_mu_hour for "
                    f"{s['base_model']}, so policy.monthly_budget_usd "
                    "cannot be checked; add that price to catalog/models.yaml (or remove the budget)"
                ),
            )
            for s in unpriced
        ]
    if worst <= budget:
        return []
    largest = sorted(plan["worst_case_items"], key=lambda i: i["usd"], reverse=True)[:3]
    named = ", ".join(f"{i['item']} {money(i['usd'])}" for i in largest)
    return [
        Problem(
            source,
            "policy.monthly_budget_usd",
            (
                f"the worst case this month is {money(worst)}, over the {money(budget)} budget; largest: {named}; "
                "lower hours or model_units, remove entries, or raise monthly_budget_usd"
            ),
        )
    ]


def _job(job: Job, stats: Mapping[tuple[str, str], DatasetStats], ledger: _Ledger) -> dict[str, Any]:
    training = stats.get((job.key, "training"))
    epochs = job.hyperparameters.get("epochCount")
    tokens = training.estimated_tokens * epochs if training and isinstance(epochs, int) else None
    item = f"jobs.{job.key}"
    if tokens is None:
        ledger.unpriced.append(f"{item} training: {_no_tokens_reason(job, training)}")
        training_usd, training_confirmed = None, None
    else:
        training_usd, training_confirmed = ledger.charge(
            f"{item} training", job.model, "training_per_1k_tokens", tokens / 1000
        )
    if job.type == "distillation" and not (job.invocation_logs and job.invocation_logs.use_prompt_response):
        ledger.unpriced.append(
            f"{item} teacher: {job.teacher_model} writes the responses at its own inference "
            "rates, which the catalog does not price"
        )
    # Each job leaves one custom model; a month of storage is the most one month can bill for it.
    storage_usd, storage_confirmed = ledger.charge(f"{item} storage", job.model, "storage_per_month", 1)
    return {
        "key": job.key,
        "job_name": job.name,
        "type": job.type,
        "base_model": job.base_model,
        "model_status": job.model.status,
        "teacher_model": job.teacher_model,
        "teacher_inference_profile": job.teacher_profile,
        "grader_lambda_arn": job.grader_lambda_arn,
        "training_data": _source(job),
        "training_records": training.records if training else None,
        "validation_data": [v.location for v in job.validation],
        "validation_records": [
            s.records for (k, r), s in sorted(stats.items()) if k == job.key and r.startswith("validation")
        ]
        or None,
        "hyperparameters": dict(sorted(job.hyperparameters.items())),
        "defaulted_hyperparameters": sorted(set(job.hyperparameters) - job.user_hyperparameters),
        "revision": job.revision,
        "retain_custom_model": job.retain_custom_model,
        "estimated_training_tokens": tokens,
        "estimated_training_usd": training_usd,
        "training_price_confirmed": training_confirmed,
        "storage_usd_per_month": storage_usd,
        "storage_price_confirmed": storage_confirmed,
        "warnings": [w for (k, _), s in sorted(stats.items()) if k == job.key for w in s.warnings],
    }


def _no_tokens_reason(job: Job, training: DatasetStats | None) -> str:
    if training is None:
        return "its data is in S3, so its tokens are known only when the job runs"
    if "epochCount" in job.customization.hyperparameters:
        return "set hyperparameters.epochCount to estimate its tokens (the catalog has no default)"
    return f"{job.type} of {job.base_model} takes no epochCount, so its training tokens cannot be estimated"


def _serving(serving: Serving, ledger: _Ledger) -> dict[str, Any]:
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
        "ends": _ends(serving),
        "worst_case_usd": worst,
        "price_confirmed": confirmed,
    }


def _ends(serving: Serving) -> str:
    """The expiry rule in words: when Tailor deletes it, or why it cannot."""
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


def _source(job: Job) -> str:
    if job.invocation_logs is not None:
        return f"invocation logs {job.invocation_logs.s3_uri}"
    return job.training.location if job.training else "-"


def write_plan(plan: dict[str, Any], outdir: Path) -> Path:
    outdir.mkdir(parents=True, exist_ok=True)
    path = outdir / f"plan-{plan['environment']}.json"
    path.write_text(json.dumps(plan, indent=2, sort_keys=True) + "\n")
    return path
