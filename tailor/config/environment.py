"""Per-environment configuration (config/<env>.yaml) parsed once into frozen, validated objects."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from tailor import naming
from tailor.config import schema
from tailor.config.job import Job, name_job, parse_job
from tailor.config.models import Catalog
from tailor.config.policy import Policy, parse_policy
from tailor.config.serving import Serving, named, parse_throughputs
from tailor.config.sources import parse_vpc
from tailor.config.yamlio import load_yaml
from tailor.errors import Problem, Problems, UserError, show

ACCOUNT = r"\d{12}"


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

    @property
    def serves_jobs(self) -> bool:
        """Whether any serving waits for a job of this config: only then may job completion start serving."""
        return any(s.model.kind == "job" for s in self.servings)

    @property
    def bought_base_models(self) -> tuple[tuple[str, str], ...]:
        """(IAM foundation-model id, contextual id the request names) of base models bought with a commitment."""
        return tuple(
            (s.base_model.foundation_model_id, s.base_model.model_id)
            for s in self.servings
            if s.model.kind == "foundation_model"
        )


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
    environments: list[Environment] = []
    problems: list[Problem] = []
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
    tags = schema.tags(problems, "tags", top.get("tags"))
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
    default_vpc = parse_vpc(problems, "vpc", top.get("vpc"))
    jobs: dict[str, Job] = {}
    raw_jobs = top.get("jobs")
    if raw_jobs is not None and not isinstance(raw_jobs, dict):
        problems.add("jobs", f"must be a mapping of job key to job, got {type(raw_jobs).__name__}")
        raw_jobs = {}
    for key, raw_job in (raw_jobs or {}).items():
        job = parse_job(
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
            jobs[job.key] = name_job(job, name, encrypt)
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


def _replace(job: Job, **changes: Any) -> Job:
    from dataclasses import replace

    return replace(job, **changes)


def _display(path: Path, base_dir: Path) -> str:
    try:
        return str(path.resolve().relative_to(base_dir.resolve()))
    except ValueError:
        return str(path)
