"""Property tests (reliability.md test 18): no input bytes make the validator raise; valid records pass."""

import io
import json
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tailor.datasets import FORMATS, DatasetRules, ValidationReport, validate_stream

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# The validator's own vocabulary, so generated junk reaches deep into the checkers instead of failing early.
KEYS = [
    "messages",
    "role",
    "content",
    "text",
    "image",
    "video",
    "format",
    "source",
    "s3Location",
    "uri",
    "bucketOwner",
    "system",
    "schemaVersion",
    "prompt",
    "completion",
    "input",
    "reference_answer",
    "x",
]
WORDS = ["user", "assistant", "system", "png", "mp4", "s3://data/a.png", "s3://other/b", "", "User:", "hi"]

# Infinity is left out because the validator rightly rejects it (tested in test_datasets_validator.py).
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(WORDS)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=5),
    max_leaves=25,
)
texts = st.text(st.characters(codec="utf-8"), min_size=1, max_size=30)


def rules_for(fmt, **extra):
    media = (
        {
            "images": {"formats": ["png", "jpeg", "gif", "webp"], "tokens": 1601},
            "videos": {"formats": ["mp4"], "max_per_record": 1},
            "reasoning": True,
        }
        if fmt == "converse"
        else {}
    )
    return DatasetRules(fmt, **media, **extra)


def check_invariants(report, data, max_errors):
    assert isinstance(report, ValidationReport)
    assert len(report.errors) <= max_errors and len(report.warnings) <= max_errors
    assert report.error_count >= len(report.errors) and report.warning_count >= len(report.warnings)
    assert report.ok == (report.error_count == 0)
    assert report.records <= data.count(b"\n") + 1
    assert all(f.severity == "error" for f in report.errors)
    assert all(f.severity == "warning" for f in report.warnings)
    assert not any("validator error" in f.message for f in report.errors), report.render()
    report.render()


@FAST
@given(
    data=st.binary(max_size=3000),
    fmt=st.sampled_from(FORMATS),
    max_errors=st.integers(0, 5),
    max_line=st.none() | st.integers(1, 200),
    max_bytes=st.none() | st.integers(0, 3000),
)
def test_arbitrary_bytes_never_raise(data, fmt, max_errors, max_line, max_bytes):
    # Given any bytes and any limits
    rules = rules_for(
        fmt,
        max_line_bytes=max_line,
        max_bytes=max_bytes,
        min_records=1,
        max_records=3,
        reserved_words=("User:", "<image>"),
        max_tokens_per_record=5,
    )

    # When validated
    report = validate_stream(io.BytesIO(data), rules, source="f", max_errors=max_errors, dataset_bucket="data")

    # Then a consistent report comes back
    check_invariants(report, data, max_errors)
    assert report.bytes_read == len(data) if max_bytes is None else report.bytes_read <= max_bytes + 1


@FAST
@given(
    values=st.lists(json_values, min_size=1, max_size=6),
    fmt=st.sampled_from(FORMATS),
    ascii_only=st.booleans(),
    crlf=st.booleans(),
)
def test_arbitrary_json_lines_never_raise(values, fmt, ascii_only, crlf):
    # Given lines of arbitrary JSON built from the formats' own keys and words
    end = "\r\n" if crlf else "\n"
    data = "".join(json.dumps(v, ensure_ascii=ascii_only) + end for v in values).encode()

    # When validated by any family, with reserved words and a bucket rule
    report = validate_stream(
        io.BytesIO(data), rules_for(fmt, reserved_words=("User:",)), source="f", dataset_bucket="data"
    )

    # Then the checkers report, never crash
    check_invariants(report, data, 20)
    assert report.records == len(values)


def _converse(draw, prompts):
    turns = draw(st.integers(1, 3))
    messages = []
    for t in range(turns):
        content = [{"text": x} for x in draw(st.lists(texts, min_size=1, max_size=3))]
        if not prompts and t == 0:
            for n in range(draw(st.integers(0, 2))):
                fmt = draw(st.sampled_from(["png", "jpeg", "gif", "webp"]))
                content.insert(0, {"image": {"format": fmt, "source": {"s3Location": {"uri": f"s3://data/{n}.{fmt}"}}}})
        messages.append({"role": "user", "content": content})
        if not prompts or t < turns - 1 or draw(st.booleans()):
            messages.append({"role": "assistant", "content": [{"text": draw(texts)}]})
    rec = {"messages": messages}
    if draw(st.booleans()):
        rec["schemaVersion"] = "bedrock-conversation-2024"
    if draw(st.booleans()):
        rec["system"] = [{"text": x} for x in draw(st.lists(texts, max_size=2))]
    return rec


