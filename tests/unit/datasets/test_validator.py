"""validate_stream / validate_path: lines, encodings, limits, reports, streams."""

import io
import json
import tracemalloc

import boto3
import pytest
from botocore.response import StreamingBody
from moto import mock_aws

from tailor.datasets import DatasetRules, Finding, ValidationReport, validate_path, validate_stream
from tailor.datasets import validator as validator_module
from tailor.datasets.lines import CHUNK_BYTES

PC = DatasetRules("prompt_completion")
GOOD = b'{"prompt": "q", "completion": "a"}'


def run(data, rules=PC, **kwargs):
    return validate_stream(io.BytesIO(data), rules, source="d.jsonl", **kwargs)


def rendered(report):
    return report.render()


class TrickleStream:
    """A stream that returns a few bytes per read, as a slow network body may."""

    def __init__(self, data, step=7):
        self._buf = io.BytesIO(data)
        self._step = step

    def read(self, n=-1):
        return self._buf.read(min(n, self._step))


def test_finding_str_follows_the_linter_convention():
    # Given findings with and without a line
    # Then they render as FILE:LINE: message, or FILE: message
    assert str(Finding("train.jsonl", 12, "bad", "error")) == "train.jsonl:12: bad"
    assert str(Finding("train.jsonl", None, "too few", "error")) == "train.jsonl: too few"


def test_report_ok_reflects_error_count_not_kept_errors():
    # Given a report whose errors were all dropped by max_errors=0
    report = run(b"x\ny\n", max_errors=0)

    # Then it is still not ok and says how many were left out
    assert not report.ok and report.errors == () and report.error_count == 2
    assert rendered(report) == ["d.jsonl: ... and 2 more errors"]


def test_max_errors_truncation_keeps_first_errors_and_counts_the_rest():
    # Given 30 invalid lines then 25 blank lines (warnings)
    data = b"nope\n" * 30 + b"\n" * 25 + GOOD + b"\n"

    # When validated keeping 20
    report = run(data)

    # Then 20 of each are kept, in order, and the render says how many more
    assert report.error_count == 30 and len(report.errors) == 20
    assert report.warning_count == 25 and len(report.warnings) == 20
    assert [f.line for f in report.errors] == list(range(1, 21))
    lines = rendered(report)
    assert lines[20] == "d.jsonl: ... and 10 more errors"
    assert lines[21] == "d.jsonl:31: warning: blank line; a JSONL file has one JSON record on every line"
    assert lines[-1] == "d.jsonl: ... and 5 more warnings"
    assert lines[0] == "d.jsonl:1: invalid JSON at column 1: expecting value; each line must be one JSON object"


def test_blank_lines_are_skipped_with_a_warning_by_default():
    # Given blank, whitespace-only and CRLF-blank lines among records, with CRLF endings
    data = GOOD + b"\r\n\r\n  \t\n" + GOOD + b"\r\n"

    # When validated
    report = run(data)

    # Then records are counted without the blanks, which only warn
    assert report.ok and report.records == 2
    assert [f.line for f in report.warnings] == [2, 3]


def test_blank_lines_can_be_errors():
    # Given a blank line and rules that make it an error
    report = run(GOOD + b"\n\n" + GOOD, DatasetRules("prompt_completion", blank_lines_are_errors=True))

    # Then it is an error at line 2
    assert [str(f) for f in report.errors] == ["d.jsonl:2: blank line; a JSONL file has one JSON record on every line"]


def test_last_line_without_newline_is_a_record():
    # Given a file whose last record has no newline
    report = run(GOOD + b"\n" + GOOD)

    # Then both records count
    assert report.ok and report.records == 2 and report.bytes_read == 2 * len(GOOD) + 1


