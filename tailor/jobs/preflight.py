"""Checks that need the data itself: every local dataset a config references is validated before synth."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from tailor.config.environment import Environment
from tailor.datasets import validate_path
from tailor.errors import Problem, UserError
from tailor.jobs import inputs

MAX_ERRORS_PER_FILE = 20


@dataclass(frozen=True)
class DatasetStats:
    location: str
    records: int
    estimated_tokens: int
    bytes: int
    warnings: tuple[str, ...]


def check_datasets(
    env: Environment, *, max_errors: int = MAX_ERRORS_PER_FILE
) -> Mapping[tuple[str, str], DatasetStats]:
    """Validates local datasets; returns their stats by (job key, role) or raises with FILE:LINE problems."""
    stats: dict[tuple[str, str], DatasetStats] = {}
    problems: list[Problem] = []
    for job in env.jobs.values():
        for role, source in inputs.datasets(job):
            rules = inputs.rules_for(job, role)
            if source.path is None or rules is None:
                continue  # S3 data is validated by the job resource at deploy, before the job starts
            report = validate_path(source.path, rules, max_errors=max_errors, source=source.location)
            if not report.ok:
                problems.append(
                    Problem(
                        env.source,
                        f"jobs.{job.key}.{'training_data' if role == 'training' else 'validation_data'}",
                        f"{source.location} is not valid {rules.format} data for {job.base_model} ({job.type}):",
                    )
                )
                problems.extend(
                    Problem(f"{f.source}:{f.line}" if f.line is not None else f.source, "", f.message)
                    for f in report.errors
                )
                if report.error_count > len(report.errors):
                    problems.append(
                        Problem(source.location, "", f"... and {report.error_count - len(report.errors)} more errors")
                    )
            stats[(job.key, role)] = DatasetStats(
                source.location,
                report.records,
                report.total_estimated_tokens,
                report.bytes_read,
                tuple(str(w) for w in report.warnings),
            )
    if problems:
        raise UserError(problems)
    return MappingProxyType(stats)
