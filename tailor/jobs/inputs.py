"""What a set of jobs reads and calls: the facts the service role, the provider and the job resources are built from.

Computed here, from the validated config, so the stack only wires them and tests can check them without a synth.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tailor import naming
from tailor.config.environment import Environment
from tailor.config.job import Job
from tailor.config.sources import DataSource
from tailor.datasets import DatasetRules
from tailor.jobs import evaluation, queue, sweep
from tailor.jobs.request import Deployment, build_request
from tailor.jobs.spec import DatasetCheck, DatasetCopy, Spec


@dataclass(frozen=True)
class S3Object:
    bucket: str
    key: str  # an object key, or a prefix ending in "*"


@dataclass(frozen=True)
class ModelTarget:
    """A model a job's service role invokes: a foundation model in a Region, or a system inference profile."""

    resource: str  # "foundation-model" | "inference-profile"
    name: str
    region: str | None = None  # None: the stack's own Region


def datasets(job: Job) -> list[tuple[str, DataSource]]:
    """(role, source) for every dataset of a job: "training", then "validation-<i>"."""
    sources: list[tuple[str, DataSource]] = [("training", job.training)] if job.training else []
    return sources + [(f"validation-{i}", v) for i, v in enumerate(job.validation)]


def rules_for(job: Job, role: str) -> DatasetRules | None:
    """The dataset rules a role's file is checked against; None where the model takes no such file."""
    return job.customization.training_rules if role == "training" else job.customization.validation_rules


def external_inputs(jobs: Iterable[Job]) -> tuple[S3Object, ...]:
    """S3 data the config names directly (not uploaded by Tailor): the service role must be able to read it."""
    objects = []
    for job in jobs:
        objects += [
            S3Object(*naming.split_s3_uri(source.location)) for _, source in datasets(job) if not source.is_local
        ]
        if job.invocation_logs is not None:
            bucket, key = naming.split_s3_uri(job.invocation_logs.s3_uri)
            objects.append(S3Object(bucket, (key.rstrip("/") + "/*") if key else "*"))
    return tuple(objects)


def s3_checks(job: Job) -> tuple[DatasetCheck, ...]:
    """S3 datasets the job resource validates at deploy: synth could not see them."""
    checks = []
    for role, source in datasets(job):
        rules = rules_for(job, role)
        if not source.is_local and rules is not None:
            checks.append(DatasetCheck(source.location, role, rules))
    return tuple(checks)


def teacher_targets(jobs: Iterable[Job]) -> tuple[ModelTarget, ...]:
    """Teachers the service role invokes; a system inference profile routes to the model in every Region it spans."""
    targets: list[ModelTarget] = []
    for job in jobs:
        if job.teacher_model is None:
            continue
        if job.teacher_profile:
            targets.append(ModelTarget("inference-profile", job.teacher_profile))
            targets += [ModelTarget("foundation-model", job.teacher_model, r) for r in job.teacher_profile_regions]
        else:
            targets.append(ModelTarget("foundation-model", job.teacher_model))
    return tuple(dict.fromkeys(targets))


def models_need_the_key(env: Environment) -> bool:
    """Whether custom models this environment keeps are encrypted with its key (which must then outlive the stack).

    Jobs removed from the config earlier may have left retained models too, so the environment's default
    counts as well as each job's own retain_custom_model.
    """
    if not env.encrypt_custom_models:
        return False
    return env.retain_custom_models or any(j.retain_custom_model for j in env.jobs.values())


def graders(jobs: Iterable[Job]) -> tuple[str, ...]:
    return tuple(sorted({j.grader_lambda_arn for j in jobs if j.grader_lambda_arn}))


