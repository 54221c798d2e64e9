"""What a dataset file must look like: its record format and its limits.

The values per model live in catalog/models.yaml, each with its source; docs/dataset-rules.md explains every rule
and how the sources' disagreements were decided. This module only knows the shape of the rules.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

FORMATS = ("prompt_completion", "converse", "converse_prompts", "claude_messages", "text_input", "rft_chat")
MEDIA_KINDS = ("image", "video")
SEVERITIES = ("error", "warning")

# A JSON writer with ensure_ascii (Python's default) spells one astral character as two \uXXXX
# escapes: 12 bytes for one counted character. A smaller factor would reject valid CJK or emoji lines.
_MAX_JSON_BYTES_PER_CHAR = 12
_LINE_SLACK_BYTES = 1024 * 1024
UNBOUNDED_LINE_BYTES = 8 * 1024 * 1024


def _check_count(name: str, value: object, *, positive: bool = False) -> None:
    if value is None:
        return
    if type(value) is not int or value < (1 if positive else 0):
        what = "a positive" if positive else "a non-negative"
        raise ValueError(f"{name} must be {what} integer or None, got {value!r}")


def _as_tuple(name: str, value: object) -> tuple[str, ...]:
    # A bare string would be split into characters, silently turning "User:" into five one-letter words.
    if isinstance(value, str) or not isinstance(value, (tuple, list)):
        raise ValueError(f"{name} must be a tuple of strings, got {value!r}")
    if not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"{name} must hold only non-empty strings, got {value!r}")
    return tuple(value)


def _rate(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")


@dataclass(frozen=True)
class MediaRules:
    """One media kind (image or video) that a Converse dataset may carry in its user turns."""

    formats: tuple[str, ...]
    max_per_message: int | None = None
    max_per_record: int | None = None
    # Tokens one item adds to the record's estimate (its size is unknown without fetching it).
    tokens: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "formats", _as_tuple("formats", self.formats))
        if not self.formats:
            raise ValueError("formats must name at least one format")
        _check_count("max_per_message", self.max_per_message, positive=True)
        _check_count("max_per_record", self.max_per_record, positive=True)
        _check_count("tokens", self.tokens)


@dataclass(frozen=True)
class DatasetRules:
    format: str
    min_records: int | None = None
    max_records: int | None = None
    # Training and validation records of one job together (Claude 3 Haiku and Llama 3.1 document 10,000): checked
    # across the files by tailor.jobs.preflight, since each file is validated alone.
    max_total_records: int | None = None
    recommended_min_records: int | None = None
    max_tokens_per_record: int | None = None
    max_bytes: int | None = None
    # Latin-script characters per token: Bedrock documents "about 6" (and defines Titan's character quota as the
    # token quota x 6). A record over max_tokens_per_record at this rate is an error. Text outside ASCII is counted
    # by its UTF-8 length on top (see tokens.py): a CJK character is one token, whatever this rate.
    chars_per_token: float = 6.0
    # A stricter Latin rate for a warning only: real tokenizers give 3.5-5 characters per token on German and code
    # (docs/dataset-rules.md, "Token estimate"). None: no such warning (Titan's quota really is characters).
    conservative_chars_per_token: float | None = None
    single_turn_only: bool = False  # distillation to Anthropic/Llama students: one user turn, optional answer
    # Words that fail the job (documented): an error wherever they appear in text. Matching is case-sensitive.
    reserved_words: tuple[str, ...] = ()
    # Words only AWS's sample validators reject (the documentation does not list them): a warning.
    discouraged_words: tuple[str, ...] = ()
    images: MediaRules | None = None  # None: no image items
    videos: MediaRules | None = None  # None: no video items
    # Whether one dataset may hold both image records and video records (Nova: never).
    mixed_media: bool = False
    # Whether assistant turns may carry {"reasoningContent": {"reasoningText": {"text": ...}}} (Nova 2 Lite).
    reasoning: bool = False
    # Severity of toolConfig / toolUse / toolResult: "error" where the documentation says tool use fails the job,
    # "warning" where it is silent (the items are then not checked).
    tool_use: str = "error"
    max_system_blocks: int | None = None  # Llama: at most one system entry
    # Distillation prompts: the documentation calls schemaVersion a required field.
    schema_version_required: bool = False
    # Bedrock's JSONL is one record per line, but whether it rejects a blank line is UNCONFIRMED: by default a
    # blank line is skipped with a warning; set this to make it an error.
    blank_lines_are_errors: bool = False
    # Longest line the validator will buffer; longer lines are reported and skipped, which keeps memory flat.
    # None derives it from max_tokens_per_record, at most 8 MiB (see line_limit).
    max_line_bytes: int | None = None

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ValueError(f"unknown dataset format {self.format!r}; allowed: {', '.join(FORMATS)}")
        for name in (
            "min_records",
            "max_records",
            "max_total_records",
            "recommended_min_records",
            "max_tokens_per_record",
            "max_bytes",
            "max_line_bytes",
            "max_system_blocks",
        ):
            _check_count(name, getattr(self, name))
        if self.max_line_bytes == 0:
            raise ValueError("max_line_bytes must be positive")
        if self.min_records is not None and self.max_records is not None and self.min_records > self.max_records:
            raise ValueError(f"min_records ({self.min_records}) is greater than max_records ({self.max_records})")
        _rate("chars_per_token", self.chars_per_token)
        if self.conservative_chars_per_token is not None:
            _rate("conservative_chars_per_token", self.conservative_chars_per_token)
            if self.conservative_chars_per_token > self.chars_per_token:
                raise ValueError("conservative_chars_per_token must not be above chars_per_token")
        for name in ("reserved_words", "discouraged_words"):
            # frozen dataclass: coerce lists to tuples so the rules stay hashable
            object.__setattr__(self, name, _as_tuple(name, getattr(self, name)))
        for name in ("images", "videos"):
            value = getattr(self, name)
            if isinstance(value, Mapping):
                object.__setattr__(self, name, MediaRules(**value))
            elif value is not None and not isinstance(value, MediaRules):
                raise ValueError(f"{name} must be media rules or None, got {value!r}")
        if self.tool_use not in SEVERITIES:
            raise ValueError(f"tool_use must be one of {', '.join(SEVERITIES)}, got {self.tool_use!r}")
        if self.single_turn_only and self.format != "converse_prompts":
            raise ValueError("single_turn_only applies only to format 'converse_prompts'")
        if (self.images or self.videos or self.reasoning) and self.format != "converse":
            # distillation prompts are text-to-text only (bedrock.md B); other families have no such items
            raise ValueError("images, videos and reasoning apply only to format 'converse'")
        if self.schema_version_required and self.format not in ("converse", "converse_prompts"):
            raise ValueError("schema_version_required applies only to the Converse formats")

    def media(self, kind: str) -> MediaRules | None:
        return self.images if kind == "image" else self.videos if kind == "video" else None

    def to_json(self) -> dict[str, Any]:
        """As JSON-ready values (lists for tuples): the job resource carries the rules to validate S3 data."""
        return {k: _plain(v) for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> DatasetRules:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ValueError(f"unknown dataset rule(s) {', '.join(unknown)}")
        return cls(**dict(raw))

    @property
    def line_limit(self) -> int:
        """Longest line, in bytes, that is parsed; any longer line is an error."""
        if self.max_line_bytes is not None:
            return self.max_line_bytes
        if self.max_tokens_per_record is None:
            return UNBOUNDED_LINE_BYTES
        chars = math.ceil(self.max_tokens_per_record * self.chars_per_token)
        # never above the unbounded cap: a huge token limit must not let one line take all the memory
        return min(UNBOUNDED_LINE_BYTES, chars * _MAX_JSON_BYTES_PER_CHAR + _LINE_SLACK_BYTES)


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
