"""claude_messages records (Claude 3 Haiku fine-tuning)."""

import io
import json

import pytest

from tailor.datasets import DatasetRules, validate_stream

GOOD = {
    "system": "You are terse.",
    "messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}],
}


def run(records, **rules):
    data = "".join(json.dumps(r) + "\n" for r in records).encode()
    return validate_stream(io.BytesIO(data), DatasetRules("claude_messages", **rules), source="c.jsonl")


def errors(report):
    return [str(f) for f in report.errors]


def msgs(*pairs):
    return [{"role": r, "content": c} for r, c in pairs]


def test_valid_records_pass():
    # Given a single-turn record with system and a multi-turn one without
    multi = {"messages": msgs(("user", "a"), ("assistant", "b"), ("user", "c"), ("assistant", "d"))}

    # When validated
    report = run([GOOD, multi])

    # Then both pass; tokens count system and contents
    assert report.ok, report.render()
    assert report.total_estimated_tokens == 4 + 1  # 21 chars -> 4; 4 chars -> 1


@pytest.mark.parametrize(
    ("rec", "expected"),
    [
        ({**GOOD, "id": 1}, 'c.jsonl:2: unknown key "id" in the record; allowed: "system", "messages"'),
        ({**GOOD, "system": ["s"]}, "c.jsonl:2: system is an array; expected a string"),
        (
            {"messages": msgs(("user", "a"))},
            (
                'c.jsonl:2: messages[0] is the last message and has role "user"; a record must '
                'end with an "assistant" message'
            ),
        ),
        (
            {"messages": msgs(("user", "a"), ("human", "b"))},
            'c.jsonl:2: messages[1].role is "human"; allowed: "user", "assistant"',
        ),
        (
            {"messages": msgs(("assistant", "a"), ("user", "b"))},
            'c.jsonl:2: messages[0].role is "assistant"; expected "user" (roles alternate, starting with "user")',
        ),
        (
            {
                "messages": [
                    {"role": "user", "content": [{"type": "text", "text": "a"}]},
                    {"role": "assistant", "content": "b"},
                ]
            },
            "c.jsonl:2: messages[0].content is an array; Claude 3 Haiku fine-tuning takes a string",
        ),
        (
            {"messages": msgs(("user", ""), ("assistant", "b"))},
            "c.jsonl:2: messages[0].content is empty; it must be non-empty text",
        ),
        (
            {"messages": [{"role": "user", "text": "a"}, {"role": "assistant", "content": "b"}]},
            "c.jsonl:2: messages[0] has no content; expected a non-empty string",
        ),
        (
            {"messages": []},
            'c.jsonl:2: messages is an empty array; expected a non-empty array of {"role": ..., "content": "..."}',
        ),
        (
            {"messages": ["hi", {"role": "assistant", "content": "b"}]},
            'c.jsonl:2: messages[0] is a string; expected {"role": "user", "content": "..."}',
        ),
    ],
)
def test_each_defect_is_reported(rec, expected):
    # Given a valid first record and a defective second one
    # When validated
    report = run([GOOD, rec])

    # Then the defect is reported first, at line 2
    assert errors(report)[0] == expected


def test_extra_message_key_is_an_error_in_this_strict_family():
    # Given a message with a key the format doesn't have
    rec = {"messages": [{"role": "user", "content": "a", "name": "bob"}, {"role": "assistant", "content": "b"}]}

    # When validated
    report = run([rec])

    # Then it is an error naming the allowed keys
    assert errors(report) == ['c.jsonl:1: unknown key "name" in messages[0]; allowed: "role", "content"']


def test_record_bounds_for_claude_limits():
    # Given 3 valid records where Claude needs at least 32 and at most 10,000
    report = run([GOOD] * 3, min_records=32, max_records=10_000)

    # Then the count is an error without a line
    assert errors(report) == ["c.jsonl: 3 records; at least 32 required"]
    assert report.errors[0].line is None
