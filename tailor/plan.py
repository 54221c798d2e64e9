"""The plan: what an environment's config will start, shown before anything is deployed."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

from tailor.config import Environment, Job
from tailor.preflight import DatasetStats


def build_plan(env: Environment, stats: Mapping[tuple[str, str], DatasetStats]) -> dict[str, Any]:
    return {
        "environment": env.name,
        "account": env.account,
        "region": env.region,
        "jobs": [_job(env, job, stats) for job in env.jobs.values()],
    }


def _job(env: Environment, job: Job, stats: Mapping[tuple[str, str], DatasetStats]) -> dict[str, Any]:
    training = stats.get((job.key, "training"))
    epochs = job.hyperparameters.get("epochCount")
    price = job.model.prices.get("training_per_1k_tokens")
    tokens = training.estimated_tokens * epochs if training and isinstance(epochs, int) else None
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
        "validation_records": [s.records for (k, r), s in sorted(stats.items()) if k == job.key and r.startswith("validation")] or None,
        "hyperparameters": dict(sorted(job.hyperparameters.items())),
        "defaulted_hyperparameters": sorted(set(job.hyperparameters) - job.user_hyperparameters),
        "revision": job.revision,
        "retain_custom_model": job.retain_custom_model,
        "estimated_training_tokens": tokens,
        "estimated_training_usd": round(tokens / 1000 * price.usd, 2) if tokens is not None and price else None,
        "training_price_confirmed": price.confirmed if price else None,
        "warnings": [w for (k, _), s in sorted(stats.items()) if k == job.key for w in s.warnings],
    }


def _source(job: Job) -> str:
    if job.invocation_logs is not None:
        return f"invocation logs {job.invocation_logs.s3_uri}"
    return job.training.location if job.training else "-"


def write_plan(plan: dict[str, Any], outdir: Path) -> Path:
    outdir.mkdir(parents=True, exist_ok=True)
    path = outdir / f"plan-{plan['environment']}.json"
    path.write_text(json.dumps(plan, indent=2, sort_keys=True) + "\n")
    return path


def render(plan: dict[str, Any]) -> str:
    head = f"Plan for {plan['environment']} ({plan['region']}, account {plan['account'] or 'from credentials'}): {len(plan['jobs'])} job(s)"
    columns = ("job", "type", "base model", "data", "records", "hyperparameters (* = catalog default)")
    rows = [columns]
    for job in plan["jobs"]:
        hps = ", ".join(f"{k}={v}{'*' if k in job['defaulted_hyperparameters'] else ''}" for k, v in job["hyperparameters"].items()) or "-"
        extra = f" <- {job['teacher_model']}" if job["teacher_model"] else ""
        rows.append((job["key"], job["type"] + extra, job["base_model"], job["training_data"], _fmt(job["training_records"]), hps))
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(columns) - 1)]
    lines = [head, ""]
    for index, row in enumerate(rows):
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(row, widths)) + "  " + str(row[-1]))
        if index == 0:
            lines.append("  ".join("-" * w for w in widths) + "  " + "-" * len(columns[-1]))
    notes = [f"  {job['key']}: {w}" for job in plan["jobs"] for w in job["warnings"]]
    if notes:
        lines += ["", "Warnings:"] + notes
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value:,}" if isinstance(value, int) else str(value)
