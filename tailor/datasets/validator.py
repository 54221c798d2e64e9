"""Streaming JSONL dataset validation: one pass, flat memory, never raises on the data.

Stdlib only: the same module runs in the CLI and in the Lambda that checks S3 uploads.
"""

from __future__ import annotations

import json
import os
from typing import Any

from . import claude, converse, plain, rft
from .common import ERROR, WARNING, Checker, kind, make_scan
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


_decode = json.JSONDecoder(parse_constant=_reject_constant).decode


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


def _scan(reader: LineReader, rules: DatasetRules, check: Checker, found: Collector) -> tuple[int, int, int]:
    """The hot loop: returns (records, total tokens of valid records, largest record's tokens)."""
    decode = _decode
    scan = make_scan(rules.reserved_words)
    limit = rules.max_tokens_per_record
    over = float("inf") if limit is None else limit
    blank = ERROR if rules.blank_lines_are_errors else WARNING
    flush = found.flush
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
        if line == 0 and payload[0].startswith(_BOM):
            payload[0] = payload[0][1:]
            # UNCONFIRMED whether Bedrock accepts a BOM; many JSON readers reject it
            found.add(WARNING, 1, "file starts with a UTF-8 byte order mark; save it as UTF-8 without BOM")
        for text in payload:
            line += 1
            try:
                rec = decode(text)
            except (ValueError, RecursionError) as exc:
                if not text.strip(" \t\r"):
                    found.add(blank, line, "blank line; a JSONL file has one JSON record on every line")
                else:
                    records += 1
                    found.add(ERROR, line, _json_problem(exc))
                continue
            records += 1
            if type(rec) is not dict:
                found.add(ERROR, line, f"line is {kind(rec)}; each line must be one JSON object")
                continue
            try:
                tokens = check(rec, out, scan, line)
            except Exception as exc:  # a checker bug must not hide the rest of the report
                out.append((ERROR, f"record not checked: validator error {type(exc).__name__}: {str(exc)[:200]}"))
                tokens = 0
            if out and flush(line, out):
                continue
            if tokens > biggest:
                biggest = tokens
            if tokens > over:
                found.add(
                    ERROR,
                    line,
                    f"record is about {tokens:,} tokens (at {rules.chars_per_token:g} characters "
                    f"per token); at most {limit:,} allowed",
                )
                continue
            total += tokens
    return records, total, biggest


def _line_problem(event: int, payload: Any, line_limit: int) -> str:
    if event == BAD_UTF8:
        offset, byte = payload
        return f"invalid UTF-8 at byte {offset + 1} (0x{byte:02x}); the file must be UTF-8"
    return f"line is {payload:,} bytes, over the {line_limit:,}-byte line limit; not checked"


def _json_problem(exc: BaseException) -> str:
    if isinstance(exc, json.JSONDecodeError):
        what = exc.msg.removesuffix(" at").removesuffix(" starting at")
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
