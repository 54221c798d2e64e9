"""A job's `hyperparameters`: each value checked against the catalog's range for its model and customization
type, then merged over the catalog's defaults (which the plan lists as defaulted)."""

from __future__ import annotations

from typing import Any

from tailor.config import schema
from tailor.config.models import Customization
from tailor.errors import Problems


def parse_hyperparameters(
    problems: Problems, path: str, raw: Any, customization: Customization
) -> tuple[dict[str, Any], set[str]]:
    raw = schema.mapping(problems, path, raw, optional=tuple(customization.hyperparameters))
    values = {name: spec.default for name, spec in customization.hyperparameters.items() if spec.default is not None}
    user = set()
    for name, value in raw.items():
        spec = customization.hyperparameters.get(name)
        if spec is None:
            continue  # reported as an unknown key by schema.mapping, with the allowed names
        message = spec.check(value)
        if message:
            problems.add(f"{path}.{name}", message)
            continue
        values[name] = spec.normalise(value)
        user.add(name)
    return values, user
