"""What a dataset file must look like: its record format and its limits.

Facts come from the shared reference notes (bedrock.md section B); the catalog picks the values per model.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

FORMATS = ("prompt_completion", "converse", "converse_prompts", "claude_messages", "text_input", "rft_chat")

# A JSON writer with ensure_ascii (Python's default) spells one astral character as two \uXXXX
# escapes: 12 bytes for one counted character. A smaller factor would reject valid CJK or emoji lines.
_MAX_JSON_BYTES_PER_CHAR = 12
_LINE_SLACK_BYTES = 1024 * 1024
UNBOUNDED_LINE_BYTES = 8 * 1024 * 1024


def _check_count(name: str, value: object) -> None:
    if value is None:
        return
    if type(value) is not int or value < 0:
        raise ValueError(f"{name} must be a non-negative integer or None, got {value!r}")


def _as_tuple(name: str, value: object) -> tuple[str, ...]:
    # A bare string would be split into characters, silently turning "User:" into five one-letter words.
    if isinstance(value, str) or not isinstance(value, (tuple, list)):
        raise ValueError(f"{name} must be a tuple of strings, got {value!r}")
    if not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"{name} must hold only non-empty strings, got {value!r}")
    return tuple(value)


@dataclass(frozen=True)
class DatasetRules:
    format: str
    min_records: int | None = None
    max_records: int | None = None
    recommended_min_records: int | None = None
    max_tokens_per_record: int | None = None
    max_bytes: int | None = None
    chars_per_token: float = 6.0  # Bedrock docs: "about 6 characters per token"
    single_turn_only: bool = False  # distillation to Anthropic/Llama students: one user turn, optional answer
    # Nova matches them case-sensitively as far as its docs say; AWS's own sample validator (amazon-nova-samples
    # nova_ft_dataset_validator.py) lower-cases both sides. UNCONFIRMED which the service does: list the
    # case variants here if you want the stricter check.
    reserved_words: tuple[str, ...] = ()
    allow_images: bool = False
    image_formats: tuple[str, ...] = ("png", "jpeg", "gif", "webp")
    # Nova takes video in Converse records (bedrock.md B, Nova 1.0 and 2.0 SFT): one per record, and a dataset
    # holds image records or video records, never both.
    allow_video: bool = False
    video_formats: tuple[str, ...] = ("mov", "mkv", "mp4")
    # Images add tokens the text count can't see. 1601 is the smallest value of the Llama 3.2 formula in
    # bedrock.md B (image size is unknown without fetching it), so the estimate never fails a valid record;
    # cost estimates are a lower bound. Video adds nothing: no per-video figure is documented.
    tokens_per_image: int = 1601
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
            "recommended_min_records",
            "max_tokens_per_record",
            "max_bytes",
            "max_line_bytes",
        ):
            _check_count(name, getattr(self, name))
        if self.max_line_bytes == 0:
            raise ValueError("max_line_bytes must be positive")
        if self.min_records is not None and self.max_records is not None and self.min_records > self.max_records:
            raise ValueError(f"min_records ({self.min_records}) is greater than max_records ({self.max_records})")
        cpt = self.chars_per_token
        if isinstance(cpt, bool) or not isinstance(cpt, (int, float)) or not math.isfinite(cpt) or cpt <= 0:
            raise ValueError(f"chars_per_token must be a positive number, got {cpt!r}")
        _check_count("tokens_per_image", self.tokens_per_image)
        for name in ("reserved_words", "image_formats", "video_formats"):
            # frozen dataclass: coerce lists to tuples so the rules stay hashable
            object.__setattr__(self, name, _as_tuple(name, getattr(self, name)))
        if self.single_turn_only and self.format != "converse_prompts":
            raise ValueError("single_turn_only applies only to format 'converse_prompts'")
        if (self.allow_images or self.allow_video) and self.format != "converse":
            # distillation prompts are text-to-text only (bedrock.md B); other families have no media items
            raise ValueError("allow_images and allow_video apply only to format 'converse'")

    def to_json(self) -> dict[str, Any]:
        """As JSON-ready values (lists for tuples): the job resource carries the rules to validate S3 data."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> DatasetRules:
        values: dict[str, Any] = dict(raw)
        return cls(**values)

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
