"""A job's `sweep` block: a declared hyperparameter search, every trial checked against the catalog at synth.

Two searches, never both in one block:
  grid     hyperparameter names with lists of values: every combination is a trial, the first name varying slowest
  random   `random: {count, seed, <name>: {min, max, log} | [values]}`: `count` draws within the ranges (each
           inside the catalog's), from a seeded generator, so the same block always gives the same trials and
           raising `count` keeps the trials drawn before
An optional `evaluate` block ranks the best trials by a Bedrock model evaluation job instead of their losses
and gates serving on its score (tailor/jobs/evaluation.py runs it).

Facts used here (botocore 1.44.8 bedrock model, CreateEvaluationJob; docs pages cited where they are used):
task types and metric-name counts are the model's; which metric is better high or low is in METRICS.
"""

from __future__ import annotations

import itertools
import math
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from tailor.config import schema
from tailor.config.models import Customization, Hyperparameter, Model
from tailor.config.policy import MIN_HOURS, Policy
from tailor.config.sources import DataSource, parse_data
from tailor.errors import Problems, show

MAX_TRIALS = 20  # a sweep is bounded by the concurrent-jobs quota: 20 trials at 2 at a time is ten rounds of training
MIN_TRIALS = 2
MAX_RANDOM_ATTEMPTS_PER_TRIAL = 50  # draws before a random search gives up finding `count` distinct trials
SIGNIFICANT_DIGITS = 3  # random floats are rounded so trial names, plans and records stay readable
CONTROL_KEYS = ("random", "evaluate")
RANDOM_KEYS = ("count", "seed")
RANGE_KEYS = ("min", "max", "log")
EVALUATE_KEYS = ("dataset", "task_type", "metrics", "metric", "judge_model", "top", "gate", "hours", "model_units")
GATE_KEYS = ("min_score", "max_score", "better_than_base")
# EvaluationDatasetMetricConfig.taskType in the botocore model.
TASK_TYPES = ("Summarization", "Classification", "QuestionAndAnswer", "Generation", "Custom")
# metric -> True when a higher score is better. Automatic metrics [docs:model-evaluation-tasks and
# model-evaluation-report-programmatic]: Accuracy (RWK score, BERTScore, NLP-F1, accuracy: higher is better),
# Robustness (word error rate or a delta: "a lower semantic robustness ... performs well"), Toxicity (lower).
# Judge metrics [docs:model-evaluation-metrics]: the quality metrics are read as higher-is-better and Harmfulness,
# Stereotyping and Refusal as lower-is-better from their descriptions: UNCONFIRMED (no scale is documented there).
AUTOMATIC_METRICS = {"Builtin.Accuracy": True, "Builtin.Robustness": False, "Builtin.Toxicity": False}
JUDGE_METRICS = {
    "Builtin.Correctness": True,
    "Builtin.Completeness": True,
    "Builtin.Faithfulness": True,
    "Builtin.Helpfulness": True,
    "Builtin.Coherence": True,
    "Builtin.Relevance": True,
    "Builtin.FollowingInstructions": True,
    "Builtin.ProfessionalStyleAndTone": True,
    "Builtin.Harmfulness": False,
    "Builtin.Stereotyping": False,
    "Builtin.Refusal": False,
}
METRICS = {**AUTOMATIC_METRICS, **JUDGE_METRICS}
MAX_METRICS = 25  # EvaluationMetricNames in the botocore model
# Each evaluated trial needs a Provisioned Throughput of its own (an account has 2 without commitment by default,
# UNCONFIRMED) and its scores are kept in the sweep's record (an SSM parameter: at most 8 KB).
MAX_TOP = 5
# EvaluatorModelIdentifier (a foundation model id or ARN, or an inference profile), simplified from botocore's
# pattern; the id must also be one Bedrock offers as a judge in the Region: UNCONFIRMED per model.
JUDGE_MODEL = r"([a-z]{2,8}\.)?[a-z0-9-]{1,63}\.[a-z0-9-]{1,63}([.:]?[a-z0-9-]{1,63})*"
# EvaluationBedrockModelIdentifier accepts foundation-model ids like this (not the `:128k` contextual ids).
ON_DEMAND_MODEL_ID = r"[a-z0-9-]{1,63}[.][a-z0-9-]{1,63}([.:]?[a-z0-9-]{1,63})"


@dataclass(frozen=True)
class Gate:
    """What the winner must achieve to be served: a minimum score, or a better score than its base model."""

    min_score: float | None = None  # for a metric where higher is better
    max_score: float | None = None  # for a metric where lower is better
    better_than_base: bool = False

    @property
    def text(self) -> str:
        if self.min_score is not None:
            return f"score at least {self.min_score:g}"
        if self.max_score is not None:
            return f"score at most {self.max_score:g}"
        return "better than the base model" if self.better_than_base else "none"

    @property
    def is_set(self) -> bool:
        return self.min_score is not None or self.max_score is not None or self.better_than_base


