"""rft_chat records (reinforcement fine-tuning, Nova 2 Lite)."""

import io
import json

import pytest

from tailor.datasets import DatasetRules, validate_stream

GOOD = {
    "messages": [{"role": "system", "content": "Solve it."}, {"role": "user", "content": "2+2?"}],
    "reference_answer": {"answer": 4},
    "task_id": "t-1",
}


def run(records, **rules):
    data = "".join(json.dumps(r) + "\n" for r in records).encode()
    return validate_stream(io.BytesIO(data), DatasetRules("rft_chat", **rules), source="r.jsonl")


def test_valid_records_with_extra_fields_pass():
    # Given records with grader metadata and any JSON as reference answer
    other = {"messages": [{"role": "user", "content": "Name a prime."}], "reference_answer": [2, 3, 5]}

    # When validated
    report = run([GOOD, other])

    # Then they pass; reference answers aren't model input, so they add no tokens
    assert report.ok and report.warnings == ()
    assert report.total_estimated_tokens == 3 + 3  # 13 chars -> 3; 13 chars -> 3


@pytest.mark.parametrize(
    ("rec", "expected"),
    [
        (
            {"messages": [{"role": "user", "content": "q"}, {"role": "system", "content": "s"}], "reference_answer": 1},
            'r.jsonl:2: messages[1] has role "system"; a system message may only come first',
        ),
        (
            {"messages": [{"role": "system", "content": "s"}], "reference_answer": 1},
            'r.jsonl:2: messages has no "user" message; at least one is required',
        ),
        (
            {"messages": [{"role": "tool", "content": "x"}, {"role": "user", "content": "q"}], "reference_answer": 1},
            'r.jsonl:2: messages[0].role is "tool"; allowed: "system", "user", "assistant"',
        ),
        (
            {"messages": [{"content": "x"}, {"role": "user", "content": "q"}], "reference_answer": 1},
            'r.jsonl:2: messages[0].role is missing; allowed: "system", "user", "assistant"',
        ),
        (
            {"messages": [{"role": "user", "content": ""}], "reference_answer": 1},
            "r.jsonl:2: messages[0].content is empty; it must be non-empty text",
        ),
        (
            {"messages": [{"role": "user", "content": [{"type": "text"}]}], "reference_answer": 1},
            "r.jsonl:2: messages[0].content is an array; expected a non-empty string",
        ),
        (
            {"messages": [{"role": "user"}], "reference_answer": 1},
            "r.jsonl:2: messages[0] has no content; expected a non-empty string",
        ),
        (
            {"prompt": "q", "reference_answer": 1},
            'r.jsonl:2: messages is missing; expected a non-empty array of {"role": ..., "content": "..."}',
        ),
    ],
)
def test_each_defect_is_reported(rec, expected):
    # Given a valid record then a defective one
    # When validated
    report = run([GOOD, rec])

    # Then the defect is reported at line 2
    assert [str(f) for f in report.errors] == [expected]


def test_missing_reference_answer_is_a_warning():
    # Given a record without a reference answer
    rec = {"messages": [{"role": "user", "content": "q"}]}

    # When validated
    report = run([rec])

    # Then it passes with a warning: a custom grader may not need one
    assert report.ok
    assert [str(f) for f in report.warnings] == [
        "r.jsonl:1: reference_answer is missing; most graders compare the response against it"
    ]


def test_reserved_words_apply_to_rft_content():
    # Given Nova reserved words configured and a user message containing one
    rec = {"messages": [{"role": "user", "content": "User: hi"}], "reference_answer": 1}

    # When validated
    report = run([rec], reserved_words=("User:",))

    # Then it is an error
    assert 'messages[0].content contains the reserved word "User:"' in str(report.errors[0])


def test_rft_record_bounds():
    # Given 99 prompts where RFT needs 100 to 20,000
    report = run([GOOD] * 99, min_records=100, max_records=20_000)

    # Then too few is an error
    assert [str(f) for f in report.errors] == ["r.jsonl: 99 records; at least 100 required"]
