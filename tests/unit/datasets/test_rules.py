"""DatasetRules: only invalid rules may raise, with a clear message."""

import json

import pytest

from tailor.datasets import FORMATS, DatasetRules
from tailor.datasets.rules import MediaRules


def test_formats_are_the_documented_families():
    # Then the public tuple lists every family the validator knows
    assert FORMATS == ("prompt_completion", "converse", "converse_prompts", "claude_messages", "text_input", "rft_chat")
    for fmt in FORMATS:
        assert DatasetRules(fmt).format == fmt


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"format": "openai_chat"}, "unknown dataset format 'openai_chat'; allowed: prompt_completion, converse"),
        ({"format": "converse", "min_records": -1}, "min_records must be a non-negative integer"),
        ({"format": "converse", "max_records": 1.5}, "max_records must be a non-negative integer"),
        ({"format": "converse", "max_bytes": -5}, "max_bytes must be a non-negative integer"),
        ({"format": "converse", "max_tokens_per_record": -1}, "max_tokens_per_record must be"),
        ({"format": "converse", "recommended_min_records": -1}, "recommended_min_records must be"),
        ({"format": "converse", "max_line_bytes": 0}, "max_line_bytes must be positive"),
        (
            {"format": "converse", "min_records": 10, "max_records": 5},
            "min_records \\(10\\) is greater than max_records",
        ),
        ({"format": "converse", "chars_per_token": 0}, "chars_per_token must be a positive number"),
        ({"format": "converse", "chars_per_token": float("nan")}, "chars_per_token must be a positive number"),
        ({"format": "converse", "images": {"formats": ["png"], "tokens": -1}}, "tokens must be"),
        ({"format": "converse", "images": {"formats": []}}, "formats must name at least one format"),
        ({"format": "converse", "videos": {"formats": ["mp4"], "max_per_record": 0}}, "max_per_record must be a pos"),
        ({"format": "converse", "images": "png"}, "images must be media rules or None"),
        ({"format": "converse", "tool_use": "ignore"}, "tool_use must be one of error, warning"),
        ({"format": "converse", "conservative_chars_per_token": 8}, "must not be above chars_per_token"),
        ({"format": "claude_messages", "schema_version_required": True}, "applies only to the Converse formats"),
        ({"format": "converse", "reserved_words": "User:"}, "reserved_words must be a tuple of strings"),
        ({"format": "converse", "reserved_words": ("",)}, "reserved_words must hold only non-empty strings"),
        (
            {"format": "converse", "single_turn_only": True},
            "single_turn_only applies only to format 'converse_prompts'",
        ),
        ({"format": "converse_prompts", "images": {"formats": ["png"]}}, "images, videos and reasoning apply only to"),
        ({"format": "claude_messages", "videos": {"formats": ["mp4"]}}, "images, videos and reasoning apply only to"),
        ({"format": "rft_chat", "reasoning": True}, "images, videos and reasoning apply only to"),
    ],
)
def test_invalid_rules_raise_value_error(kwargs, match):
    # Given an invalid combination
    # Then construction fails naming the problem
    with pytest.raises(ValueError, match=match):
        DatasetRules(**kwargs)


def test_lists_are_coerced_to_tuples_so_rules_stay_hashable():
    # Given reserved words and media formats as lists (e.g. loaded from YAML)
    rules = DatasetRules("converse", reserved_words=["User:", "Bot:"], images={"formats": ["png"]})

    # Then they are tuples and the rules hash
    assert rules.reserved_words == ("User:", "Bot:") and rules.images == MediaRules(("png",))
    assert hash(rules) == hash(DatasetRules("converse", reserved_words=("User:", "Bot:"), images=MediaRules(("png",))))


def test_rules_survive_the_json_round_trip_the_job_resource_makes():
    # Given rules with every kind of value, nested media included
    rules = DatasetRules(
        "converse",
        reserved_words=("User:",),
        discouraged_words=("USER:",),
        images=MediaRules(("png", "gif"), max_per_message=10, tokens=5),
        videos=MediaRules(("mp4",), max_per_record=1),
        reasoning=True,
        tool_use="warning",
        conservative_chars_per_token=4,
    )

    # When written as JSON and read back (as the custom resource's properties are)
    back = DatasetRules.from_json(json.loads(json.dumps(rules.to_json())))

    # Then nothing is lost, and an unknown rule from a newer Tailor is refused by name
    assert back == rules
    with pytest.raises(ValueError, match="unknown dataset rule"):
        DatasetRules.from_json({**rules.to_json(), "allow_images": True})


@pytest.mark.parametrize(
    ("kwargs", "limit"),
    [
        ({}, 8 * 1024 * 1024),
        ({"max_tokens_per_record": 32_000}, 32_000 * 6 * 12 + 1024 * 1024),
        ({"max_tokens_per_record": 10**9}, 8 * 1024 * 1024),
        ({"max_tokens_per_record": 10**9, "max_line_bytes": 100}, 100),
    ],
)
def test_line_limit(kwargs, limit):
    # Then the line limit derives from the token limit, capped, unless set
    assert DatasetRules("converse", **kwargs).line_limit == limit
