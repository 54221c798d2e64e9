"""Small helpers to check user-written mappings: each check records a Problem and returns a safe value."""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from tailor.errors import Problems, show

Missing = object()


def join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def mapping(
    problems: Problems, path: str, value: Any, *, required: Iterable[str] = (), optional: Iterable[str] = ()
) -> dict[str, Any]:
    """Checks `value` is a mapping with string keys, has every required key and no unknown key."""
    if value is None:
        value = {}
    if not isinstance(value, dict):
        problems.add(path, f"must be a mapping, got {type(value).__name__} {show(value)}")
        return {}
    required, optional = tuple(required), tuple(optional)
    allowed = required + optional
    for key in value:
        if key not in allowed:
            guess = did_you_mean(key, allowed)
            hint = f"did you mean {guess}? " if guess else ""
            problems.add(join(path, key), f"unknown key; {hint}allowed here: {', '.join(allowed) or '(none)'}")
    for key in required:
        if key not in value:
            problems.add(join(path, key), "is required")
    return value


def did_you_mean(word: object, allowed: Iterable[str]) -> str | None:
    """The allowed name the user most likely meant: same letters ignoring case and separators, else the closest."""
    if not isinstance(word, str) or not word:
        return None
    allowed = tuple(allowed)
    folded = {_fold(name): name for name in allowed}
    target = _fold(word)
    if target in folded:
        return folded[target]
    # A truncated name ("env" for environment) is closer in meaning than in spelling.
    starts = [name for fold, name in folded.items() if len(target) >= 3 and fold.startswith(target)]
    if len(starts) == 1:
        return starts[0]
    close = difflib.get_close_matches(target, list(folded), n=1, cutoff=0.6)
    return folded[close[0]] if close else None


def _fold(name: str) -> str:
    return re.sub(r"[-_\s]", "", name.lower())


def entries(problems: Problems, path: str, value: Any) -> dict[Any, Any]:
    """A mapping whose keys are names the user chooses (model ids, job keys): only its type is checked."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.add(path, f"must be a mapping, got {type(value).__name__} {show(value)}")
        return {}
    return value


def string(
    problems: Problems,
    path: str,
    value: Any,
    *,
    pattern: str | None = None,
    allowed_text: str = "",
    max_len: int | None = None,
    choices: Iterable[str] | None = None,
) -> str | None:
    if value is Missing or value is None:
        return None
    if not isinstance(value, str):
        problems.add(path, f"must be a string, got {type(value).__name__} {show(value)}")
        return None
    if choices is not None:
        choices = tuple(choices)
        if value not in choices:
            problems.add(path, f"is {show(value)}; allowed: {', '.join(choices)}")
            return None
    if max_len is not None and len(value) > max_len:
        problems.add(path, f"is {len(value)} characters; at most {max_len} allowed")
        return None
    if pattern is not None and not re.fullmatch(pattern, value):
        problems.add(path, f"is {show(value)}; allowed: {allowed_text or 'pattern ' + pattern}")
        return None
    return value


def boolean(problems: Problems, path: str, value: Any, default: bool) -> bool:
    if value is Missing or value is None:
        return default
    if not isinstance(value, bool):
        problems.add(path, f"must be true or false, got {show(value)}")
        return default
    return value


def integer(
    problems: Problems, path: str, value: Any, *, minimum: int | None = None, maximum: int | None = None
) -> int | None:
    if value is Missing or value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        problems.add(path, f"must be a whole number, got {show(value)}")
        return None
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        problems.add(path, f"is {value}; allowed: {_range_text(minimum, maximum)}")
        return None
    return value


def number(
    problems: Problems, path: str, value: Any, *, minimum: float | None = None, maximum: float | None = None
) -> float | None:
    if value is Missing or value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        problems.add(path, f"must be a number, got {show(value)}")
        return None
    if isinstance(value, float) and not math.isfinite(value):
        # YAML's .nan and .inf: NaN compares false with every bound, so it would slip past any range.
        problems.add(
            path,
            f"is {value}; allowed: a finite number, {_range_text(minimum, maximum)}"
            if (minimum, maximum) != (None, None)
            else f"is {value}; allowed: a finite number",
        )
        return None
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        problems.add(path, f"is {show(value)}; allowed: {_range_text(minimum, maximum)}")
        return None
    return value


def string_list(problems: Problems, path: str, value: Any, **string_checks: Any) -> tuple[str, ...]:
    if value is Missing or value is None:
        return ()
    if not isinstance(value, list):
        problems.add(path, f"must be a list, got {type(value).__name__} {show(value)}")
        return ()
    out = []
    for index, item in enumerate(value):
        checked = string(problems, f"{path}[{index}]", item, **string_checks)
        if checked is not None:
            out.append(checked)
    return tuple(out)


def _range_text(minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f"{minimum} to {maximum}"
    if minimum is not None:
        return f"at least {minimum}"
    return f"at most {maximum}"


TAG_TEXT = r"[a-zA-Z0-9\s._:/=+@-]*"


def tags(problems: Problems, path: str, raw: Any) -> Mapping[str, str]:
    if raw is None:
        return MappingProxyType({})
    if not isinstance(raw, dict):
        problems.add(path, f"must be a mapping of tag key to value, got {type(raw).__name__}")
        return MappingProxyType({})
    out = {}
    for key, value in raw.items():
        if (
            not isinstance(key, str)
            or not 1 <= len(key) <= 128
            or not re.fullmatch(TAG_TEXT, key)
            or key.startswith("aws:")
        ):
            problems.add(
                f"{path}.{key}",
                (
                    "tag keys are 1-128 characters of letters, digits, spaces and . _ : / = + @ - "
                    "and may not start with aws:"
                ),
            )
        elif (
            not isinstance(value, (str, int, float))
            or isinstance(value, bool)
            or len(str(value)) > 256
            or not re.fullmatch(TAG_TEXT, str(value))
        ):
            problems.add(
                f"{path}.{key}",
                (
                    f"value {show(value)}: tag values are up to 256 characters of letters, digits, "
                    "spaces and . _ : / = + @ -"
                ),
            )
        else:
            out[key] = str(value)
    if len(out) > 40:
        problems.add(path, f"has {len(out)} tags; at most 40 here (Tailor adds its own and Bedrock allows 200)")
    return MappingProxyType(out)


def plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value
