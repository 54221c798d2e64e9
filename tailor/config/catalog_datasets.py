"""The `dataset` block of a catalog customization: the rules the dataset validator applies, parsed and checked.

Common rules (format, token and media limits, flags, words) apply to both roles; each role adds its own record
and size bounds. Every mistake is one problem naming its path, with no follow-on.
"""

from __future__ import annotations

from typing import Any

from tailor.config import schema
from tailor.datasets.rules import FORMATS, SEVERITIES, DatasetRules
from tailor.errors import Problems

# Dataset rules shared by a customization's training and validation files, and how each value is checked.
_DATASET_COUNTS = ("max_tokens_per_record", "max_system_blocks", "max_total_records")
_DATASET_RATES = ("chars_per_token", "conservative_chars_per_token")
_DATASET_FLAGS = ("single_turn_only", "mixed_media", "reasoning", "schema_version_required", "blank_lines_are_errors")
_DATASET_WORDS = ("reserved_words", "discouraged_words")
_DATASET_MEDIA = {"images": "image", "videos": "video"}
_DATASET_COMMON = (
    ("format", "tool_use") + _DATASET_COUNTS + _DATASET_RATES + _DATASET_FLAGS + _DATASET_WORDS + tuple(_DATASET_MEDIA)
)
_DATASET_ROLE = ("min_records", "max_records", "recommended_min_records", "max_bytes")
_MEDIA_KEYS = ("formats", "max_per_message", "max_per_record", "tokens")


def parse_dataset(problems: Problems, path: str, entry: Any) -> tuple[DatasetRules | None, DatasetRules | None]:
    """Both roles' rules, or (None, None) after reporting: each mistake is one problem, with no follow-on."""
    before = len(problems)
    entry = schema.mapping(
        problems, path, entry, required=("format", "training", "validation"), optional=_DATASET_COMMON[1:]
    )
    common: dict[str, Any] = {"format": schema.string(problems, f"{path}.format", entry.get("format"), choices=FORMATS)}
    common["tool_use"] = schema.string(problems, f"{path}.tool_use", entry.get("tool_use"), choices=SEVERITIES)
    for key in _DATASET_COUNTS:
        common[key] = schema.integer(problems, f"{path}.{key}", entry.get(key), minimum=1)
    for key in _DATASET_RATES:
        common[key] = schema.number(problems, f"{path}.{key}", entry.get(key), minimum=0.5, maximum=100)
    for key in _DATASET_FLAGS:
        common[key] = schema.boolean(problems, f"{path}.{key}", entry.get(key), False)
    for key in _DATASET_WORDS:
        common[key] = schema.string_list(
            problems, f"{path}.{key}", entry.get(key), pattern=r"(?s).+", allowed_text="a non-empty word"
        )
    for key, kind in _DATASET_MEDIA.items():
        if entry.get(key) is not None:
            common[key] = _parse_media(problems, f"{path}.{key}", kind, entry[key])
    common = {key: value for key, value in common.items() if value is not None}
    roles = {}
    for role in ("training", "validation"):
        if role == "training" or entry.get(role) is not None:
            raw = schema.mapping(problems, f"{path}.{role}", entry.get(role), optional=_DATASET_ROLE)
            roles[role] = {
                key: value
                for key in _DATASET_ROLE
                if (value := schema.integer(problems, f"{path}.{role}.{key}", raw.get(key), minimum=0)) is not None
            }
    if len(problems) > before:
        return None, None
    training = _rules(problems, f"{path}.training", common, roles["training"])
    validation = _rules(problems, f"{path}.validation", common, roles["validation"]) if "validation" in roles else None
    return training, validation


def _parse_media(problems: Problems, path: str, kind: str, entry: Any) -> dict[str, Any]:
    entry = schema.mapping(problems, path, entry, required=("formats",), optional=_MEDIA_KEYS[1:])
    formats = schema.string_list(
        problems,
        f"{path}.formats",
        entry.get("formats"),
        pattern=r"[a-z0-9]+",
        allowed_text=f"a lower-case {kind} format such as png",
    )
    if entry.get("formats") == []:
        problems.add(f"{path}.formats", f"needs at least one {kind} format")
    media: dict[str, Any] = {"formats": formats}
    for key in _MEDIA_KEYS[1:]:
        value = schema.integer(problems, f"{path}.{key}", entry.get(key), minimum=0 if key == "tokens" else 1)
        if value is not None:
            media[key] = value
    return media


def _rules(problems: Problems, path: str, common: dict[str, Any], role: dict[str, Any]) -> DatasetRules | None:
    try:
        return DatasetRules(**common, **role)
    except (TypeError, ValueError) as exc:
        problems.add(path, f"invalid dataset rules: {exc}")
        return None
