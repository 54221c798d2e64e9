"""A job's entry in the plan, a sweep's with one line per trial: what it trains on and with what, and what its
training, storage and (for a sweep) evaluation can cost, charged to the ledger."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from tailor.config.job import Job
from tailor.jobs.preflight import DatasetStats
from tailor.plan.cost import Ledger


def job_entry(
    job: Job, stats: Mapping[tuple[str, str], DatasetStats], ledger: Ledger, limit: int = 2
) -> dict[str, Any]:
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
    return _job_fields(job, stats, tokens, training_usd, training_confirmed, storage_usd, storage_confirmed)


def _training(
    job: Job, training: DatasetStats | None, ledger: Ledger, item: str
) -> tuple[int | None, float | None, bool | None]:
    epochs = job.hyperparameters.get("epochCount")
    tokens = training.estimated_tokens * epochs if training and isinstance(epochs, int) else None
    if tokens is None:
        ledger.unpriced.append(f"{item} training: {_no_tokens_reason(job, training)}")
        return None, None, None
    usd, confirmed = ledger.charge(f"{item} training", job.model, "training_per_1k_tokens", tokens / 1000)
    return tokens, usd, confirmed


def _sweep_job(job: Job, stats: Mapping[tuple[str, str], DatasetStats], ledger: Ledger, limit: int) -> dict[str, Any]:
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
    entry = _job_fields(
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


def _sweep_evaluation(job: Job, ledger: Ledger) -> dict[str, Any] | None:
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


def _job_fields(
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


def _source(job: Job) -> str:
    if job.invocation_logs is not None:
        return f"invocation logs {job.invocation_logs.s3_uri}"
    return job.training.location if job.training else "-"
