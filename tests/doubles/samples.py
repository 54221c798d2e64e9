"""Sample parameters for any operation of botocore's bedrock model, built from its shapes (routing and parsing tests).

``sample_params(operation, full=False)``: the required members only (enough for botocore's ParamValidator), or
with ``full=True`` every member reachable within a few levels, so a serialise-then-parse round trip covers each
location and type the model uses.  Values respect ``min``/``max``/``enum``; path labels carry ``:``, ``/`` and a
space, the characters botocore must percent-encode.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from botocore.model import OperationModel, Shape

LABEL_VALUE = "arn:aws:bedrock:us-east-1:111122223333:sample/a b"
TIMESTAMP = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)  # whole seconds: iso8601 round-trips exactly


def sample_params(operation: OperationModel, *, full: bool = False) -> dict[str, Any]:
    shape = operation.input_shape
    if shape is None:
        return {}
    return _structure(shape, full=full, depth=0, top=True)


def _structure(shape: Shape, *, full: bool, depth: int, top: bool = False) -> dict[str, Any]:
    members = shape.members
    if shape.metadata.get("union") or getattr(shape, "is_union", False):
        name = next(iter(members))
        return {name: _value(members[name], full=full, depth=depth + 1)}
    required = set(shape.required_members)
    out: dict[str, Any] = {}
    for name, member in members.items():
        if name not in required and not (full and depth < 3):
            continue
        if name not in required and member.type_name == "structure" and depth >= 2:
            continue
        value = _value(member, full=full, depth=depth + 1, label=top and member.serialization.get("location") == "uri")
        out[name] = value
    return out


def _bounded_string(shape: Shape, base: str) -> str:
    low = shape.metadata.get("min", 0) or 0
    high = shape.metadata.get("max")
    text = base
    while len(text) < low:
        text += "x"
    if high is not None:
        text = text[:high]
    return text


def _value(shape: Shape, *, full: bool, depth: int, label: bool = False) -> Any:
    t = shape.type_name
    if getattr(shape, "is_document_type", False):
        return {"key": "value"}
    if t == "structure":
        return _structure(shape, full=full, depth=depth)
    if t == "list":
        count = max(1, shape.metadata.get("min", 0) or 0)
        return [_value(shape.member, full=full, depth=depth + 1) for _ in range(count)]
    if t == "map":
        return {"key": _value(shape.value, full=full, depth=depth + 1)}
    if t == "string":
        enum = shape.enum
        if enum:
            return enum[0]
        return _bounded_string(shape, LABEL_VALUE if label else "sample-value")
    if t in ("integer", "long"):
        low = shape.metadata.get("min")
        return int(low) if low is not None and low > 1 else 1
    if t in ("float", "double"):
        low = shape.metadata.get("min")
        return float(low) if low is not None and low > 0.5 else 0.5
    if t == "boolean":
        return True
    if t == "timestamp":
        return TIMESTAMP
    if t == "blob":
        return b"sample-bytes"
    raise AssertionError(f"no sample for shape type {t}")  # pragma: no cover