def test_utf8_bom_is_accepted_with_a_warning():
    # Given a file starting with a UTF-8 byte order mark
    report = run(b"\xef\xbb\xbf" + GOOD + b"\n" + GOOD)

    # Then the first record still parses, with a warning on line 1
    assert report.ok and report.records == 2
    assert [str(f) for f in report.warnings] == [
        "d.jsonl:1: file starts with a UTF-8 byte order mark; save it as UTF-8 without BOM"
    ]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b'{"prompt": "caf\xe9", "completion": "a"}', "invalid UTF-8 at byte 16 (0xe9); the file must be UTF-8"),
        (b"\x00\x01\x02", "invalid JSON at column 1: expecting value; each line must be one JSON object"),
        (b'{"prompt": "a\x00", "completion": "b"}', "invalid JSON at column 14: invalid control character;"),
        (b'{"prompt": NaN, "completion": "a"}', "invalid JSON: NaN is not valid JSON"),
        (b'{"prompt": "q", "completion": "a", "w": -Infinity}', "invalid JSON: -Infinity is not valid JSON"),
        (b'{"prompt": "a", "completion": "b"} {}', "invalid JSON at column 36: extra data;"),
        (b'["prompt", "completion"]', "line is an array; each line must be one JSON object"),
        (b'"just a string"', "line is a string; each line must be one JSON object"),
        (b"null", "line is null; each line must be one JSON object"),
        (b"[" * 100_000, "invalid JSON: nested too deeply to parse"),
        (b'{"prompt": ' + b"9" * 5000 + b"}", "invalid JSON: a number has more than 4300 digits"),
        (b"\xff\xfe{\x00}\x00", "invalid UTF-8 at byte 1 (0xff); the file must be UTF-8"),
    ],
)
def test_malformed_lines_are_errors_at_their_line(line, expected):
    # Given a good line then a malformed one
    # When validated
    report = run(GOOD + b"\n" + line + b"\n")

    # Then it is reported at line 2, and the good line still counts
    assert report.records == 2
    assert report.error_count == 1
    assert str(report.errors[0]).startswith(f"d.jsonl:2: {expected}"), str(report.errors[0])


def test_empty_file_is_an_error():
    # Given an empty file
    report = run(b"")

    # Then it has no records, which is an error
    assert [str(f) for f in report.errors] == ["d.jsonl: file has no records; expected one JSON object per line"]
    assert report.records == 0 and report.bytes_read == 0


def test_record_count_bounds_and_recommendation():
    # Given 5 valid records
    data = (GOOD + b"\n") * 5

    # When checked against several bounds
    too_few = run(data, DatasetRules("prompt_completion", min_records=6))
    too_many = run(data, DatasetRules("prompt_completion", max_records=4))
    low = run(data, DatasetRules("prompt_completion", min_records=5, recommended_min_records=100))

    # Then counts are reported without a line; the recommendation only warns
    assert [str(f) for f in too_few.errors] == ["d.jsonl: 5 records; at least 6 required"]
    assert [str(f) for f in too_many.errors] == ["d.jsonl: 5 records; at most 4 allowed"]
    assert low.ok and [str(f) for f in low.warnings] == ["d.jsonl: 5 records; at least 100 recommended"]


def test_invalid_records_still_count_toward_bounds():
    # Given one good and one bad record, and max_records=1
    report = run(GOOD + b"\nbad\n", DatasetRules("prompt_completion", max_records=1))

    # Then both lines are records
    assert report.records == 2 and "d.jsonl: 2 records; at most 1 allowed" in rendered(report)


def test_max_bytes_exact_fit_passes():
    # Given a file exactly max_bytes long
    data = (GOOD + b"\n") * 3

    # Then it passes and all of it was read
    report = run(data, DatasetRules("prompt_completion", max_bytes=len(data)))
    assert report.ok and report.bytes_read == len(data) and report.records == 3


def test_max_bytes_exceeded_stops_reading_and_reports():
    # Given a 10-record file and a limit that falls inside record 4
    line = GOOD + b"\n"
    data = line * 10
    limit = len(line) * 3 + 5

    # When validated
    report = run(data, DatasetRules("prompt_completion", max_bytes=limit, min_records=100))

    # Then reading stops one byte past the limit; the lines before it were checked; no count error is claimed
    assert report.bytes_read == limit + 1
    assert report.records == 3
    assert [str(f) for f in report.errors] == [
        f"d.jsonl: file is over the {limit:,}-byte size limit (max_bytes); stopped reading after {limit + 1:,} bytes"
    ]


