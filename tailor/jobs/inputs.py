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
    """The properties of a job's custom resource (synth time; the deployment's values are CDK tokens)."""
    return Spec(
        environment=env.name,
        job_key=job.key,
        record_name=naming.job_record_name(env.name, job.key),
        retain_custom_model=job.retain_custom_model,
        request=build_request(env, job, deployment),
        dataset_checks=s3_checks(job),
        dataset_copies=copies,
        data_key_arn=data_key_arn,
    )