def vpc_ids(jobs: Iterable[Job]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(subnet ids, security group ids) over every job that runs in a VPC."""
    jobs = list(jobs)
    subnets = sorted({s for j in jobs if j.vpc for s in j.vpc.subnet_ids})
    groups = sorted({g for j in jobs if j.vpc for g in j.vpc.security_group_ids})
    return tuple(subnets), tuple(groups)


def base_models(jobs: Iterable[Job]) -> tuple[str, ...]:
    """The foundation-model ids the provider starts jobs from (IAM names them without the context suffix)."""
    return tuple(sorted({j.model.foundation_model_id for j in jobs}))


def resource_spec(
    env: Environment, job: Job, deployment: Deployment, copies: tuple[DatasetCopy, ...], *, data_key_arn: str
) -> Spec:
    """The properties of a job's custom resource (synth time; the deployment's values are CDK tokens).

    A sweep's trial is such a job too: its record sits below its sweep's, and its queue position follows its
    sweep's place in the config and its own in the sweep.
    """
    order = list(env.jobs).index(job.key) + 1 if job.key in env.jobs else 0
    trial = job.trial.index if job.trial is not None else 0
    return Spec(
        environment=env.name,
        job_key=job.key,
        record_name=record_name(env.name, job),
        retain_custom_model=job.retain_custom_model,
        request=build_request(env, job, deployment),
        dataset_checks=s3_checks(job),
        dataset_copies=copies,
        data_key_arn=data_key_arn,
        max_concurrent_jobs=env.policy.max_concurrent_jobs,
        queue_position=queue.position(order, trial),
        trial_of=job.key if job.trial is not None else None,
    )


def record_name(environment: str, job: Job) -> str:
    if job.trial is not None:
        return sweep.trial_record_name(environment, job.key, job.name)
    return naming.job_record_name(environment, job.key)


def jobs_started(env: Environment) -> tuple[Job, ...]:
    """Every job the environment starts: plain jobs, and each sweep's trials in their place."""
    return tuple(t for job in env.jobs.values() for t in (job.trials if job.sweep is not None else (job,)))


def evaluations(env: Environment) -> tuple[Job, ...]:
    """The sweeps that evaluate their best trials (their completion needs evaluation and serving rights)."""
    return tuple(j for j in env.jobs.values() if j.sweep is not None and j.sweep.evaluation is not None)


def evaluation_output_prefix(environment: str, job_key: str) -> str:
    return f"evaluations/{environment}/{job_key}/"


def evaluation_dataset_key(environment: str, job: Job) -> str | None:
    """The content-addressed key a local evaluation dataset is copied to (None for S3 data)."""
    assert job.sweep is not None and job.sweep.evaluation is not None
    dataset = job.sweep.evaluation.dataset
    if dataset.path is None or dataset.sha256 is None:
        return None
    return naming.dataset_key(environment, job.key, "evaluation", dataset.sha256, dataset.path.name)


def sweep_spec(
    env: Environment,
    job: Job,
    *,
    evaluation_settings: dict[str, object] | None,
    copies: tuple[DatasetCopy, ...],
    data_key_arn: str,
) -> sweep.SweepSpec:
    """The properties of a sweep's `Custom::TailorSweep` resource."""
    assert job.sweep is not None
    return sweep.SweepSpec(
        environment=env.name,
        job_key=job.key,
        sweep_name=job.name,
        trials=tuple(
            sweep.TrialRef(t.trial.index, t.name, dict(t.trial.values)) for t in job.trials if t.trial is not None
        ),
        retain_custom_models=job.retain_custom_model,
        evaluation=dict(evaluation_settings) if evaluation_settings is not None else None,
        dataset_copies=copies,
        data_key_arn=data_key_arn,
    )


def evaluation_settings(
    env: Environment, job: Job, *, dataset_uri: str, role_arn: str, output_bucket: str
) -> dict[str, object] | None:
    if job.sweep is None or job.sweep.evaluation is None:
        return None
    return evaluation.settings(
        job.sweep.evaluation,
        job_key=job.key,
        dataset_uri=dataset_uri,
        role_arn=role_arn,
        output_uri=f"s3://{output_bucket}/{evaluation_output_prefix(env.name, job.key)}",
        base_model_id=job.model.foundation_model_id,
        dataset_check=not job.sweep.evaluation.dataset.is_local,
    )