def test_huge_single_line_without_newline_is_reported_in_flat_memory():
    # Given a 24 MiB line with no newline, far over the 8 MiB default line limit and many chunks long
    size = 24 * 1024 * 1024
    stream = io.BytesIO(b'{"prompt": "' + b"a" * size)

    # When validated while tracing allocations
    tracemalloc.start()
    try:
        report = validate_stream(stream, PC, source="d.jsonl")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    # Then it is one record, reported too long, and memory stayed near the line limit, not the line size
    assert report.records == 1
    assert [str(f) for f in report.errors] == [
        f"d.jsonl:1: line is {size + 12:,} bytes, over the 8,388,608-byte line limit; not checked"
    ]
    assert peak < 8 * 1024 * 1024 + 3 * CHUNK_BYTES


def test_long_line_between_records_keeps_line_numbers():
    # Given a line over a small limit between valid records, a later defect, and a tiny chunk size in effect
    rules = DatasetRules("prompt_completion", max_line_bytes=100)
    data = GOOD + b"\n" + b"x" * 1000 + b"\n" + GOOD + b"\n" + b'{"prompt": "q"}\n'

    # When validated
    report = run(data, rules)

    # Then the long line is line 2 and the next defect is still line 4
    assert [str(f) for f in report.errors] == [
        "d.jsonl:2: line is 1,000 bytes, over the 100-byte line limit; not checked",
        'd.jsonl:4: missing required key "completion"; a record is {"prompt": "...", "completion": "..."}',
    ]


def test_line_limit_derives_from_token_limit():
    # Given a 10-token limit: 60 characters, at most 12 JSON bytes each, plus 1 MiB slack
    rules = DatasetRules("prompt_completion", max_tokens_per_record=10)

    # Then the line limit follows, and a line over it is reported without parsing
    assert rules.line_limit == 60 * 12 + 1024 * 1024
    report = run(b'{"prompt": "' + b"a" * rules.line_limit + b'", "completion": "b"}\n', rules)
    assert "over the 1,049,296-byte line limit" in str(report.errors[0])


def test_trickling_stream_gives_the_same_report_as_one_read():
    # Given a mixed file read a few bytes at a time
    data = b"\xef\xbb\xbf" + GOOD + b"\r\n\nbad\n\xff\n" + GOOD

    # When validated through both streams
    whole = run(data)
    trickle = validate_stream(TrickleStream(data), PC, source="d.jsonl")

    # Then the reports are identical
    assert trickle == whole


def test_botocore_streaming_body_is_accepted():
    # Given an S3 response body wrapping the data
    data = (GOOD + b"\n") * 3
    body = StreamingBody(io.BytesIO(data), len(data))

    # When validated
    report = validate_stream(body, PC, source="s3://b/train.jsonl")

    # Then it reads it like a file
    assert report.ok and report.records == 3 and report.source == "s3://b/train.jsonl"


@mock_aws
def test_s3_get_object_body_end_to_end():
    # Given a dataset uploaded to (mocked) S3
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="data")
    s3.put_object(Bucket="data", Key="train.jsonl", Body=(GOOD + b"\n") * 4 + b"oops\n")

    # When its Body is validated
    body = s3.get_object(Bucket="data", Key="train.jsonl")["Body"]
    report = validate_stream(body, PC, source="s3://data/train.jsonl")

    # Then the defect is reported with the S3 URI as source
    assert report.records == 5
    assert str(report.errors[0]).startswith("s3://data/train.jsonl:5: invalid JSON")


def test_stream_errors_propagate():
    # Given a stream that fails mid-way (a dropped connection)
    class Broken:
        def read(self, n):
            raise ConnectionError("reset by peer")

    # Then the failure is the caller's to retry, not a dataset defect
    with pytest.raises(ConnectionError):
        validate_stream(Broken(), PC, source="x")


