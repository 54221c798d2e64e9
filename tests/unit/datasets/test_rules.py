"""DatasetRules: only invalid rules may raise, with a clear message."""

import pytest

from tailor.datasets import FORMATS, DatasetRules


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
        ({"format": "converse", "tokens_per_image": -1}, "tokens_per_image must be"),
        ({"format": "converse", "reserved_words": "User:"}, "reserved_words must be a tuple of strings"),
        ({"format": "converse", "reserved_words": ("",)}, "reserved_words must hold only non-empty strings"),
        (
            {"format": "converse", "single_turn_only": True},
            "single_turn_only applies only to format 'converse_prompts'",
        ),
        ({"format": "converse_prompts", "allow_images": True}, "allow_images and allow_video apply only to"),
        ({"format": "claude_messages", "allow_video": True}, "allow_images and allow_video apply only to"),
    ],
)
def test_invalid_rules_raise_value_error(kwargs, match):
    # Given an invalid combination
    # Then construction fails naming the problem
    with pytest.raises(ValueError, match=match):
        DatasetRules(**kwargs)


def test_lists_are_coerced_to_tuples_so_rules_stay_hashable():
    # Given reserved words as a list (e.g. loaded from YAML)
    rules = DatasetRules("converse", reserved_words=["User:", "Bot:"], image_formats=["png"])

    # Then they are tuples and the rules hash
    assert rules.reserved_words == ("User:", "Bot:") and rules.image_formats == ("png",)
    assert hash(rules) == hash(DatasetRules("converse", reserved_words=("User:", "Bot:"), image_formats=("png",)))


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
