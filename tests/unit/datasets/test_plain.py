"""prompt_completion and text_input records."""

import io
import json

import pytest

from tailor.datasets import DatasetRules, validate_stream


def run(lines, fmt="prompt_completion", **rules):
    data = "".join((ln if isinstance(ln, str) else json.dumps(ln)) + "\n" for ln in lines).encode()
    return validate_stream(io.BytesIO(data), DatasetRules(fmt, **rules), source="train.jsonl")


def messages(report):
    return [str(f) for f in report.errors]


def test_valid_prompt_completion_records_pass_with_token_estimate():
    # Given two valid records of 12 and 6 characters
    lines = [{"prompt": "abcdef", "completion": "ghijkl"}, {"prompt": "abc", "completion": "def"}]

    # When validated at 6 characters per token
    report = run(lines)

    # Then they pass, and tokens are ceil(chars / 6) per record
    assert report.ok and report.records == 2
    assert report.total_estimated_tokens == 3 and report.max_record_tokens == 2
    assert report.render() == []


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        (
            {"prompt": "q"},
            'train.jsonl:2: missing required key "completion"; a record is {"prompt": "...", "completion": "..."}',
        ),
        ({"prompt": "", "completion": "a"}, "train.jsonl:2: prompt is empty; it must be non-empty text"),
        ({"prompt": 3, "completion": "a"}, "train.jsonl:2: prompt is a number; expected a non-empty string"),
        ({"prompt": "q", "completion": ["a"]}, "train.jsonl:2: completion is an array; expected a non-empty string"),
        (
            {"prompt": "q", "completion": "a", "label": 1},
            'train.jsonl:2: unknown key "label" in the record; allowed: "prompt", "completion"',
        ),
    ],
)
def test_each_prompt_completion_defect_is_reported_at_its_line(record, expected):
    # Given a valid first line and one defective second line
    lines = [{"prompt": "q", "completion": "a"}, record]

    # When validated
    report = run(lines)

    # Then exactly that defect is reported, at line 2
    assert messages(report) == [expected]
    assert not report.ok


def test_text_input_accepts_input_only():
    # Given continued pre-training records, one with an extra key, one empty
    lines = [{"input": "some text"}, {"input": "x", "prompt": "y"}, {"input": ""}]

    # When validated
    report = run(lines, fmt="text_input")

    # Then the strict family rejects the extra key and the empty text
    assert messages(report) == [
        'train.jsonl:2: unknown key "prompt" in the record; allowed: "input"',
        "train.jsonl:3: input is empty; it must be non-empty text",
    ]


def test_reserved_words_are_errors_naming_word_and_line():
    # Given a record whose completion holds a reserved word, once escaped as \u0042 ("B")
    lines = [{"prompt": "fine", "completion": "ok"}, '{"prompt": "x", "completion": "\\u0042ot: hi"}']

    # When validated with Nova's reserved words
    report = run(lines, reserved_words=("User:", "Bot:"))

    # Then the word and the line are named
    assert messages(report) == [
        'train.jsonl:2: completion contains the reserved word "Bot:", which fails the job; '
        'text must not contain any of: "User:", "Bot:" (case-sensitive)'
    ]


def test_record_over_token_limit_is_an_error_and_not_counted():
    # Given records of 60 and 61 characters, and a 10-token limit (60 chars)
    lines = [{"prompt": "a" * 30, "completion": "b" * 30}, {"prompt": "a" * 31, "completion": "b" * 30}]

    # When validated
    report = run(lines, max_tokens_per_record=10)

    # Then only the second is an error; it is the largest but not in the total
    assert messages(report) == [
        "train.jsonl:2: record is about 11 tokens (at 6 characters per token for ASCII text, "
        "about one per CJK character); at most 10 allowed"
    ]
    assert report.total_estimated_tokens == 10 and report.max_record_tokens == 11


def test_chars_per_token_is_used_for_estimates():
    # Given a 10-character record and 4 characters per token
    report = run([{"prompt": "abcde", "completion": "fghij"}], chars_per_token=4)

    # Then the estimate rounds up
    assert report.total_estimated_tokens == 3


@pytest.mark.parametrize("ensure_ascii", [False, True])
def test_cjk_counts_one_token_per_character_written_raw_or_escaped(ensure_ascii):
    # Given 6 CJK characters, as 18 bytes of UTF-8 or as 36 bytes of \u escapes
    report = run([json.dumps({"prompt": "東京東", "completion": "京東京"}, ensure_ascii=ensure_ascii)])

    # Then each is one token either way (6 characters per token would say 1)
    assert report.ok and report.total_estimated_tokens == 6
