"""The plan: what an environment's config will start and what it can cost, shown before anything is deployed.

Costs are worst cases for one month, from catalog prices: training and storage of every job, and every
serving entry running all its hours. What the catalog cannot price is listed, never guessed.
"""

from __future__ import annotations

import json
import math
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
    jobs = [_job(job, stats, ledger, env.policy.max_concurrent_jobs) for job in env.jobs.values()]
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


def budget_problems(plan: dict[str, Any], source: str) -> list[Problem]:
    """One problem when the plan's worst-case month exceeds policy.monthly_budget_usd; none otherwise."""
    budget, worst = plan["budget_usd"], plan["worst_case_month_usd"]
    if budget is None:
        return []
    sweeps = _sweep_budget_problems(plan, source, budget)
    if sweeps:
        return sweeps
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


def _sweep_budget_problems(plan: dict[str, Any], source: str, budget: float) -> list[Problem]:
    """A sweep multiplies a job's cost by its trials: one the budget cannot hold (or cannot price) is refused."""
    problems = []
    for job in plan["jobs"]:
        sweep = job.get("sweep")
        if not sweep:
            continue
        path = f"jobs.{job['key']}.sweep"
        if sweep["total_usd"] is None:
            problems.append(
                Problem(
                    source,
                    path,
                    (
                        f"cannot be priced ({sweep['unpriced']}), so policy.monthly_budget_usd cannot hold its "
                        f"{len(sweep['trials'])} trials; use local training data (its tokens are counted at synth), "
                        "or remove the budget"
                    ),
                )
            )
        elif sweep["total_usd"] > budget:
            problems.append(
                Problem(
                    source,
                    path,
                    (
                        f"its {len(sweep['trials'])} trials cost {money(sweep['total_usd'])} (training "
                        f"{money(sweep['training_usd'] or 0)}, storage {money(sweep['storage_usd'])}, evaluation "
                        f"{money(sweep['evaluation_usd'] or 0)}), over the whole {money(budget)} budget; sweep fewer "
                        "values, evaluate fewer trials (evaluate.top), or raise monthly_budget_usd"
                    ),
                )
            )
    return problems


def _job(job: Job, stats: Mapping[tuple[str, str], DatasetStats], ledger: _Ledger, limit: int = 2) -> dict[str, Any]:
    if job.sweep is not None:
        return _sweep_job(job, stats, ledger, limit)
    training = stats.get((job.key, "training"))
    item = f"jobs.{job.key}"
    tokens, training_usd, training_confirmed = _training(job, training, ledger, item)
    if job.type == "distillation" and not (job.invocation_logs and job.invocation_logs.use_prompt_response):
        ledger.unpriced.append(
            f"{item} teacher: {job.teacher_model} writes the responses at its own inference "
            "rates, which the catalog does not price"
        )
    # Each job leaves one custom model; a month of storage is the most one month can bill for it.
    storage_usd, storage_confirmed = ledger.charge(f"{item} storage", job.model, "storage_per_month", 1)
    return _job_entry(job, stats, tokens, training_usd, training_confirmed, storage_usd, storage_confirmed)


def _training(
    job: Job, training: DatasetStats | None, ledger: _Ledger, item: str
) -> tuple[int | None, float | None, bool | None]:
    epochs = job.hyperparameters.get("epochCount")
    tokens = training.estimated_tokens * epochs if training and isinstance(epochs, int) else None
    if tokens is None:
        ledger.unpriced.append(f"{item} training: {_no_tokens_reason(job, training)}")
        return None, None, None
    usd, confirmed = ledger.charge(f"{item} training", job.model, "training_per_1k_tokens", tokens / 1000)
    return tokens, usd, confirmed