@dataclass(frozen=True)
class Evaluation:
    """An evaluation of the best trials by loss: Bedrock's CreateEvaluationJob on a prompt dataset.

    A custom model is evaluated through a short-lived Provisioned Throughput: the evaluation API's
    EvaluationBedrockModelIdentifier pattern (botocore 1.44.8) accepts provisioned-model ARNs but neither
    custom-model nor custom-model-deployment ARNs, so an on-demand deployment cannot be evaluated directly.
    """

    dataset: DataSource
    task_type: str
    metrics: tuple[str, ...]
    metric: str  # the one the winner is chosen by and the gate reads
    judge_model: str | None
    top: int
    gate: Gate
    hours: float
    model_units: int = 1

    @property
    def higher_is_better(self) -> bool:
        return METRICS[self.metric]

    @property
    def identity(self) -> dict[str, Any]:
        """What changes the decision (not the hours or units a throughput lives or has)."""
        return {
            "dataset": self.dataset.identity,
            "taskType": self.task_type,
            "metrics": list(self.metrics),
            "metric": self.metric,
            "judge": self.judge_model,
            "top": self.top,
            "gate": [self.gate.min_score, self.gate.max_score, self.gate.better_than_base],
        }


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
        evaluation = _evaluation(
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


def _evaluation(
    problems: Problems,
    path: str,
    raw: Any,
    *,
    model: Model,
    policy: Policy,
    base_dir: Path,
    trials: int,
    require_files: bool = True,
) -> Evaluation | None:
    before = len(problems)
    block = schema.mapping(
        problems, path, raw, required=("dataset", "task_type", "metrics"), optional=EVALUATE_KEYS[3:]
    )
    dataset = parse_data(problems, f"{path}.dataset", block.get("dataset"), base_dir, require_files=require_files)
    task = schema.string(problems, f"{path}.task_type", block.get("task_type"), choices=TASK_TYPES)
    metrics = schema.string_list(problems, f"{path}.metrics", block.get("metrics"), choices=tuple(METRICS))
    if isinstance(block.get("metrics"), list) and not 1 <= len(block["metrics"]) <= MAX_METRICS:
        problems.add(f"{path}.metrics", f"has {len(block['metrics'])} entries; allowed: 1 to {MAX_METRICS}")
    judge = schema.string(
        problems,
        f"{path}.judge_model",
        block.get("judge_model"),
        pattern=JUDGE_MODEL,
        allowed_text="a foundation model id or inference profile id such as amazon.nova-pro-v1:0",
    )
    judged = [m for m in metrics if m in JUDGE_METRICS]
    automatic = [m for m in metrics if m in AUTOMATIC_METRICS]
    if judged and automatic:
        problems.add(
            f"{path}.metrics",
            (
                f"mixes automatic metrics ({', '.join(automatic)}) with judge metrics ({', '.join(judged)}); one "
                "evaluation uses one kind: automatic ones alone, or judge ones with judge_model"
            ),
        )
    elif judged and judge is None and "judge_model" not in block:
        problems.add(
            f"{path}.judge_model", f"is required for the judge metrics {', '.join(judged)}: the model that scores them"
        )
    elif automatic and block.get("judge_model") is not None:
        problems.add(
            f"{path}.judge_model", f"is only for judge metrics; {', '.join(automatic)} are computed, not judged"
        )
    metric = schema.string(
        problems, f"{path}.metric", block.get("metric", metrics[0] if metrics else None), choices=metrics or None
    )
    top = schema.integer(
        problems, f"{path}.top", block.get("top", min(2, trials)), minimum=1, maximum=min(trials, MAX_TOP)
    )
    gate = _gate(problems, f"{path}.gate", block.get("gate"), model, METRICS.get(metric or "", True))
    hours = schema.number(
        problems,
        f"{path}.hours",
        block.get("hours", policy.default_throughput_hours),
        minimum=MIN_HOURS,
        maximum=policy.max_throughput_hours,
    )
    units = schema.integer(problems, f"{path}.model_units", block.get("model_units", 1), minimum=1)
    if not model.provisioned_throughput:
        problems.add(
            path,
            (
                f"needs Provisioned Throughput for custom {model.model_id} models, which the catalog says they cannot "
                "have: Bedrock's evaluation jobs take a provisioned-model ARN for a custom model (not the model or "
                "an on-demand deployment)"
            ),
        )
    if len(problems) > before or dataset is None or task is None or metric is None or None in (top, gate, hours, units):
        return None
    assert top is not None and gate is not None and hours is not None and units is not None
    return Evaluation(dataset, task, metrics, metric, judge, top, gate, float(hours), units)


def _gate(problems: Problems, path: str, raw: Any, model: Model, higher: bool) -> Gate | None:
    if raw is None:
        return Gate()
    block = schema.mapping(problems, path, raw, optional=GATE_KEYS)
    if not isinstance(raw, dict):
        return None
    if len(block) != 1:
        problems.add(path, "needs exactly one of min_score: <number>, max_score: <number> or better_than_base: true")
        return None
    minimum = schema.number(problems, f"{path}.min_score", block.get("min_score"))
    maximum = schema.number(problems, f"{path}.max_score", block.get("max_score"))
    better = schema.boolean(problems, f"{path}.better_than_base", block.get("better_than_base"), False)
    if "min_score" in block and not higher:
        problems.add(
            f"{path}.min_score", "is for a metric where higher is better; this metric is better low: use max_score"
        )
        return None
    if "max_score" in block and higher:
        problems.add(
            f"{path}.max_score", "is for a metric where lower is better; this metric is better high: use min_score"
        )
        return None
    if "better_than_base" in block and not better:
        problems.add(f"{path}.better_than_base", "is false; remove the gate for no gate, or set min_score")
        return None
    if better and not re.fullmatch(ON_DEMAND_MODEL_ID, model.foundation_model_id):
        problems.add(
            f"{path}.better_than_base",
            f"needs the base model {model.foundation_model_id} evaluated by its id, which the evaluation API refuses",
        )
        return None
    if ("min_score" in block and minimum is None) or ("max_score" in block and maximum is None):
        return None
    return Gate(min_score=minimum, max_score=maximum, better_than_base=better)
