"""A job's name: a hash of its effective settings, so a change that changes what it trains is a new job (and a
sweep's trials are each named from their own, so a redeploy adopts the unchanged ones)."""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType
from typing import Any

from tailor import naming
from tailor.config import schema
from tailor.config.job import Job, Trial
from tailor.config.serving import named
from tailor.config.sweep import Sweep


def name_job(job: Job, environment: str, encrypt: bool) -> Job:
    if job.sweep is not None:
        return _name_sweep(job, job.sweep, environment, encrypt)
    digest = naming.settings_hash(effective_settings(job, environment, encrypt))
    name = naming.job_name(environment, job.key, digest)
    serve = named(job.serve, environment, name) if job.serve else None
    return replace(job, settings_digest=digest, name=name, serve=serve)


def _name_sweep(job: Job, sweep: Sweep, environment: str, encrypt: bool) -> Job:
    """Each trial is named from its own effective settings, so adding a value starts only the new trial and a
    redeploy adopts the others; the sweep is named from its trials and what decides between them."""
    trials = []
    for index, values in enumerate(sweep.trials, start=1):
        trial = replace(
            job,
            sweep=None,
            serve=None,
            trial=Trial(index, values),
            hyperparameters=MappingProxyType({**job.hyperparameters, **values}),
            user_hyperparameters=job.user_hyperparameters | set(values),
        )
        digest = naming.settings_hash(effective_settings(trial, environment, encrypt))
        trials.append(replace(trial, settings_digest=digest, name=naming.job_name(environment, job.key, digest)))
    identity = {
        "environment": environment,
        "key": job.key,
        "trials": [t.name for t in trials],
        "evaluation": sweep.evaluation.identity if sweep.evaluation else None,
    }
    digest = naming.settings_hash(identity)
    name = naming.job_name(environment, job.key, digest)
    serve = named(job.serve, environment, name) if job.serve else None
    return replace(job, settings_digest=digest, name=name, serve=serve, trials=tuple(trials))


def effective_settings(job: Job, environment: str, encrypt: bool) -> dict[str, Any]:
    """Everything that changes what a job trains; a change here is a new job (tags and description are not).

    A trial says so: converting a job into a sweep that repeats its settings starts a new job for the trial,
    instead of the trial adopting the job the old resource stops when CloudFormation removes it.
    """
    settings = {
        "environment": environment,
        "key": job.key,
        "type": job.type,
        "base_model": job.base_model,
        "training": job.training.identity if job.training else None,
        "validation": [v.identity for v in job.validation],
        "hyperparameters": dict(sorted(job.hyperparameters.items())),
        "teacher": [job.teacher_model, job.teacher_profile, job.teacher_max_response_length],
        "invocation_logs": None
        if job.invocation_logs is None
        else [
            job.invocation_logs.s3_uri,
            job.invocation_logs.use_prompt_response,
            schema.plain(job.invocation_logs.request_metadata_filters),
        ],
        "grader": job.grader_lambda_arn,
        "vpc": None if job.vpc is None else [list(job.vpc.subnet_ids), list(job.vpc.security_group_ids)],
        "encrypted": encrypt,
        "revision": job.revision,
    }
    if job.trial is not None:
        settings["trial"] = True
    return settings
