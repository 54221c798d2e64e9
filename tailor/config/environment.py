"""Per-environment configuration (config/<env>.yaml) parsed once into frozen, validated objects."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from tailor import naming
from tailor.config import schema
from tailor.config.job import Job, parse_job
from tailor.config.job_naming import name_job
from tailor.config.models import Catalog
from tailor.config.policy import Policy, parse_policy
from tailor.config.serving import Serving, named, parse_throughputs
from tailor.config.sources import parse_vpc
from tailor.config.yamlio import WrittenInt, foreign_document, load_yaml
from tailor.errors import Problem, Problems, UserError, show

ACCOUNT = r"\d{12}"
REGION = r"[a-z]{2}(-gov)?-[a-z]+-\d"
EMAIL = r"[^@\s]+@[^@\s]+\.[^@\s]+"
RECONCILE_MINUTES = (1, 60)  # the reconciler bounds how long an expired throughput can outlive a lost schedule
DEFAULT_RECONCILE_MINUTES = 5


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


TOP_REQUIRED = ("environment", "region", "jobs")
TOP_OPTIONAL = (
    "account",
    "tags",
    "notifications",
    "retention",
    "encrypt_custom_models",
    "reconcile_every_minutes",
    "vpc",
    "policy",
    "throughputs",
)
CONFIG_TEXT = "a Tailor environment config (YAML, like config/dev.yaml)"


@dataclass(frozen=True)
class Parsed:
    """One config file read as far as it goes: the environment when it is valid, and always every job that is.

    Dataset checks run on `jobs` even when other parts of the file are wrong, so one run reports both kinds.
    """

    source: str
    environment: Environment | None
    jobs: Mapping[str, Job]
    problems: tuple[Problem, ...]


def read_environment(path: Path, catalog: Catalog, *, base_dir: Path, require_files: bool = True) -> Parsed:
    """Parses config/<env>.yaml without raising for what is written in it: its problems are in the result."""
    display = _display(path, base_dir)
    try:
        raw = load_yaml(path, display=display, expected=CONFIG_TEXT)
    except UserError as exc:
        return Parsed(display, None, MappingProxyType({}), exc.problems)
    problems = Problems(display)
    foreign = foreign_document(raw)
    if foreign is not None and any(key not in (*TOP_REQUIRED, *TOP_OPTIONAL) for key in raw):
        problems.add("", f"is not {CONFIG_TEXT}: it looks like {foreign}")
        return Parsed(display, None, MappingProxyType({}), problems.items)
    env, jobs = _parse(
        raw,
        problems,
        catalog,
        expected_name=path.stem,
        base_dir=base_dir,
        source=display,
        require_files=require_files,
    )
    return Parsed(display, None if problems else env, MappingProxyType(jobs), problems.items)


def load_environment(path: Path, catalog: Catalog, *, base_dir: Path, require_files: bool = True) -> Environment:
    parsed = read_environment(path, catalog, base_dir=base_dir, require_files=require_files)
    if parsed.problems:
        raise UserError(parsed.problems)
    assert parsed.environment is not None
    return parsed.environment


def environment_files(config_dir: Path, *, only: str | None = None) -> list[Path]:
    """config/*.yaml, or just config/<only>.yaml; a missing one is refused naming the ones there are."""
    files = sorted(config_dir.glob("*.yaml"))
    if only is not None:
        files = [f for f in files if f.stem == only]
        if not files:
            available = ", ".join(sorted(f.stem for f in config_dir.glob("*.yaml"))) or "(none)"
            raise UserError(
                [
                    Problem(
                        f"{config_dir.name}/{only}.yaml",
                        "",
                        f"no such file: there is no environment {show(only)}; available environments: {available}",
                    )
                ]
            )
    if not files:
        raise UserError(
            [Problem(f"{config_dir}", "", "no environment files (*.yaml) found; write one like config/dev.yaml")]
        )
    return files


def load_environments(
    config_dir: Path, catalog: Catalog, *, base_dir: Path, only: str | None = None
) -> list[Environment]:
    """Every config/<env>.yaml (or just `only`); reports the problems of all files together."""
    environments: list[Environment] = []
    problems: list[Problem] = []
    for file in environment_files(config_dir, only=only):
        parsed = read_environment(file, catalog, base_dir=base_dir)
        problems.extend(parsed.problems)
        if parsed.environment is not None:
            environments.append(parsed.environment)
    if problems:
        raise UserError(problems)
    return environments


def parse_environment(
    raw: Any, problems: Problems, catalog: Catalog, *, expected_name: str, base_dir: Path, source: str
) -> Environment | None:
    env, _ = _parse(raw, problems, catalog, expected_name=expected_name, base_dir=base_dir, source=source)
    return env


def _parse(
    raw: Any,
    problems: Problems,
    catalog: Catalog,
    *,
    expected_name: str,
    base_dir: Path,
    source: str,
    require_files: bool = True,
) -> tuple[Environment | None, dict[str, Job]]:
    """The environment (None when anything is wrong) and every job that parsed, named when the name is known."""
    top = schema.mapping(problems, "", raw, required=TOP_REQUIRED, optional=TOP_OPTIONAL)
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
                f"is {show(name)} but the file is {expected_name}.yaml; they must match, since the file name "
                f"selects the environment (make synth ENV={expected_name}, tailor plan {expected_name})"
            ),
        )
    account = top.get("account")
    if isinstance(account, int) and not isinstance(account, bool):
        problems.add("account", _unquoted_account(account))
        account = None
    account = schema.string(
        problems, "account", account, pattern=ACCOUNT, allowed_text="a 12-digit AWS account id in quotes"
    )
    region = schema.string(
        problems,
        "region",
        top.get("region"),
        pattern=REGION,
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
        pattern=EMAIL,
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
    low, high = RECONCILE_MINUTES
    reconcile = (
        schema.integer(
            problems,
            "reconcile_every_minutes",
            top.get("reconcile_every_minutes", DEFAULT_RECONCILE_MINUTES),
            minimum=low,
            maximum=high,
        )
        or DEFAULT_RECONCILE_MINUTES
    )
    policy = parse_policy(problems, top.get("policy"))
    default_vpc = parse_vpc(problems, "vpc", top.get("vpc"))
    jobs: dict[str, Job] = {}
    raw_jobs = top.get("jobs")
    if raw_jobs is not None and not isinstance(raw_jobs, dict):
        problems.add("jobs", f"must be a mapping of job key to job, got {type(raw_jobs).__name__}")
        raw_jobs = {}
    parsed_jobs: dict[str, Job] = {}
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
            require_files=require_files,
        )
        if job is not None:
            parsed_jobs[job.key] = job
            if name is not None:
                jobs[job.key] = name_job(job, name, encrypt)
    throughputs = parse_throughputs(
        problems, top.get("throughputs"), catalog=catalog, jobs=jobs, region=region, account=account, policy=policy
    )
    if problems or name is None or region is None:
        return None, jobs if name is not None else parsed_jobs
    throughputs = {
        k: named(t, name, jobs[t.model.value].name if t.model.kind == "job" else None) for k, t in throughputs.items()
    }
    environment = Environment(
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
    return environment, jobs


def _unquoted_account(account: int) -> str:
    """YAML reads an unquoted 012345670123 as octal: suggest quoting what was written, not the number it became."""
    written = account.written if isinstance(account, WrittenInt) else str(account)
    if written != str(account):
        return (
            f"is {written} unquoted, which YAML reads as the number {account}; quote it as written: "
            f'account: "{written}"'
        )
    return f'is the number {account}; account ids are text (leading zeros matter): quote it: account: "{written}"'


def _display(path: Path, base_dir: Path) -> str:
    try:
        return str(path.resolve().relative_to(base_dir.resolve()))
    except ValueError:
        return str(path)