@st.composite
def valid_record(draw, fmt):
    if fmt == "prompt_completion":
        return {"prompt": draw(texts), "completion": draw(texts)}
    if fmt == "text_input":
        return {"input": draw(texts)}
    if fmt in ("converse", "converse_prompts"):
        return _converse(draw, fmt == "converse_prompts")
    if fmt == "claude_messages":
        pairs = draw(st.lists(st.tuples(texts, texts), min_size=1, max_size=3))
        rec = {
            "messages": [
                {"role": role, "content": text}
                for pair in pairs
                for role, text in zip(("user", "assistant"), pair, strict=True)
            ]
        }
        if draw(st.booleans()):
            rec["system"] = draw(texts)
        return rec
    roles = draw(st.lists(st.sampled_from(["user", "assistant"]), max_size=3))
    messages = [{"role": "user", "content": draw(texts)}] + [{"role": r, "content": draw(texts)} for r in roles]
    if draw(st.booleans()):
        messages.insert(0, {"role": "system", "content": draw(texts)})
    answer = draw(json_values.filter(lambda v: v is not None))
    return {"messages": messages, "reference_answer": answer, "task": draw(scalars)}


def estimate(rec, ascii_only):
    """ceil(characters / 6 + wide units * 5/12), plus 1601 per image (tailor/datasets/tokens.py).

    Wide units: the line's UTF-8 bytes beyond one per character; for a line of pure ASCII whose text is not
    (ensure_ascii), 2 per \\u escape.
    """
    images = sum(
        "image" in item for m in rec.get("messages", []) if isinstance(m.get("content"), list) for item in m["content"]
    )
    line = json.dumps(rec, ensure_ascii=ascii_only)
    wide = len(line.encode()) - len(line)
    if not wide and not json.dumps(rec, ensure_ascii=False).isascii():
        wide = line.count("\\u") * 2
    if not wide:
        return math.ceil(text_chars(rec) / 6) + 1601 * images
    return math.ceil(text_chars(rec) / 6 + wide * (1 - 1 / 6) / 2) + 1601 * images


def text_chars(rec):
    """Characters the validator should count: every text except the RFT reference answer and metadata."""
    if isinstance(rec, dict):
        return sum(
            text_chars(v)
            if k in ("messages", "system", "content", "prompt", "completion", "input") or k == "text"
            else 0
            for k, v in rec.items()
        )
    if isinstance(rec, list):
        return sum(text_chars(v) for v in rec)
    return len(rec) if isinstance(rec, str) else 0


@FAST
@given(data=st.data(), fmt=st.sampled_from(FORMATS), ascii_only=st.booleans())
def test_valid_generated_records_pass_with_exact_token_estimates(data, fmt, ascii_only):
    # Given valid records of the family, written with or without \u escapes
    records = data.draw(st.lists(valid_record(fmt), min_size=1, max_size=5))
    blob = "".join(json.dumps(r, ensure_ascii=ascii_only) + "\n" for r in records).encode()

    # When validated
    report = validate_stream(io.BytesIO(blob), rules_for(fmt), source="f", dataset_bucket="data")

    # Then they pass without warnings and tokens are ceil(characters / 6) per record, plus the wide characters'
    # share, plus images
    assert report.ok and report.warnings == (), report.render()
    assert report.records == len(records)
    expected = [estimate(r, ascii_only) for r in records]
    assert report.total_estimated_tokens == sum(expected)
    assert report.max_record_tokens == max(expected)


def slots(value):
    """Every (container, key) in a JSON value, to mutate one."""
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        yield value, key
        yield from slots(child)


@FAST
@given(data=st.data(), fmt=st.sampled_from(FORMATS))
def test_mutated_valid_records_never_raise(data, fmt):
    # Given a valid record with one value replaced by arbitrary JSON, or removed
    rec = data.draw(valid_record(fmt))
    container, key = data.draw(st.sampled_from(list(slots(rec))))
    if data.draw(st.booleans()):
        container[key] = data.draw(json_values)
    else:
        del container[key]
    blob = json.dumps(rec).encode()

    # When validated with every option on
    report = validate_stream(
        io.BytesIO(blob),
        rules_for(fmt, reserved_words=("User:",), single_turn_only=False),
        source="f",
        dataset_bucket="data",
    )

    # Then the checkers report, never crash
    check_invariants(report, blob, 20)


class Trickle:
    def __init__(self, data, steps):
        self._buf, self._steps, self._i = io.BytesIO(data), steps, 0

    def read(self, n):
        self._i += 1
        return self._buf.read(min(n, self._steps[self._i % len(self._steps)]))


@FAST
@given(
    values=st.lists(json_values | st.binary(max_size=20), max_size=6),
    steps=st.lists(st.integers(1, 9), min_size=1),
    fmt=st.sampled_from(FORMATS),
)
def test_reports_do_not_depend_on_read_sizes(values, steps, fmt):
    # Given mixed JSON and junk lines
    data = b"\n".join(v if isinstance(v, bytes) else json.dumps(v).encode() for v in values)
    rules = rules_for(fmt)

    # When read whole and in irregular small reads
    whole = validate_stream(io.BytesIO(data), rules, source="f")
    trickled = validate_stream(Trickle(data, steps), rules_for(fmt), source="f")

    # Then the reports are the same
    assert whole == trickled
