"""The catalog's vocabulary: models, their customizations, hyperparameters, prices and teachers (frozen)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tailor.datasets.rules import DatasetRules
from tailor.errors import show

CUSTOMIZATION_TYPES = ("fine_tuning", "continued_pre_training", "distillation", "reinforcement_fine_tuning")


API_CUSTOMIZATION_TYPE = {
    "fine_tuning": "FINE_TUNING",
    "continued_pre_training": "CONTINUED_PRE_TRAINING",
    "distillation": "DISTILLATION",
    "reinforcement_fine_tuning": "REINFORCEMENT_FINE_TUNING",
}


@dataclass(frozen=True)
class Hyperparameter:
    name: str
    type: str
    minimum: float | None = None
    maximum: float | None = None
    default: Any = None
    choices: tuple[str, ...] = ()

    def allowed_text(self) -> str:
        if self.type == "enum":
            return "one of " + ", ".join(self.choices)
        kind = "a whole number" if self.type == "int" else "a number"
        return f"{kind} from {_num(self.minimum)} to {_num(self.maximum)}"

    def check(self, value: Any) -> str | None:
        """None when `value` is acceptable, else what is wrong, naming what is allowed."""
        if self.type == "enum":
            ok = isinstance(value, str) and value in self.choices
        elif (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or self.type == "int"
            and not (isinstance(value, int) or (isinstance(value, float) and value.is_integer()))
        ):
            ok = False
        else:
            low = -math.inf if self.minimum is None else self.minimum
            high = math.inf if self.maximum is None else self.maximum
            ok = math.isfinite(value) and low <= value <= high
        return None if ok else f"is {show(value)}; allowed: {self.allowed_text()}"

    def normalise(self, value: Any) -> Any:
        return int(value) if self.type == "int" else (float(value) if self.type == "float" else value)


@dataclass(frozen=True)
class Price:
    usd: float
    unit: str
    source: str
    as_of: str
    confirmed: bool


@dataclass(frozen=True)
class Customization:
    type: str
    regions: tuple[str, ...]
    hyperparameter_style: str
    hyperparameters: Mapping[str, Hyperparameter]
    training_rules: DatasetRules
    validation_rules: DatasetRules | None  # None: the model takes no validation set

    @property
    def api_type(self) -> str:
        return API_CUSTOMIZATION_TYPE[self.type]


@dataclass(frozen=True)
class Model:
    model_id: str
    name: str
    provider: str
    foundation_model_id: str
    status: str
    on_demand_regions: tuple[str, ...]
    provisioned_throughput: bool
    prices: Mapping[str, Price]
    customizations: Mapping[str, Customization]


@dataclass(frozen=True)
class InferenceProfile:
    profile_id: str
    regions: tuple[str, ...]


@dataclass(frozen=True)
class Teacher:
    model_id: str
    students: tuple[str, ...]
    regions: tuple[str, ...]
    invocation: tuple[str, ...]
    inference_profiles: Mapping[str, InferenceProfile]


@dataclass(frozen=True)
class Catalog:
    source: str
    models: Mapping[str, Model]
    teachers: Mapping[str, Teacher]
    regions: tuple[str, ...] = field(default=())

    def teachers_for(self, student: str, region: str) -> tuple[str, ...]:
        return tuple(t.model_id for t in self.teachers.values() if student in t.students and region in t.regions)


def _num(value: float | None) -> str:
    if value is None:
        return "?"
    return str(int(value)) if float(value).is_integer() and abs(value) >= 1 else f"{value:g}"
