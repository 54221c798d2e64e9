"""Per-environment configuration (config/<env>.yaml) parsed once into frozen, validated objects."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from tailor import naming
from tailor.config import schema
from tailor.config.catalog import CUSTOMIZATION_TYPES, Catalog, Customization, Model
from tailor.config.serving import Policy, Serving, named, parse_policy, parse_serve, parse_throughputs
from tailor.config.yamlio import load_yaml
from tailor.errors import Problem, Problems, UserError, show

S3_URI = r"s3://[a-z0-9][-.a-z0-9]{1,61}[a-z0-9]/.+"
S3_URI_TEXT = "an S3 object URI such as s3://my-bucket/path/train.jsonl"
ACCOUNT = r"\d{12}"
LAMBDA_ARN = r"arn:aws(-[a-z]+)*:lambda:[a-z0-9-]+:\d{12}:function:[a-zA-Z0-9_-]+(:(\$LATEST|[a-zA-Z0-9_-]+))?"
TAG_TEXT = r"[a-zA-Z0-9\s._:/=+@-]*"
MAX_VALIDATION_SETS = 10
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
)


@dataclass(frozen=True)
class DataSource:
    """A dataset: a local file (uploaded content-addressed at deploy) or an S3 object."""

    location: str  # as written in the config
    path: Path | None = None  # local file, resolved
    sha256: str | None = None
    size: int | None = None

    @property
    def is_local(self) -> bool:
        return self.path is not None

    @property
    def identity(self) -> str:
        return f"sha256:{self.sha256}" if self.is_local else self.location


@dataclass(frozen=True)
class InvocationLogs:
    s3_uri: str
    use_prompt_response: bool
    request_metadata_filters: Mapping[str, Any] | None  # API shape (equals/notEquals/andAll/orAll)


@dataclass(frozen=True)
class Vpc:
    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]


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

    @property
    def base_model(self) -> str:
        return self.model.model_id


@dataclass(frozen=True)
class Environment:
    name: str
    source: str
    account: str | None
    region: str
    tags: Mapping[str, str]
    emails: tuple[str, ...]
    retain_data: bool
    retain_custom_models: bool
    encrypt_custom_models: bool
    reconcile_every_minutes: int
    policy: Policy = Policy()
    jobs: Mapping[str, Job] = field(default_factory=dict)
    throughputs: Mapping[str, Serving] = field(default_factory=dict)

    @property
    def servings(self) -> tuple[Serving, ...]:
        """Everything this environment serves: job `serve` blocks, then `throughputs` entries."""
        return tuple(j.serve for j in self.jobs.values() if j.serve) + tuple(self.throughputs.values())


def load_environment(path: Path, catalog: Catalog, *, base_dir: Path) -> Environment:
    display = _display(path, base_dir)
    raw = load_yaml(path, display=display)
    problems = Problems(display)
    env = parse_environment(raw, problems, catalog, expected_name=path.stem, base_dir=base_dir, source=display)
    problems.raise_if_any()
    assert env is not None
    return env


def load_environments(
    config_dir: Path, catalog: Catalog, *, base_dir: Path, only: str | None = None
) -> list[Environment]:
    """Every config/<env>.yaml (or just `only`); reports the problems of all files together."""
    files = sorted(config_dir.glob("*.yaml"))
    if only is not None:
        files = [f for f in files if f.stem == only]
        if not files:
            available = ", ".join(sorted(f.stem for f in config_dir.glob("*.yaml"))) or "(none)"
            raise UserError(
                [
                    Problem(
                        "-c env",
                        "",
                        f"no config file {config_dir.name}/{only}.yaml; available environments: {available}",
                    )
                ]
            )
    if not files:
        raise UserError([Problem(_display(config_dir, base_dir), "", "no environment files (*.yaml) found")])
    environments, problems = [], []
    for file in files:
        try:
            environments.append(load_environment(file, catalog, base_dir=base_dir))
        except UserError as exc:
            problems.extend(exc.problems)
    if problems:
        raise UserError(problems)
    return environments


def parse_environment(
    raw: Any, problems: Problems, catalog: Catalog, *, expected_name: str, base_dir: Path, source: str
) -> Environment | None:
    top = schema.mapping(
        problems,
        "",
        raw,
        required=("environment", "region", "jobs"),
        optional=(
            "account",
            "tags",
            "notifications",
            "retention",
            "encrypt_custom_models",
            "reconcile_every_minutes",
            "vpc",
            "policy",
            "throughputs",
        ),
    )
    name = schema.string(
        problems,
        "environment",
        top.get("environment"),
        pattern=naming.KEY_PATTERN,
        allowed_text=naming.KEY_PATTERN_TEXT,
        max_len=naming.MAX_ENV_LEN,
    )
    if name is not None and name != expected_name:
        problems.add(
            "environment",
            (
                f"is {show(name)} but the file is {expected_name}.yaml; they must match so `-c "
                f"env={expected_name}` selects it"
            ),
        )
    account = top.get("account")
    if isinstance(account, int) and not isinstance(account, bool):
        problems.add("account", f'is the number {account}; quote it ("{account:012d}") so leading zeros survive')
        account = None
    account = schema.string(
        problems, "account", account, pattern=ACCOUNT, allowed_text="a 12-digit AWS account id in quotes"
    )
    region = schema.string(
        problems,
        "region",
        top.get("region"),
        pattern=r"[a-z]{2}(-gov)?-[a-z]+-\d",
        allowed_text="an AWS Region such as us-east-1",
    )
    if region and region not in catalog.regions:
        problems.add(
            "region", f"is {show(region)}; the catalog has customizable models in: {', '.join(catalog.regions)}"
        )
    tags = _tags(problems, "tags", top.get("tags"))
    notifications = schema.mapping(problems, "notifications", top.get("notifications"), optional=("emails",))
    emails = schema.string_list(
        problems,
        "notifications.emails",
        notifications.get("emails"),
        pattern=r"[^@\s]+@[^@\s]+\.[^@\s]+",
        allowed_text="an e-mail address",
    )
    retention = schema.mapping(problems, "retention", top.get("retention"), optional=("data", "custom_models"))
    retain_data = (
        schema.string(problems, "retention.data", retention.get("data", "retain"), choices=("retain", "destroy"))
        != "destroy"
    )
    retain_models = (
        schema.string(
            problems, "retention.custom_models", retention.get("custom_models", "retain"), choices=("retain", "delete")
        )
        != "delete"
    )
    encrypt = schema.boolean(problems, "encrypt_custom_models", top.get("encrypt_custom_models"), True)
    # The reconciler is the backstop that bounds how long an expired throughput can outlive a lost schedule.
    reconcile = (
        schema.integer(
            problems, "reconcile_every_minutes", top.get("reconcile_every_minutes", 5), minimum=1, maximum=60
        )
        or 5
    )
    policy = parse_policy(problems, top.get("policy"))
    default_vpc = _vpc(problems, "vpc", top.get("vpc"))
    jobs: dict[str, Job] = {}
    raw_jobs = top.get("jobs")
    if raw_jobs is not None and not isinstance(raw_jobs, dict):
        problems.add("jobs", f"must be a mapping of job key to job, got {type(raw_jobs).__name__}")
        raw_jobs = {}
    for key, raw_job in (raw_jobs or {}).items():
        job = _job(
            problems,
            f"jobs.{key}",
            key,
            raw_job,
            catalog,
            region,
            default_vpc,
            retain_models,
            encrypt,
            base_dir,
            policy,
        )
        if job is not None and name is not None:
            jobs[job.key] = _named(job, name, encrypt)
    throughputs = parse_throughputs(
        problems, top.get("throughputs"), catalog=catalog, jobs=jobs, region=region, account=account, policy=policy
    )
    if problems or name is None or region is None:
        return None
    throughputs = {
        k: named(t, name, jobs[t.model.value].name if t.model.kind == "job" else None) for k, t in throughputs.items()
    }
    return Environment(
        name,
        source,
        account,
        region,
        tags,
        emails,
        retain_data,
        retain_models,
        encrypt,
        reconcile,
        policy,
        MappingProxyType(jobs),
        MappingProxyType(throughputs),
    )


def _job(
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
    if customization is None or region is None:
        return None
    hyperparameters, user_keys = _hyperparameters(
        problems, f"{path}.hyperparameters", job.get("hyperparameters"), customization
    )
    training = _data(problems, f"{path}.training_data", job.get("training_data"), base_dir)
    validation = _validation(problems, f"{path}.validation_data", job.get("validation_data"), customization, base_dir)
    logs = _invocation_logs(problems, f"{path}.invocation_logs", job.get("invocation_logs"))
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
    vpc = _vpc(problems, f"{path}.vpc", job.get("vpc")) if "vpc" in job else default_vpc
    tags = _tags(problems, f"{path}.tags", job.get("tags"))
    retain = schema.boolean(problems, f"{path}.retain_custom_model", job.get("retain_custom_model"), retain_models)
    description = schema.string(problems, f"{path}.description", job.get("description"), max_len=200)
    serve = (
        parse_serve(problems, f"{path}.serve", job["serve"], job_key=key, job_model=model, region=region, policy=policy)
        if job.get("serve") is not None
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
        frozenset(user_keys),  # type: ignore[arg-type]
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
    )


def _named(job: Job, environment: str, encrypt: bool) -> Job:
    digest = naming.settings_hash(effective_settings(job, environment, encrypt))
    name = naming.job_name(environment, job.key, digest)
    serve = named(job.serve, environment, name) if job.serve else None
    return _replace(job, settings_digest=digest, name=name, serve=serve)


def effective_settings(job: Job, environment: str, encrypt: bool) -> dict:
    """Everything that changes what a job trains; a change here is a new job (tags and description are not)."""
    return {
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
            _plain(job.invocation_logs.request_metadata_filters),
        ],
        "grader": job.grader_lambda_arn,
        "vpc": None if job.vpc is None else [list(job.vpc.subnet_ids), list(job.vpc.security_group_ids)],
        "encrypted": encrypt,
        "revision": job.revision,
    }


def _hyperparameters(problems: Problems, path: str, raw: Any, customization: Customization) -> tuple[dict, set]:
    raw = schema.mapping(problems, path, raw, optional=tuple(customization.hyperparameters))
    values = {name: spec.default for name, spec in customization.hyperparameters.items() if spec.default is not None}
    user = set()
    for name, value in raw.items():
        spec = customization.hyperparameters.get(name)
        if spec is None:
            continue  # reported as an unknown key by schema.mapping, with the allowed names
        message = spec.check(value)
        if message:
            problems.add(f"{path}.{name}", message)
            continue
        values[name] = spec.normalise(value)
        user.add(name)
    return values, user


def _data(problems: Problems, path: str, value: Any, base_dir: Path) -> DataSource | None:
    location = schema.string(problems, path, value)
    if location is None:
        return None
    if location.startswith("s3://"):
        if schema.string(problems, path, location, pattern=S3_URI, allowed_text=S3_URI_TEXT) is None:
            return None
        return DataSource(location)
    file = (base_dir / location).resolve()
    if not location.endswith(".jsonl"):
        problems.add(path, f"is {show(location)}; Bedrock reads JSON Lines files: the name must end in .jsonl")
        return None
    if not file.is_file():
        problems.add(
            path,
            (
                f"local file {show(location)} not found (paths are relative to "
                f"{base_dir.name or base_dir}/); or use {S3_URI_TEXT}"
            ),
        )
        return None
    digest, size = _sha256(file)
    return DataSource(location, file, digest, size)


def _validation(
    problems: Problems, path: str, value: Any, customization: Customization, base_dir: Path
) -> tuple[DataSource, ...]:
    if value is None:
        return ()
    if customization.validation_rules is None:
        problems.add(path, f"this model takes no validation set for {customization.type}; remove validation_data")
        return ()
    items = value if isinstance(value, list) else [value]
    if not 1 <= len(items) <= MAX_VALIDATION_SETS:
        problems.add(path, f"has {len(items)} entries; allowed: 1 to {MAX_VALIDATION_SETS}")
    sources = [
        _data(problems, f"{path}[{i}]" if isinstance(value, list) else path, item, base_dir)
        for i, item in enumerate(items)
    ]
    return tuple(s for s in sources if s is not None)


def _teacher(
    problems: Problems, path: str, job: dict, ctype: str, model: Model, catalog: Catalog, region: str
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


def _invocation_logs(problems: Problems, path: str, raw: Any) -> InvocationLogs | None:
    if raw is None:
        return None
    raw = schema.mapping(problems, path, raw, required=("s3_uri",), optional=("use_prompt_response", "filters"))
    uri = schema.string(
        problems,
        f"{path}.s3_uri",
        raw.get("s3_uri"),
        pattern=r"s3://[a-z0-9][-.a-z0-9]{1,61}[a-z0-9](/.*)?",
        allowed_text="an S3 URI of the model-invocation log location",
    )
    use = schema.boolean(problems, f"{path}.use_prompt_response", raw.get("use_prompt_response"), False)
    filters = _filters(problems, f"{path}.filters", raw.get("filters")) if raw.get("filters") is not None else None
    return InvocationLogs(uri, use, filters) if uri else None


_FILTER_KEYS = {"equals": "equals", "not_equals": "notEquals"}


def _filters(problems: Problems, path: str, raw: Any) -> Mapping[str, Any] | None:
    """Request-metadata filters: one of equals/not_equals (one pair) or and_all/or_all (1-16 of those)."""
    raw = schema.mapping(problems, path, raw, optional=("equals", "not_equals", "and_all", "or_all"))
    if len(raw) != 1:
        problems.add(path, "needs exactly one of equals, not_equals, and_all, or_all (they cannot be combined)")
        return None
    ((kind, value),) = raw.items()
    if kind in _FILTER_KEYS:
        pair = _filter_pair(problems, f"{path}.{kind}", value)
        return None if pair is None else {_FILTER_KEYS[kind]: pair}
    if not isinstance(value, list) or not 1 <= len(value) <= 16:
        problems.add(
            f"{path}.{kind}",
            "must be a list of 1 to 16 filters, each {equals: {key: value}} or {not_equals: {key: value}}",
        )
        return None
    items = []
    for index, item in enumerate(value):
        ipath = f"{path}.{kind}[{index}]"
        item = schema.mapping(problems, ipath, item, optional=tuple(_FILTER_KEYS))
        if len(item) != 1:
            problems.add(ipath, "needs exactly one of equals, not_equals")
            continue
        ((sub, pair_raw),) = item.items()
        pair = _filter_pair(problems, f"{ipath}.{sub}", pair_raw)
        if pair is not None:
            items.append({_FILTER_KEYS[sub]: pair})
    return {"andAll" if kind == "and_all" else "orAll": items}


def _filter_pair(problems: Problems, path: str, raw: Any) -> dict | None:
    if not isinstance(raw, dict) or len(raw) != 1:
        problems.add(path, "must be a mapping with exactly one metadata key and its value")
        return None
    ((key, value),) = raw.items()
    for part, text in (("key", key), ("value", value)):
        if not isinstance(text, str) or not 1 <= len(text) <= 256:
            problems.add(path, f"metadata {part} {show(text)} must be a string of 1 to 256 characters")
            return None
    return {key: value}


def _vpc(problems: Problems, path: str, raw: Any) -> Vpc | None:
    if raw is None:
        return None
    raw = schema.mapping(problems, path, raw, required=("subnet_ids", "security_group_ids"))
    subnets = schema.string_list(
        problems,
        f"{path}.subnet_ids",
        raw.get("subnet_ids"),
        pattern=r"subnet-[0-9a-f]{8,17}",
        allowed_text="a subnet id such as subnet-0123456789abcdef0",
    )
    groups = schema.string_list(
        problems,
        f"{path}.security_group_ids",
        raw.get("security_group_ids"),
        pattern=r"sg-[0-9a-f]{8,17}",
        allowed_text="a security group id such as sg-0123456789abcdef0",
    )
    if not 1 <= len(subnets) <= 16:
        problems.add(f"{path}.subnet_ids", f"has {len(subnets)} valid entries; allowed: 1 to 16")
    if not 1 <= len(groups) <= 5:
        problems.add(f"{path}.security_group_ids", f"has {len(groups)} valid entries; allowed: 1 to 5")
    return Vpc(subnets, groups)


def _tags(problems: Problems, path: str, raw: Any) -> Mapping[str, str]:
    if raw is None:
        return MappingProxyType({})
    if not isinstance(raw, dict):
        problems.add(path, f"must be a mapping of tag key to value, got {type(raw).__name__}")
        return MappingProxyType({})
    out = {}
    for key, value in raw.items():
        if (
            not isinstance(key, str)
            or not 1 <= len(key) <= 128
            or not re.fullmatch(TAG_TEXT, key)
            or key.startswith("aws:")
        ):
            problems.add(
                f"{path}.{key}",
                (
                    "tag keys are 1-128 characters of letters, digits, spaces and . _ : / = + @ - "
                    "and may not start with aws:"
                ),
            )
        elif (
            not isinstance(value, (str, int, float))
            or isinstance(value, bool)
            or len(str(value)) > 256
            or not re.fullmatch(TAG_TEXT, str(value))
        ):
            problems.add(
                f"{path}.{key}",
                (
                    f"value {show(value)}: tag values are up to 256 characters of letters, digits, "
                    "spaces and . _ : / = + @ -"
                ),
            )
        else:
            out[key] = str(value)
    if len(out) > 40:
        problems.add(path, f"has {len(out)} tags; at most 40 here (Tailor adds its own and Bedrock allows 200)")
    return MappingProxyType(out)


def _sha256(file: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with file.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _replace(job: Job, **changes: Any) -> Job:
    from dataclasses import replace

    return replace(job, **changes)


def _display(path: Path, base_dir: Path) -> str:
    try:
        return str(path.resolve().relative_to(base_dir.resolve()))
    except ValueError:
        return str(path)