def test_text_mode_stream_is_a_programming_error():
    # Given a text stream
    with pytest.raises(TypeError, match="binary mode"):
        validate_stream(io.StringIO("{}"), PC, source="x")


def test_invalid_arguments_raise():
    # Then only bad arguments raise
    with pytest.raises(TypeError):
        validate_stream(io.BytesIO(b""), "prompt_completion", source="x")
    with pytest.raises(ValueError, match="max_errors"):
        validate_stream(io.BytesIO(b""), PC, source="x", max_errors=-1)


def test_validate_path_reads_a_file(tmp_path):
    # Given a dataset on disk
    path = tmp_path / "train.jsonl"
    path.write_bytes(GOOD + b"\nbad\n")

    # When validated by path, with and without a display name
    by_path = validate_path(path, PC)
    named = validate_path(str(path), PC, source="train.jsonl")

    # Then the source defaults to the path
    assert str(by_path.errors[0]).startswith(f"{path}:2: invalid JSON")
    assert str(named.errors[0]).startswith("train.jsonl:2: invalid JSON")
    assert isinstance(named, ValidationReport)


@pytest.mark.parametrize("make", [lambda p: p / "missing.jsonl", lambda p: p])
def test_unreadable_path_is_a_finding_not_an_exception(tmp_path, make):
    # Given a missing file, or a directory
    path = make(tmp_path)

    # When validated
    report = validate_path(path, PC)

    # Then it is one error without a line
    assert not report.ok and report.records == 0
    assert report.errors[0].line is None and "cannot read the file" in str(report.errors[0])


def test_garbage_past_the_error_budget_stops_early(monkeypatch):
    # Given a tiny budget and many chunks of junk lines
    monkeypatch.setattr(validator_module, "ERROR_BUDGET", 50)
    data = b"junk\n" * (CHUNK_BYTES // 5 * 3)

    # When validated
    report = run(data, DatasetRules("prompt_completion", min_records=10**9))

    # Then it stops after the chunk that crossed the budget, saying so (kept despite max_errors), and claims
    # no count error
    assert report.bytes_read < len(data)
    assert len(report.errors) == 20 and str(report.errors[-1]).startswith("d.jsonl: stopped after ")
    assert not any("required" in line for line in rendered(report))


def test_checker_bug_becomes_an_error_not_an_exception(monkeypatch):
    # Given a checker that crashes
    def broken(rules, bucket):
        def check(rec, out, scan, line):
            raise KeyError("boom")

        return check

    monkeypatch.setattr(validator_module, "_checker", broken)

    # When validated
    report = run(GOOD + b"\n")

    # Then the record is reported as not checked
    assert str(report.errors[0]) == "d.jsonl:1: record not checked: validator error KeyError: 'boom'"


def test_warnings_do_not_invalidate_a_record_or_its_tokens():
    # Given a converse record with an unknown key (a warning)
    rec = {
        "id": 1,
        "messages": [
            {"role": "user", "content": [{"text": "abcdef"}]},
            {"role": "assistant", "content": [{"text": "abcdef"}]},
        ],
    }

    # When validated
    report = run(json.dumps(rec).encode(), DatasetRules("converse"))

    # Then its tokens count
    assert report.ok and report.warning_count == 1 and report.total_estimated_tokens == 2


def test_file_level_findings_survive_truncation():
    # Given more line errors than max_errors, and a file over both max_bytes and max_records
    line = b"junk\n"
    rules = DatasetRules("prompt_completion", max_bytes=len(line) * 30, max_records=2)

    # When validated keeping 5 errors
    report = run(line * 40, rules, max_errors=5)

    # Then both file-level findings are kept, after the first line errors
    assert [f.line for f in report.errors] == [1, 2, 3, None, None]
    assert "size limit" in report.errors[3].message and "at most 2 allowed" in report.errors[4].message
    assert report.error_count == 32
