"""One job of an environment's config, checked against the catalog (job_naming.py then names it)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from tailor import naming
from tailor.config import schema
from tailor.config.hyperparameters import parse_hyperparameters
from tailor.config.models import CUSTOMIZATION_TYPES, Catalog, Customization, Model
from tailor.config.policy import Policy
from tailor.config.serving import Serving, parse_serve
from tailor.config.sources import (
    DataSource,
    InvocationLogs,
    Vpc,
    parse_data,
    parse_invocation_logs,
    parse_validation,
    parse_vpc,
)
from tailor.config.sweep import Sweep, parse_sweep
from tailor.errors import Problems, show

LAMBDA_ARN = r"arn:aws(-[a-z]+)*:lambda:[a-z0-9-]+:\d{12}:function:[a-zA-Z0-9_-]+(:(\$LATEST|[a-zA-Z0-9_-]+))?"


JOB_KEYS = (
    "type",
    "base_model",
    "training_data",
    "validation_data",
    "hyperparameters",
    "revision",
    "teacher_model",
    "teacher_max_response_length",
    "invocation_logs",
    "grader",
    "vpc",
    "tags",
    "retain_custom_model",
    "description",
    "serve",
    "sweep",
)


@dataclass(frozen=True)
class Trial:
    """Where a trial sits in its sweep: its 1-based position (the queue's order) and the values it tries."""

    index: int
    values: Mapping[str, Any]


@dataclass(frozen=True)
class Job:
    key: str
    type: str
    model: Model
    customization: Customization
    training: DataSource | None
    validation: tuple[DataSource, ...]
    hyperparameters: Mapping[str, Any]  # user values merged over catalog defaults
    user_hyperparameters: frozenset[str]
    revision: int
    teacher_model: str | None
    teacher_profile: str | None  # inference-profile id when the teacher is reached through one
    teacher_profile_regions: tuple[str, ...]  # Regions that profile routes to (IAM needs each)
    teacher_max_response_length: int | None
    invocation_logs: InvocationLogs | None
    grader_lambda_arn: str | None
    vpc: Vpc | None
    tags: Mapping[str, str]
    retain_custom_model: bool
    description: str | None
    serve: Serving | None = None
    settings_digest: str = ""
    name: str = ""
    sweep: Sweep | None = None  # a sweep job: `trials` are its jobs, `name` names the sweep
    trial: Trial | None = None  # one trial of a sweep (its key is the sweep's)
    trials: tuple[Job, ...] = ()

    @property
    def base_model(self) -> str:
        return self.model.model_id

    @property
    def data_present(self) -> bool:
        """False when the config was read without requiring files and a local dataset was not there: the job's
        name (a hash over the data's content) is then not the one a deploy would give it."""
        return all(s.present for s in (self.training, *self.validation) if s is not None)


def parse_job(
    problems: Problems,
    path: str,
    key: Any,
    raw: Any,
    catalog: Catalog,
    region: str | None,
    default_vpc: Vpc | None,
    retain_models: bool,
    encrypt: bool,
    base_dir: Path,
    policy: Policy,
    *,
    require_files: bool = True,
) -> Job | None:
    before = len(problems)
    if not isinstance(key, str) or not re.fullmatch(naming.KEY_PATTERN, key) or len(key) > naming.MAX_JOB_KEY_LEN:
        problems.add(
            path,
            (
                f"job key {show(key)} is not allowed; use {naming.KEY_PATTERN_TEXT}, at most "
                f"{naming.MAX_JOB_KEY_LEN} characters"
            ),
        )
        return None
    job = schema.mapping(problems, path, raw, required=("type", "base_model"), optional=JOB_KEYS[2:])
    ctype = schema.string(problems, f"{path}.type", job.get("type"), choices=CUSTOMIZATION_TYPES)
    base = schema.string(problems, f"{path}.base_model", job.get("base_model"))
    model = catalog.models.get(base) if base else None
    if base and model is None:
        problems.add(
            f"{path}.base_model",
            f"{show(base)} is not in the catalog ({catalog.source}); known models: {', '.join(sorted(catalog.models))}",
        )
    customization = None
    if model is not None and ctype is not None:
        customization = model.customizations.get(ctype)
        if customization is None:
            problems.add(
                f"{path}.type",
                (
                    f"{model.model_id} does not support {ctype}; it supports: "
                    f"{', '.join(model.customizations) or '(nothing)'}"
                ),
            )
        elif region and region not in customization.regions:
            problems.add(
                f"{path}.type",
                f"{model.model_id} supports {ctype} only in {', '.join(customization.regions)}, not in {region}",
            )
    if customization is None or region is None or model is None or ctype is None:
        return None
    hyperparameters, user_keys = parse_hyperparameters(
        problems, f"{path}.hyperparameters", job.get("hyperparameters"), customization
    )
    training = parse_data(
        problems, f"{path}.training_data", job.get("training_data"), base_dir, require_files=require_files
    )
    validation = parse_validation(
        problems,
        f"{path}.validation_data",
        job.get("validation_data"),
        customization,
        base_dir,
        require_files=require_files,
    )
    logs = parse_invocation_logs(problems, f"{path}.invocation_logs", job.get("invocation_logs"))
    if logs is not None and ctype not in ("distillation", "reinforcement_fine_tuning"):
        problems.add(f"{path}.invocation_logs", f"is only for distillation and reinforcement_fine_tuning, not {ctype}")
    if job.get("training_data") is None and logs is None:
        needs = (
            "training_data or invocation_logs"
            if ctype in ("distillation", "reinforcement_fine_tuning")
            else "training_data"
        )
        problems.add(path, f"needs {needs}")
    elif training is not None and logs is not None:
        problems.add(path, "set either training_data or invocation_logs, not both")
    teacher, profile, profile_regions, max_len = _teacher(problems, path, job, ctype, model, catalog, region)
    grader = _grader(problems, f"{path}.grader", job.get("grader"))
    if ctype == "reinforcement_fine_tuning" and job.get("grader") is None:
        problems.add(
            f"{path}.grader",
            "reinforcement_fine_tuning needs a grader: {lambda_arn: arn:aws:lambda:<region>:<account>:function:<name>}",
        )
    elif ctype != "reinforcement_fine_tuning" and job.get("grader") is not None:
        problems.add(f"{path}.grader", f"is only for reinforcement_fine_tuning, not {ctype}")
    revision = schema.integer(problems, f"{path}.revision", job.get("revision", 0), minimum=0) or 0
    vpc = parse_vpc(problems, f"{path}.vpc", job.get("vpc")) if "vpc" in job else default_vpc
    tags = schema.tags(problems, f"{path}.tags", job.get("tags"))
    retain = schema.boolean(problems, f"{path}.retain_custom_model", job.get("retain_custom_model"), retain_models)
    description = schema.string(problems, f"{path}.description", job.get("description"), max_len=200)
    serve = (
        parse_serve(problems, f"{path}.serve", job["serve"], job_key=key, job_model=model, region=region, policy=policy)
        if job.get("serve") is not None
        else None
    )
    sweep = (
        parse_sweep(
            problems,
            f"{path}.sweep",
            job["sweep"],
            customization=customization,
            fixed={k: v for k, v in (job.get("hyperparameters") or {}).items()}
            if isinstance(job.get("hyperparameters"), dict)
            else {},
            model=model,
            policy=policy,
            base_dir=base_dir,
            require_files=require_files,
        )
        if job.get("sweep") is not None
        else None
    )
    if len(problems) > before:
        return None
    return Job(
        key,
        ctype,
        model,
        customization,
        training,
        validation,
        MappingProxyType(hyperparameters),
        frozenset(user_keys),
        revision,
        teacher,
        profile,
        profile_regions,
        max_len,
        logs,
        grader,
        vpc,
        tags,
        retain,
        description,
        serve,
        sweep=sweep,
    )


def _teacher(
    problems: Problems, path: str, job: dict[str, Any], ctype: str, model: Model, catalog: Catalog, region: str
) -> tuple[str | None, str | None, tuple[str, ...], int | None]:
    teacher_id = schema.string(problems, f"{path}.teacher_model", job.get("teacher_model"))
    max_len = schema.integer(
        problems, f"{path}.teacher_max_response_length", job.get("teacher_max_response_length"), minimum=1
    )
    if ctype != "distillation":
        for key in ("teacher_model", "teacher_max_response_length"):
            if job.get(key) is not None:
                problems.add(f"{path}.{key}", f"is only for distillation, not {ctype}")
        return None, None, (), None
    allowed = catalog.teachers_for(model.model_id, region)
    if teacher_id is None:
        problems.add(
            f"{path}.teacher_model",
            f"distillation needs a teacher; allowed for {model.model_id} in {region}: {', '.join(allowed) or '(none)'}",
        )
        return None, None, (), None
    teacher = catalog.teachers.get(teacher_id)
    if teacher is None or teacher_id not in allowed:
        problems.add(
            f"{path}.teacher_model",
            f"{show(teacher_id)} cannot teach {model.model_id} in {region}; allowed: {', '.join(allowed) or '(none)'}",
        )
        return None, None, (), None
    profile = teacher.inference_profiles.get(region)
    use_profile = "on_demand" not in teacher.invocation
    if use_profile and profile is not None:
        return teacher_id, profile.profile_id, profile.regions, max_len
    return teacher_id, None, (), max_len


def _grader(problems: Problems, path: str, raw: Any) -> str | None:
    if raw is None:
        return None
    raw = schema.mapping(problems, path, raw, required=("lambda_arn",))
    return schema.string(
        problems,
        f"{path}.lambda_arn",
        raw.get("lambda_arn"),
        pattern=LAMBDA_ARN,
        allowed_text="a Lambda function ARN such as arn:aws:lambda:us-east-1:111122223333:function:grader",
    )
