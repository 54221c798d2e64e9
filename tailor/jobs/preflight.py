"""Checks that need the data itself: every local dataset a config references is validated before synth.

`load_checked` is how synth and `tailor plan` read configs: one run reports every config problem and every
dataset problem of every file, instead of the config errors first and the dataset errors on the next run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from tailor.config.environment import Environment, environment_files, read_environment
from tailor.config.job import Job
from tailor.config.models import Catalog
from tailor.datasets import validate_path
from tailor.errors import Problem, UserError
from tailor.jobs import evaluation, inputs

MAX_ERRORS_PER_FILE = 20


@dataclass(frozen=True)
class DatasetStats:
    location: str
    records: int
    estimated_tokens: int
    bytes: int
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class Checked:
    """An environment whose config and local datasets are valid, with what its datasets hold."""

    environment: Environment
    stats: Mapping[tuple[str, str], DatasetStats]


def load_checked(
    config_dir: Path,
    catalog: Catalog,
    *,
    base_dir: Path,
    only: str | None = None,
    max_errors: int = MAX_ERRORS_PER_FILE,
) -> list[Checked]:
    """Every config/<env>.yaml (or just `only`) with its dataset stats; every problem of every file at once."""
    problems: list[Problem] = []
    checked: list[Checked] = []
    for file in environment_files(config_dir, only=only):
        parsed = read_environment(file, catalog, base_dir=base_dir)
        problems.extend(parsed.problems)
        # The jobs that parsed are checked even when the rest of the file is wrong: both kinds in one run.
        data_problems, stats = _check(parsed.jobs.values(), parsed.source, max_errors)
        problems.extend(data_problems)
        if parsed.environment is not None and not data_problems:
            checked.append(Checked(parsed.environment, stats))
    if problems:
        raise UserError(problems)
    return checked


def check_datasets(
    env: Environment, *, max_errors: int = MAX_ERRORS_PER_FILE
) -> Mapping[tuple[str, str], DatasetStats]:
    """Validates local datasets; returns their stats by (job key, role) or raises with FILE:LINE problems."""
    problems, stats = _check(env.jobs.values(), env.source, max_errors)
    if problems:
        raise UserError(problems)
    return stats


def _check(
    jobs: Iterable[Job], source: str, max_errors: int
) -> tuple[list[Problem], Mapping[tuple[str, str], DatasetStats]]:
    stats: dict[tuple[str, str], DatasetStats] = {}
    problems: list[Problem] = []
    for job in jobs:
        for role, dataset in inputs.datasets(job):
            rules = inputs.rules_for(job, role)
            if dataset.path is None or rules is None:
                continue  # S3 data is validated by the job resource at deploy, before the job starts
            report = validate_path(dataset.path, rules, max_errors=max_errors, source=dataset.location)
            if not report.ok:
                problems.append(
                    Problem(
                        source,
                        f"jobs.{job.key}.{'training_data' if role == 'training' else 'validation_data'}",
                        f"{dataset.location} is not valid {rules.format} data for {job.base_model} ({job.type}):",
                    )
                )
                problems.extend(
                    Problem(f"{f.source}:{f.line}" if f.line is not None else f.source, "", f.message)
                    for f in report.errors
                )
                if report.error_count > len(report.errors):
                    problems.append(
                        Problem(dataset.location, "", f"... and {report.error_count - len(report.errors)} more errors")
                    )
            stats[(job.key, role)] = DatasetStats(
                dataset.location,
                report.records,
                report.total_estimated_tokens,
                report.bytes_read,
                tuple(str(w) for w in report.warnings),
            )
        problems.extend(_check_total(job, source, stats))
        problems.extend(_check_prompts(job, source, max_errors))
    return problems, MappingProxyType(stats)


def _check_total(job: Job, source: str, stats: Mapping[tuple[str, str], DatasetStats]) -> list[Problem]:
    """Bedrock counts a job's training and validation records together against one cap: each file can be within
    its own bound while the sum is over it. S3 datasets are counted by the job resource's check of each file only,
    so a job with S3 data is judged here by its local files alone (a lower bound)."""
    rules = job.customization.training_rules
    cap = rules.max_total_records if rules is not None else None
    counted = [stats[(job.key, role)] for role, _ in inputs.datasets(job) if (job.key, role) in stats]
    total = sum(s.records for s in counted)
    if cap is None or len(counted) < 2 or total <= cap:
        return []
    files = ", ".join(f"{s.location} {s.records:,}" for s in counted)
    return [
        Problem(
            source,
            f"jobs.{job.key}",
            (
                f"its training and validation data hold {total:,} records together ({files}); {job.base_model} "
                f"takes at most {cap:,} for {job.type}, training and validation counted together; move records out "
                "of the validation set or drop some"
            ),
        )
    ]


def _check_prompts(job: Job, source: str, max_errors: int) -> list[Problem]:
    """A sweep's local evaluation dataset: the prompts Bedrock's evaluation job reads (S3 ones: at deploy)."""
    if job.sweep is None or job.sweep.evaluation is None or job.sweep.evaluation.dataset.path is None:
        return []
    settings = job.sweep.evaluation
    path = settings.dataset.path
    assert path is not None
    with path.open("rb") as handle:
        found, _ = evaluation.validate_prompts(
            handle, task_type=settings.task_type, metrics=settings.metrics, max_errors=max_errors
        )
    if not found:
        return []
    location = settings.dataset.location
    head = Problem(
        source,
        f"jobs.{job.key}.sweep.evaluate.dataset",
        f"{location} is not a valid prompt dataset for a {settings.task_type} evaluation:",
    )
    return [head] + [Problem(f"{location}:{line}" if line else location, "", text) for line, text in found]
