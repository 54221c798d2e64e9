"""A sweep's `evaluate` block: which metric ranks the best trials, on which prompt dataset, and the gate the
winner must pass to be served, checked at synth against what Bedrock's evaluation jobs accept.

Facts used here (botocore 1.44.8 bedrock model, CreateEvaluationJob; docs pages cited where they are used):
task types and metric-name counts are the model's; which metric is better high or low is in METRICS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tailor.config import schema
from tailor.config.models import Model
from tailor.config.policy import MIN_HOURS, Policy
from tailor.config.sources import DataSource, parse_data
from tailor.errors import Problems

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


def parse_evaluation(
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
