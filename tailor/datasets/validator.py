"""Streaming JSONL dataset validation: one pass, flat memory, never raises on the data.

Stdlib only: the same module runs in the CLI and in the Lambda that checks S3 uploads.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from typing import Any

from . import claude, converse, family, plain, rft, tokens
from .common import ERROR, WARNING, Checker, kind, make_words
from .lines import BAD_UTF8, LINES, LineReader
from .report import Collector, Finding, ValidationReport
from .rules import DatasetRules

__all__ = ["Finding", "ValidationReport", "validate_path", "validate_stream"]

_BOM = "\ufeff"
# Past this many errors the file is garbage, not a dataset with typos: stop, so that a huge file of junk
# lines (about a microsecond each) still gets a report within one Lambda invocation.
ERROR_BUDGET = 100_000


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are not JSON (RFC 8259): Python reads them, most other readers (the service's too,
    # presumably) reject them.
    raise ValueError(f"{name} is not valid JSON")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)
_decode = _DECODER.decode
# The C scanner itself: decode() wraps it in two Python frames and a regex per line, 10% of the validator's time.
_SCAN_ONCE: Callable[[str, int], tuple[Any, int]] = getattr(_DECODER, "scan_once")  # noqa: B009  # untyped


def validate_stream(
    stream: Any, rules: DatasetRules, *, source: str, max_errors: int = 20, dataset_bucket: str | None = None
) -> ValidationReport:
    """Validate a binary stream (an open file, or the Body of an S3 get_object).

    Exceptions the stream itself raises (a dropped S3 connection) pass through: they say nothing about
    the dataset, and the caller should retry rather than report it invalid.
    """
    _check_args(rules, max_errors)
    found = Collector(source, max_errors)
    reader = LineReader(stream, max_line_bytes=rules.line_limit, max_bytes=rules.max_bytes)
    records, total, biggest = _scan(reader, rules, _checker(rules, dataset_bucket), found)
    _check_totals(rules, records, reader, found)
    return ValidationReport(
        source=source,
        records=records,
        errors=tuple(found.errors),
        error_count=found.error_count,
        warnings=tuple(found.warnings),
        total_estimated_tokens=total,
        max_record_tokens=biggest,
        bytes_read=reader.bytes_read,
        warning_count=found.warning_count,
    )


def validate_path(
    path: str | os.PathLike[str],
    rules: DatasetRules,
    *,
    max_errors: int = 20,
    source: str | None = None,
    dataset_bucket: str | None = None,
) -> ValidationReport:
    """Validate a local file. An unreadable file is reported as an error finding, as linters do."""
    _check_args(rules, max_errors)
    name = source if source is not None else os.fspath(path)
    try:
        with open(path, "rb", buffering=0) as stream:
            return validate_stream(stream, rules, source=name, max_errors=max_errors, dataset_bucket=dataset_bucket)
    except OSError as exc:
        finding = Finding(name, None, f"cannot read the file: {exc.strerror or exc}", ERROR)
        return ValidationReport(
            source=name,
            records=0,
            errors=(finding,)[:max_errors],
            error_count=1,
            warnings=(),
            total_estimated_tokens=0,
            max_record_tokens=0,
            bytes_read=0,
        )


def _check_args(rules: object, max_errors: object) -> None:
    if not isinstance(rules, DatasetRules):
        raise TypeError(f"rules must be a DatasetRules, got {type(rules).__name__}")
    if type(max_errors) is not int or max_errors < 0:
        raise ValueError(f"max_errors must be a non-negative integer, got {max_errors!r}")


def _checker(rules: DatasetRules, dataset_bucket: str | None) -> Checker:
    if rules.format in plain.FIELDS:
        return plain.make(rules)
    if rules.format == "claude_messages":
        return claude.make(rules)
    if rules.format == "rft_chat":
        return rft.make(rules)
    return converse.make(rules, dataset_bucket)


class _Foreign:
    """Records in another family's format: the first one's problems are held back, and from the second on the file
    gets one hint instead of a screen of errors per record."""

    def __init__(self) -> None:
        self.count = 0
        self.first_line = 0
        self.found = ""
        self.held: list[tuple[str, str]] = []

    def add(self, found: str, line: int, out: list[tuple[str, str]]) -> None:
        self.count += 1
        if self.count == 1:
            self.found, self.first_line, self.held = found, line, list(out)
        out.clear()

    def report(self, rules: DatasetRules, found: Collector) -> None:
        if self.count == 1:
            found.flush(self.first_line, self.held)
        elif self.count:
            found.add(
                ERROR,
                None,
                f"{self.count:,} records look like {self.found} records ({family.SHAPES[self.found]}), first on line "
                f"{self.first_line:,}; this dataset needs {rules.format} records like "
                f"{family.SHAPES[family.family(rules.format)]}",
            )


def _scan(reader: LineReader, rules: DatasetRules, check: Checker, found: Collector) -> tuple[int, int, int]:
    """The hot loop: returns (records, total tokens of valid records, largest record's tokens)."""
    scan_once, decode, ceil, estimate_tokens = _SCAN_ONCE, _decode, math.ceil, tokens.estimate
    words = make_words(rules.reserved_words, rules.discouraged_words)
    limit = rules.max_tokens_per_record
    over = float("inf") if limit is None else limit
    cpt = rules.chars_per_token
    # The conservative rate only ever warns; over_soft is the smallest plain-ASCII estimate it could warn about.
    soft = rules.conservative_chars_per_token
    over_soft = over if soft is None else over * soft / cpt
    blank = ERROR if rules.blank_lines_are_errors else WARNING
    flush = found.flush
    foreign = _Foreign()
    out: list[tuple[str, str]] = []
    line = records = total = biggest = 0
    for event, payload in reader:
        if found.error_count >= ERROR_BUDGET:
            found.add(ERROR, None, f"stopped after {found.error_count:,} errors; the rest of the file was not checked")
            found.stopped = True
            break
        if event != LINES:
            line += 1
            records += 1
            found.add(ERROR, line, _line_problem(event, payload, rules.line_limit))
            continue
        texts, wides = payload
        if line == 0 and texts[0].startswith(_BOM):
            texts[0] = texts[0][1:]
            if wides is not None:
                wides[0] -= 2  # the BOM's 3 bytes are not text
            # UNCONFIRMED whether Bedrock accepts a BOM; many JSON readers reject it
            found.add(WARNING, 1, "file starts with a UTF-8 byte order mark; save it as UTF-8 without BOM")
        for k, text in enumerate(texts):
            line += 1
            try:
                rec, end = scan_once(text, 0)
                if end != len(text):
                    rec = decode(text)  # trailing whitespace is fine, anything else raises
            except StopIteration:
                try:  # leading whitespace, or an empty line
                    rec = decode(text)
                except (ValueError, RecursionError) as exc:
                    records += _bad_line(text, exc, line, blank, found)
                    continue
            except (ValueError, RecursionError) as exc:
                records += _bad_line(text, exc, line, blank, found)
                continue
            records += 1
            if type(rec) is not dict:
                found.add(ERROR, line, f"line is {kind(rec)}; each line must be one JSON object")
                continue
            try:
                chars, media, ascii_text = check(rec, out, words, line)
            except Exception as exc:  # a checker bug must not hide the rest of the report
                out.append((ERROR, f"record not checked: validator error {type(exc).__name__}: {str(exc)[:200]}"))
                chars, media, ascii_text = 0, 0, True
            if out:
                if any(severity == ERROR for severity, _ in out) and (other := family.guess(rec, rules.format)):
                    foreign.add(other, line, out)
                    continue
                if flush(line, out):
                    continue
            wide = 0 if wides is None else wides[k]
            if wide:
                estimate = estimate_tokens(chars, wide, cpt) + media
            elif ascii_text:
                estimate = ceil(chars / cpt) + media  # tokens.estimate's ASCII case, inline: the usual record
            else:  # an ASCII line whose text is not: \uXXXX escapes, as ensure_ascii writes them
                wide = tokens.escapes(text)
                estimate = estimate_tokens(chars, wide, cpt) + media
            if estimate > biggest:
                biggest = estimate
            if estimate > over:
                found.add(ERROR, line, _over_limit(estimate, limit, rules))
                continue
            if estimate > over_soft and soft is not None and limit is not None:
                strict = tokens.estimate(chars, wide, soft) + media
                if strict > limit:
                    found.add(WARNING, line, _maybe_over(strict, limit, rules, soft))
            total += estimate
    foreign.report(rules, found)
    return records, total, biggest


def _bad_line(text: str, exc: BaseException, line: int, blank: str, found: Collector) -> int:
    """Report a line that is not JSON; returns 1 if it counts as a record (a blank line does not)."""
    if not text.strip(" \t\r"):
        found.add(blank, line, "blank line; a JSONL file has one JSON record on every line")
        return 0
    found.add(ERROR, line, _json_problem(exc))
    return 1


def _over_limit(estimate: int, limit: int | None, rules: DatasetRules) -> str:
    return (
        f"record is about {estimate:,} tokens (at {rules.chars_per_token:g} characters per token for ASCII text, "
        f"about one per CJK character); at most {limit:,} allowed"
    )


def _maybe_over(strict: int, limit: int, rules: DatasetRules, soft: float) -> str:
    return (
        f"record may be over the {limit:,}-token limit: about {strict:,} tokens at {soft:g} characters per token, "
        f"the rate real tokenizers show on code and non-English Latin text (within it at the documented "
        f"{rules.chars_per_token:g}); shorten it if the job fails on length"
    )


def _line_problem(event: int, payload: Any, line_limit: int) -> str:
    if event == BAD_UTF8:
        offset, byte = payload
        return f"invalid UTF-8 at byte {offset + 1} (0x{byte:02x}); the file must be UTF-8"
    return f"line is {payload:,} bytes, over the {line_limit:,}-byte line limit; not checked"


def _json_problem(exc: BaseException) -> str:
    if isinstance(exc, json.JSONDecodeError):
        # "Unterminated string starting at": the longer suffix first, or " at" alone leaves "... starting"
        what = exc.msg.removesuffix(" starting at").removesuffix(" at")
        return f"invalid JSON at column {exc.colno}: {what[:1].lower()}{what[1:]}; each line must be one JSON object"
    if isinstance(exc, RecursionError):
        return "invalid JSON: nested too deeply to parse"
    if "digits" in str(exc):
        return "invalid JSON: a number has more than 4300 digits"  # Python's int-parsing guard (CVE-2020-10735)
    return f"invalid JSON: {exc}"


def _check_totals(rules: DatasetRules, records: int, reader: LineReader, found: Collector) -> None:
    if reader.over_limit:
        found.add(
            ERROR,
            None,
            f"file is over the {rules.max_bytes:,}-byte size limit (max_bytes); "
            f"stopped reading after {reader.bytes_read:,} bytes",
        )
    if rules.max_records is not None and records > rules.max_records:
        found.add(ERROR, None, f"{records:,} records; at most {rules.max_records:,} allowed")
    if reader.over_limit or found.stopped:
        return  # the count covers only part of the file: too few proves nothing
    if records == 0 and rules.min_records != 0:
        found.add(ERROR, None, "file has no records; expected one JSON object per line")
    elif rules.min_records is not None and records < rules.min_records:
        found.add(ERROR, None, f"{records:,} records; at least {rules.min_records:,} required")
    elif rules.recommended_min_records is not None and records < rules.recommended_min_records:
        found.add(WARNING, None, f"{records:,} records; at least {rules.recommended_min_records:,} recommended")
