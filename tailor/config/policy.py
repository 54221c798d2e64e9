"""An environment's cleanup and cost policy: how long serving may live and what the reconciler may do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tailor.config import schema
from tailor.errors import Problems

MIN_HOURS = 0.25  # EventBridge Scheduler fires to the minute; a shorter life is an error, not a test


UNMANAGED_ACTIONS = ("report", "delete")
# What the budget counts: the Bedrock spend tagged with this environment (a cost-allocation tag filter), or
# all of the account's Bedrock spend. Only the environment's own spend may block its creates.
BUDGET_SCOPES = ("environment", "account")
IDLE_MIN_MINUTES = 15  # CloudWatch's Bedrock metrics arrive at one-minute resolution, a few minutes late
# Concurrent model-customization jobs per account and Region: 2, UNCONFIRMED in AWS documentation (no Service
# Quotas code for it is documented, so Tailor cannot read it; terraform-provider-aws PR #37990 says 2, not
# adjustable). Every job InProgress or Stopping in the account and Region counts, not only this environment's.
DEFAULT_MAX_CONCURRENT_JOBS = 2
MAX_CONCURRENT_JOBS = 100


@dataclass(frozen=True)
class Policy:
    max_throughput_hours: float = 8
    default_throughput_hours: float = 2
    allow_commitment: bool = False
    unmanaged_throughput: str = "report"
    warn_before_minutes: int = 30
    monthly_budget_usd: float | None = None
    deny_create_over_budget: bool = False
    dry_run: bool = False
    budget_scope: str = "environment"
    # Managed serving that nobody has called for this long is torn down early (None: off). Invocations are
    # read from CloudWatch (AWS/Bedrock, Invocations, ModelId = the PT or deployment ARN: UNCONFIRMED naming).
    idle_minutes: int | None = None
    # Jobs beyond this wait in the queue (recorded `queued`) and start as running ones finish.
    max_concurrent_jobs: int = DEFAULT_MAX_CONCURRENT_JOBS


def parse_policy(problems: Problems, raw: Any) -> Policy:
    path = "policy"
    raw = schema.mapping(
        problems,
        path,
        raw,
        optional=(
            "max_throughput_hours",
            "default_throughput_hours",
            "allow_commitment",
            "unmanaged_throughput",
            "warn_before_minutes",
            "monthly_budget_usd",
            "deny_create_over_budget",
            "dry_run",
            "budget_scope",
            "idle_minutes",
            "max_concurrent_jobs",
        ),
    )
    defaults = Policy()
    maximum = schema.number(
        problems, f"{path}.max_throughput_hours", raw.get("max_throughput_hours"), minimum=MIN_HOURS, maximum=24 * 31
    )
    maximum = defaults.max_throughput_hours if maximum is None else maximum
    default = schema.number(
        problems, f"{path}.default_throughput_hours", raw.get("default_throughput_hours"), minimum=MIN_HOURS
    )
    if default is None:
        default = min(defaults.default_throughput_hours, maximum)
    elif default > maximum:
        problems.add(
            f"{path}.default_throughput_hours", f"is {default}; it cannot exceed max_throughput_hours ({maximum})"
        )
    budget = schema.number(problems, f"{path}.monthly_budget_usd", raw.get("monthly_budget_usd"), minimum=1)
    deny = schema.boolean(problems, f"{path}.deny_create_over_budget", raw.get("deny_create_over_budget"), False)
    if deny and budget is None:
        problems.add(
            f"{path}.deny_create_over_budget",
            "needs monthly_budget_usd: the deny policy is attached when that budget is spent",
        )
    scope = schema.string(
        problems, f"{path}.budget_scope", raw.get("budget_scope", "environment"), choices=BUDGET_SCOPES
    )
    if deny and scope == "account":
        problems.add(
            f"{path}.deny_create_over_budget",
            "needs budget_scope: environment; a budget on the whole account's Bedrock spend would let another "
            "team's inference block this environment's jobs and serving",
        )
    return Policy(
        max_throughput_hours=maximum,
        default_throughput_hours=default,
        allow_commitment=schema.boolean(problems, f"{path}.allow_commitment", raw.get("allow_commitment"), False),
        unmanaged_throughput=schema.string(
            problems,
            f"{path}.unmanaged_throughput",
            raw.get("unmanaged_throughput", "report"),
            choices=UNMANAGED_ACTIONS,
        )
        or "report",
        warn_before_minutes=schema.integer(
            problems, f"{path}.warn_before_minutes", raw.get("warn_before_minutes", 30), minimum=0, maximum=24 * 60
        )
        or 0,
        monthly_budget_usd=budget,
        deny_create_over_budget=deny,
        dry_run=schema.boolean(problems, f"{path}.dry_run", raw.get("dry_run"), False),
        budget_scope=scope or "environment",
        idle_minutes=schema.integer(
            problems, f"{path}.idle_minutes", raw.get("idle_minutes"), minimum=IDLE_MIN_MINUTES, maximum=24 * 60
        ),
        max_concurrent_jobs=schema.integer(
            problems,
            f"{path}.max_concurrent_jobs",
            raw.get("max_concurrent_jobs", DEFAULT_MAX_CONCURRENT_JOBS),
            minimum=1,
            maximum=MAX_CONCURRENT_JOBS,
        )
        or DEFAULT_MAX_CONCURRENT_JOBS,
    )
