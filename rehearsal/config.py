"""The rehearsal's copy of an environment's config: the user's file, changed only where the emulator needs it.

Every change is listed in the rehearsal's output, with its reason. Everything else (jobs, their data,
hyperparameters, serving, policy) is the user's own and goes through the same validation as `make synth`.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tailor.config.serving import CUSTOM_MODEL_ARN

ACCOUNT = "111122223333"  # ministack's account is the access key when it is 12 digits
RECONCILE_EVERY_MINUTES = 1  # a lost schedule must be recovered within the rehearsal


@dataclass(frozen=True)
class Change:
    path: str
    what: str
    why: str


@dataclass(frozen=True)
class RehearsalConfig:
    raw: dict[str, Any]
    changes: tuple[Change, ...]

    def write(self, directory: Path, environment: str) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{environment}.yaml"
        header = f"# Written by the rehearsal from config/{environment}.yaml; changes:\n"
        header += "".join(f"#   {c.path}: {c.what} ({c.why})\n" for c in self.changes)
        path.write_text(header + yaml.safe_dump(self.raw, sort_keys=False))
        return path

    def custom_model_arns(self) -> dict[str, str]:
        """throughputs entry -> the custom model ARN it names (the harness seeds a model for each)."""
        entries = self.raw.get("throughputs") or {}
        return {k: v["model"] for k, v in entries.items() if str(v.get("model", "")).startswith("arn:")}


def rehearse(source: Path) -> RehearsalConfig:
    """The rehearsal's changes to the user's config file `source` (validated later, like any config)."""
    raw = yaml.safe_load(source.read_text())
    if not isinstance(raw, dict):
        raw = {}
    out = copy.deepcopy(raw)
    changes = [Change("account", f'"{ACCOUNT}"', "the emulator's account")]
    out["account"] = ACCOUNT
    if out.get("reconcile_every_minutes") != RECONCILE_EVERY_MINUTES:
        out["reconcile_every_minutes"] = RECONCILE_EVERY_MINUTES
        changes.append(Change("reconcile_every_minutes", "1", "so the reconciler's backstop is seen within the run"))
    policy = out.get("policy") or {}
    for key in ("monthly_budget_usd", "deny_create_over_budget", "budget_scope"):
        if key in policy:
            policy.pop(key)
            changes.append(
                Change(
                    f"policy.{key}", "removed", "the emulator has no AWS::Budgets::Budget: the budget is not rehearsed"
                )
            )
    if policy:
        out["policy"] = policy
    return RehearsalConfig(out, tuple(changes))


def with_models(config: RehearsalConfig, models: dict[str, str]) -> RehearsalConfig:
    """throughputs entries pointed at the custom models the local Bedrock holds for them (key -> ARN)."""
    out = copy.deepcopy(config.raw)
    changes = list(config.changes)
    for key, arn in models.items():
        entry = out["throughputs"][key]
        old = entry["model"]
        match = re.fullmatch(CUSTOM_MODEL_ARN, old)
        if match and match["base"] and "base_model" not in entry:
            entry["base_model"] = match["base"]
        entry["model"] = arn
        changes.append(Change(f"throughputs.{key}.model", arn, f"a model the local Bedrock holds, in place of {old}"))
    return RehearsalConfig(out, tuple(changes))


def with_hyperparameter(config: RehearsalConfig, job: str, name: str, value: Any) -> RehearsalConfig:
    out = copy.deepcopy(config.raw)
    out["jobs"][job].setdefault("hyperparameters", {})[name] = value
    return RehearsalConfig(out, config.changes)
