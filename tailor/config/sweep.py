"""A job's `sweep` block: a declared hyperparameter search, every trial checked against the catalog at synth.

Two searches, never both in one block:
  grid     hyperparameter names with lists of values: every combination is a trial, the first name varying slowest
  random   `random: {count, seed, <name>: {min, max, log} | [values]}`: `count` draws within the ranges (each
           inside the catalog's), from a seeded generator, so the same block always gives the same trials and
           raising `count` keeps the trials drawn before
An optional `evaluate` block ranks the best trials by a Bedrock model evaluation job instead of their losses
and gates serving on its score (tailor/config/evaluation.py reads it, tailor/jobs/evaluation.py runs it).
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from tailor.config import schema
from tailor.config.evaluation import Evaluation, parse_evaluation
from tailor.config.models import Customization, Hyperparameter, Model
from tailor.config.policy import Policy
from tailor.errors import Problems, show

MAX_TRIALS = 20  # a sweep is bounded by the concurrent-jobs quota: 20 trials at 2 at a time is ten rounds of training
MIN_TRIALS = 2
MAX_RANDOM_ATTEMPTS_PER_TRIAL = 50  # draws before a random search gives up finding `count` distinct trials
SIGNIFICANT_DIGITS = 3  # random floats are rounded so trial names, plans and records stay readable
CONTROL_KEYS = ("random", "evaluate")
RANDOM_KEYS = ("count", "seed")
RANGE_KEYS = ("min", "max", "log")


@dataclass(frozen=True)
class Sweep:
    search: str  # grid | random
    axes: tuple[str, ...]  # the swept hyperparameter names, as written
    trials: tuple[Mapping[str, Any], ...]  # each trial's values of the axes, in order
    seed: int | None = None
    evaluation: Evaluation | None = None

    @property
    def selection_text(self) -> str:
        if self.evaluation is None:
            return "lowest validation loss (training loss where a model reports none)"
        e = self.evaluation
        best = "highest" if e.higher_is_better else "lowest"
        return f"{best} {e.metric} of the {e.top} best by loss; gate: {e.gate.text}"


def parse_sweep(
    problems: Problems,
    path: str,
    raw: Any,
    *,
    customization: Customization,
    fixed: Mapping[str, Any],
    model: Model,
    policy: Policy,
    base_dir: Path,
    require_files: bool = True,
) -> Sweep | None:
    """`fixed`: the hyperparameters the job sets itself (a swept one may not be set there too)."""
    before = len(problems)
    names = tuple(customization.hyperparameters)
    block = schema.mapping(problems, path, raw, optional=names + CONTROL_KEYS)
    grid = {k: v for k, v in block.items() if k in customization.hyperparameters}
    for name in grid:
        if name in fixed:
            problems.add(
                f"{path}.{name}",
                (
                    f"is also set in hyperparameters ({show(fixed[name])}); a swept hyperparameter takes its values "
                    "from the sweep only: remove it from hyperparameters"
                ),
            )
    if grid and "random" in block:
        problems.add(
            path,
            "use either a grid (hyperparameter names with lists of values) or random: {...}, not both",
        )
        return None
    if not grid and "random" not in block:
        if len(problems) == before:
            problems.add(
                path,
                (
                    "names no hyperparameter to sweep; write a grid ({learningRate: [0.00001, 0.00003]}) or "
                    f"random: {{count: 6, seed: 7, learningRate: {{min: ..., max: ..., log: true}}}}; "
                    f"sweepable here: {', '.join(names) or '(none)'}"
                ),
            )
        return None
    if grid:
        search, seed = "grid", None
        axes, trials = _grid(problems, path, grid, customization)
    else:
        search = "random"
        axes, trials, seed = _random(problems, f"{path}.random", block["random"], customization, fixed)
    if len(problems) > before:
        return None
    if len(trials) > MAX_TRIALS:
        problems.add(
            path,
            (
                f"makes {len(trials)} trials; at most {MAX_TRIALS} are allowed (each is a customization job, "
                "run a few at a time within the account's quota): use fewer values or a random search"
            ),
        )
        return None
    if len(trials) < MIN_TRIALS:
        problems.add(
            path, f"makes {len(trials)} trial; a sweep needs at least {MIN_TRIALS} (for one, use hyperparameters)"
        )
        return None
    evaluation = None
    if block.get("evaluate") is not None:
        evaluation = parse_evaluation(
            problems,
            f"{path}.evaluate",
            block["evaluate"],
            model=model,
            policy=policy,
            base_dir=base_dir,
            trials=len(trials),
            require_files=require_files,
        )
        if evaluation is None:
            return None
    return Sweep(search, axes, tuple(MappingProxyType(t) for t in trials), seed, evaluation)


def _grid(
    problems: Problems, path: str, grid: dict[str, Any], customization: Customization
) -> tuple[tuple[str, ...], list[dict[str, Any]]]:
    values: dict[str, list[Any]] = {}
    for name, raw in grid.items():
        spec = customization.hyperparameters[name]
        checked = _values(problems, f"{path}.{name}", raw, spec)
        if checked is not None:
            values[name] = checked
    if len(values) != len(grid):
        return (), []
    axes = tuple(values)
    return axes, [dict(zip(axes, combo, strict=True)) for combo in itertools.product(*values.values())]


def _values(problems: Problems, path: str, raw: Any, spec: Hyperparameter) -> list[Any] | None:
    if not isinstance(raw, list) or not raw:
        problems.add(
            path, f"must be a non-empty list of values to try, got {show(raw)}; allowed values: {spec.allowed_text()}"
        )
        return None
    out: list[Any] = []
    for index, value in enumerate(raw):
        message = spec.check(value)
        if message:
            problems.add(f"{path}[{index}]", message)
            continue
        normal = spec.normalise(value)
        if normal in out:
            problems.add(f"{path}[{index}]", f"{show(value)} is listed twice; each value is one trial axis point")
            continue
        out.append(normal)
    return out if len(out) == len(raw) else None


@dataclass(frozen=True)
class _Draw:
    """How one axis of a random search draws a value."""

    spec: Hyperparameter
    low: float = 0.0
    high: float = 0.0
    log: bool = False
    choices: tuple[Any, ...] = ()

    def __call__(self, rng: random.Random) -> Any:
        if self.choices:
            return self.choices[rng.randrange(len(self.choices))]
        if self.log:
            value = math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        else:
            value = rng.uniform(self.low, self.high)
        if self.spec.type == "int":
            return min(max(round(value), math.ceil(self.low)), math.floor(self.high))
        rounded = float(f"{value:.{SIGNIFICANT_DIGITS}g}")
        return min(max(rounded, self.low), self.high)  # rounding may step just outside the range


def _random(
    problems: Problems, path: str, raw: Any, customization: Customization, fixed: Mapping[str, Any]
) -> tuple[tuple[str, ...], list[dict[str, Any]], int | None]:
    names = tuple(customization.hyperparameters)
    block = schema.mapping(problems, path, raw, required=("count",), optional=RANDOM_KEYS[1:] + names)
    count = schema.integer(problems, f"{path}.count", block.get("count"), minimum=MIN_TRIALS, maximum=MAX_TRIALS)
    seed = schema.integer(problems, f"{path}.seed", block.get("seed", 0), minimum=0)
    draws: dict[str, _Draw] = {}
    for name, axis in block.items():
        if name in RANDOM_KEYS or name not in customization.hyperparameters:
            continue
        if name in fixed:
            problems.add(
                f"{path}.{name}",
                (
                    f"is also set in hyperparameters ({show(fixed[name])}); a swept hyperparameter takes its values "
                    "from the sweep only: remove it from hyperparameters"
                ),
            )
            continue
        draw = _axis(problems, f"{path}.{name}", axis, customization.hyperparameters[name])
        if draw is not None:
            draws[name] = draw
    if not draws and not [k for k in block if k in names]:
        problems.add(path, f"names no hyperparameter to draw; sweepable here: {', '.join(names) or '(none)'}")
    if count is None or seed is None or len(draws) != len([k for k in block if k in names]):
        return (), [], seed
    rng = random.Random(seed)  # Python's Mersenne Twister: the same seed draws the same values on every platform
    trials: list[dict[str, Any]] = []
    for _ in range(count * MAX_RANDOM_ATTEMPTS_PER_TRIAL):
        trial = {name: draw(rng) for name, draw in draws.items()}
        if trial not in trials:
            trials.append(trial)
            if len(trials) == count:
                break
    if len(trials) < count:
        problems.add(
            f"{path}.count",
            (
                f"is {count}, but only {len(trials)} distinct trials could be drawn within these ranges; "
                "lower count or widen the ranges"
            ),
        )
        return (), [], seed
    return tuple(draws), trials, seed


def _axis(problems: Problems, path: str, raw: Any, spec: Hyperparameter) -> _Draw | None:
    if isinstance(raw, list):
        values = _values(problems, path, raw, spec)
        return None if values is None else _Draw(spec, choices=tuple(values))
    if spec.type == "enum":
        problems.add(path, f"must be a list of choices to draw from; allowed values: {spec.allowed_text()}")
        return None
    block = schema.mapping(problems, path, raw, optional=RANGE_KEYS)
    if not isinstance(raw, dict):
        return None
    bounds: dict[str, float] = {}
    for key, value in (("min", block.get("min", spec.minimum)), ("max", block.get("max", spec.maximum))):
        message = spec.check(value)
        if message or value is None:
            problems.add(f"{path}.{key}", f"{message} (the catalog's range for {spec.name})")
            return None
        bounds[key] = float(value)
    low, high = bounds["min"], bounds["max"]
    log = schema.boolean(problems, f"{path}.log", block.get("log"), False)
    if low > high:
        problems.add(path, f"min {show(low)} is above max {show(high)}")
        return None
    if log and low <= 0:
        problems.add(f"{path}.log", f"needs min above 0 (a log scale has no zero); min is {show(low)}")
        return None
    return _Draw(spec, low, high, log)
