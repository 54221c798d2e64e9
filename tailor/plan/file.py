"""Reading plan files back (`tailor plan --from-dir cdk.out`): every field the renderer, the budget check and
`--live` read is checked first, so a truncated, hand-edited or older file is one line and exit 2, never a
KeyError or TypeError traceback.

The shape below is what `tailor.plan.build.build_plan` writes; keys it does not list are allowed (a newer
Tailor may add some), keys it lists must be present with these types.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_BYTES = 16 << 20  # the example plans are about 10 KB; a plan of 40 jobs and servings stays under 100 KB


class PlanFileError(Exception):
    """A plan file that cannot be shown: the message names the file, the field and what to do."""


@dataclass(frozen=True)
class _Optional:
    inner: Any


@dataclass(frozen=True)
class _MayBeAbsent:
    """A key written only sometimes (`state`, added by --live): checked when it is there."""

    inner: Any


@dataclass(frozen=True)
class _List:
    item: Any


@dataclass(frozen=True)
class _Map:
    """A mapping with names the config chose (hyperparameters): string keys, scalar values."""


NUMBER = "number"
_SWEEP_TRIAL = {
    "index": int,
    "name": str,
    "hyperparameters": _Map(),
    "estimated_training_usd": _Optional(NUMBER),
    "training_price_confirmed": _Optional(bool),
    "storage_usd_per_month": _Optional(NUMBER),
    "storage_price_confirmed": _Optional(bool),
}
_SWEEP_EVALUATION = {
    "top": int,
    "model_units": int,
    "hours": NUMBER,
    "metric": str,
    "dataset": str,
    "gate": str,
    "worst_case_usd": _Optional(NUMBER),
    "price_confirmed": _Optional(bool),
}
_SWEEP = {
    "search": str,
    "axes": _List(str),
    "seed": _Optional(int),
    "trials": _List(_SWEEP_TRIAL),
    "selection": str,
    "evaluation": _Optional(_SWEEP_EVALUATION),
    "training_usd": _Optional(NUMBER),
    "storage_usd": NUMBER,
    "evaluation_usd": _Optional(NUMBER),
    "total_usd": _Optional(NUMBER),
    "total_confirmed": bool,
    "unpriced": _Optional(str),
    "max_concurrent_jobs": int,
    "rounds": int,
}
_JOB = {
    "key": str,
    "type": str,
    "base_model": str,
    "teacher_model": _Optional(str),
    "training_data": str,
    "training_records": _Optional(int),
    "estimated_training_usd": _Optional(NUMBER),
    "training_price_confirmed": _Optional(bool),
    "storage_usd_per_month": _Optional(NUMBER),
    "storage_price_confirmed": _Optional(bool),
    "hyperparameters": _Map(),
    "defaulted_hyperparameters": _List(str),
    "warnings": _List(str),
    "sweep": _MayBeAbsent(_SWEEP),  # written only for a job with a sweep block
}
_SERVING = {
    "path": str,
    "key": str,
    "name": str,
    "mode": str,
    "model": {"kind": str, "value": str},
    "base_model": str,
    "model_units": int,
    "hours": _Optional(NUMBER),
    "commitment": _Optional(str),
    "billed_hours": _Optional(NUMBER),
    "ends": str,
    "worst_case_usd": _Optional(NUMBER),
    "price_confirmed": _Optional(bool),
    "state": _MayBeAbsent(str),
}
PLAN_SHAPE = {
    "environment": str,
    "source": str,
    "account": _Optional(str),
    "region": str,
    "jobs": _List(_JOB),
    "servings": _List(_SERVING),
    "worst_case_items": _List({"item": str, "usd": NUMBER, "confirmed": bool}),
    "worst_case_month_usd": NUMBER,
    "worst_case_confirmed": bool,
    "budget_usd": _Optional(NUMBER),
    "budget_scope": _MayBeAbsent(str),
    "idle_minutes": _MayBeAbsent(_Optional(int)),
    "unpriced": _List(str),
}
_AGAIN = "run `make synth` again to rewrite it"


def read_plan_file(path: Path) -> dict[str, Any]:
    """The plan in `path`, checked field by field; PlanFileError naming the first problem otherwise."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise PlanFileError(f"{path}: is {size:,} bytes, not a plan file (at most {MAX_BYTES:,}); {_AGAIN}")
        plan = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        raise PlanFileError(f"{path}: not a plan file ({_brief(exc)}); {_AGAIN}") from None
    if isinstance(plan, dict) and not {"worst_case_month_usd", "servings"} & set(plan) and "environment" in plan:
        raise PlanFileError(f"{path.name} in {path.parent}: no cost figures (written by an older Tailor); {_AGAIN}")
    problem = check(plan, PLAN_SHAPE, "")
    if problem is None and isinstance(plan["budget_usd"], (int, float)) and not plan["budget_usd"] > 0:
        problem = f"budget_usd: is {plan['budget_usd']!r}; expected a number above 0 or null"
    if problem is not None:
        raise PlanFileError(f"{path}: not a plan file this Tailor can read ({problem}); {_AGAIN}")
    assert isinstance(plan, dict)
    return plan


def check(value: Any, shape: Any, where: str) -> str | None:
    """The first place `value` does not have `shape`, as `where: what`; None when it does."""
    if isinstance(shape, _Optional):
        return None if value is None else check(value, shape.inner, where)
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return f"{where or 'the file'}: is {_kind(value)}; expected an object"
        for key, inner in shape.items():
            if key not in value:
                if isinstance(inner, _MayBeAbsent):
                    continue
                return f"{_join(where, key)}: missing"
            if isinstance(inner, _MayBeAbsent):
                inner = inner.inner
            problem = check(value[key], inner, _join(where, key))
            if problem is not None:
                return problem
        return None
    if isinstance(shape, _List):
        if not isinstance(value, list):
            return f"{where}: is {_kind(value)}; expected a list"
        for index, item in enumerate(value):
            problem = check(item, shape.item, f"{where}[{index}]")
            if problem is not None:
                return problem
        return None
    if isinstance(shape, _Map):
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and (v is None or isinstance(v, (str, int, float))) for k, v in value.items()
        ):
            return f"{where}: is {_kind(value)}; expected an object of names to values"
        return None
    if shape == NUMBER:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return None if ok else f"{where}: is {_kind(value)}; expected a number"
    ok = isinstance(value, shape) and not (shape is int and isinstance(value, bool))
    return None if ok else f"{where}: is {_kind(value)}; expected {_NAMES[shape]}"


_NAMES = {str: "a string", int: "a whole number", bool: "true or false"}


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (dict, list)):
        return "an object" if isinstance(value, dict) else "a list"
    text = json.dumps(value) if isinstance(value, (str, int, float)) else type(value).__name__
    return text if len(text) <= 40 else text[:37] + "..."


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _brief(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return " ".join(str(exc).split())[:200]