def _sweep_job(job: Job, stats: Mapping[tuple[str, str], DatasetStats], ledger: _Ledger, limit: int) -> dict[str, Any]:
    """Every trial's training and the model each leaves (counted whether losers are deleted or kept: a month can
    bill them before the decision), and the evaluation's throughputs, each its hours at its model units."""
    assert job.sweep is not None
    training = stats.get((job.key, "training"))
    trials: list[dict[str, Any]] = []
    unpriced: list[str] = []
    for trial in job.trials:
        assert trial.trial is not None
        item = f"jobs.{job.key} trial {trial.trial.index}"
        before = len(ledger.unpriced)
        tokens, usd, confirmed = _training(trial, training, ledger, item)
        unpriced += [u.split(": ", 1)[-1] for u in ledger.unpriced[before:]]
        del ledger.unpriced[before:]  # one line for the sweep below, not one per trial
        storage, storage_confirmed = ledger.charge(f"{item} storage", trial.model, "storage_per_month", 1)
        trials.append(
            {
                "index": trial.trial.index,
                "name": trial.name,
                "hyperparameters": dict(trial.trial.values),
                "estimated_training_tokens": tokens,
                "estimated_training_usd": usd,
                "training_price_confirmed": confirmed,
                "storage_usd_per_month": storage,
                "storage_price_confirmed": storage_confirmed,
            }
        )
    unpriced = list(dict.fromkeys(unpriced))
    if unpriced:
        ledger.unpriced.append(f"jobs.{job.key} training of {len(trials)} trials: {'; '.join(unpriced)}")
    evaluation = _sweep_evaluation(job, ledger)
    training_usd = None if any(t["estimated_training_usd"] is None for t in trials) else _sum(trials, "training")
    storage_usd = round(sum(float(t["storage_usd_per_month"] or 0) for t in trials), 2)
    evaluation_usd = None if evaluation is None else evaluation["worst_case_usd"]
    priced = training_usd is not None and (evaluation is None or evaluation_usd is not None)
    total = round(float(training_usd or 0) + storage_usd + float(evaluation_usd or 0), 2) if priced else None
    confirmed = all(
        t[k] is not False for t in trials for k in ("training_price_confirmed", "storage_price_confirmed")
    ) and (evaluation is None or evaluation["price_confirmed"] is not False)
    entry = _job_entry(
        job,
        stats,
        None,
        training_usd,
        all(t["training_price_confirmed"] for t in trials) if training_usd is not None else None,
        storage_usd,
        all(t["storage_price_confirmed"] for t in trials),
    )
    entry["estimated_training_tokens"] = (
        None if training_usd is None else sum(t["estimated_training_tokens"] or 0 for t in trials)
    )
    # The swept hyperparameters take each trial's values (listed per trial): not the catalog defaults.
    entry["hyperparameters"] = {**entry["hyperparameters"], **{axis: "swept" for axis in job.sweep.axes}}
    entry["defaulted_hyperparameters"] = [h for h in entry["defaulted_hyperparameters"] if h not in job.sweep.axes]
    entry["sweep"] = {
        "search": job.sweep.search,
        "axes": list(job.sweep.axes),
        "seed": job.sweep.seed,
        "trials": trials,
        "selection": job.sweep.selection_text,
        "evaluation": evaluation,
        "training_usd": training_usd,
        "storage_usd": storage_usd,
        "evaluation_usd": evaluation_usd,
        "total_usd": total,
        "total_confirmed": confirmed,
        "unpriced": "; ".join(unpriced) or (None if priced else "the evaluation's throughput has no price"),
        "max_concurrent_jobs": limit,
        "rounds": math.ceil(len(trials) / limit),
    }
    return entry


def _sweep_evaluation(job: Job, ledger: _Ledger) -> dict[str, Any] | None:
    assert job.sweep is not None
    e = job.sweep.evaluation
    if e is None:
        return None
    hours = e.hours * e.top
    usd, confirmed = ledger.charge(
        f"jobs.{job.key}.sweep.evaluate", job.model, "provisioned_per_mu_hour", e.model_units * hours
    )
    per_token = [
        w for w, used in (("the judge's", e.judge_model), ("the base model's", e.gate.better_than_base)) if used
    ]
    if per_token:
        ledger.unpriced.append(
            f"jobs.{job.key}.sweep.evaluate: {' and '.join(per_token)} inference is billed per token"
        )
    return {
        "top": e.top,
        "model_units": e.model_units,
        "hours": e.hours,
        "billed_hours": hours,
        "metric": e.metric,
        "task_type": e.task_type,
        "gate": e.gate.text,
        "dataset": e.dataset.location,
        "worst_case_usd": usd,
        "price_confirmed": confirmed,
    }


def _sum(trials: list[dict[str, Any]], what: str) -> float:
    return round(sum(t[f"estimated_{what}_usd"] or 0 for t in trials), 2)


def _job_entry(
    job: Job,
    stats: Mapping[tuple[str, str], DatasetStats],
    tokens: int | None,
    training_usd: float | None,
    training_confirmed: bool | None,
    storage_usd: float | None,
    storage_confirmed: bool | None,
) -> dict[str, Any]:
    training = stats.get((job.key, "training"))
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


def _serving(serving: Serving, ledger: _Ledger, sweeps: set[str] | frozenset[str] = frozenset()) -> dict[str, Any]:
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


def _source(job: Job) -> str:
    if job.invocation_logs is not None:
        return f"invocation logs {job.invocation_logs.s3_uri}"
    return job.training.location if job.training else "-"


def write_plan(plan: dict[str, Any], outdir: Path) -> Path:
    outdir.mkdir(parents=True, exist_ok=True)
    path = outdir / f"plan-{plan['environment']}.json"
    path.write_text(json.dumps(plan, indent=2, sort_keys=True) + "\n")
    return path
