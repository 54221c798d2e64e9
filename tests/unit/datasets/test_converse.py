"""Converse records: fine-tuning (converse), distillation prompts (converse_prompts), media items."""

import io
import json

import pytest

from tailor.datasets import DatasetRules, validate_stream

NOVA_RESERVED = ("User:", "Bot:", "Assistant:", "System:", "<image>", "<video>", "[EOS]")


def turn(role, *items):
    return {"role": role, "content": [{"text": i} if isinstance(i, str) else i for i in items]}


def record(*messages, **extra):
    return {
        "schemaVersion": "bedrock-conversation-2024",
        "system": [{"text": "Be brief."}],
        "messages": list(messages),
        **extra,
    }


def image(uri="s3://data/img/1.png", fmt="png", **location):
    return {"image": {"format": fmt, "source": {"s3Location": {"uri": uri, **location}}}}


def video(uri="s3://data/v/1.mp4", fmt="mp4"):
    return {"video": {"format": fmt, "source": {"s3Location": {"uri": uri}}}}


GOOD = record(turn("user", "Hi"), turn("assistant", "Hello!"))
IMAGES = {"images": {"formats": ["png", "jpeg", "gif", "webp"], "tokens": 1601}}
MEDIA = {**IMAGES, "videos": {"formats": ["mov", "mkv", "mp4"], "max_per_record": 1}}


def run(records, fmt="converse", bucket=None, **rules):
    data = "".join(json.dumps(r) + "\n" for r in records).encode()
    report = validate_stream(io.BytesIO(data), DatasetRules(fmt, **rules), source="t.jsonl", dataset_bucket=bucket)
    return report


def errors(report):
    return [str(f) for f in report.errors]


def warnings(report):
    return [str(f) for f in report.warnings]


def test_valid_single_and_multi_turn_records_pass():
    # Given single-turn, multi-turn and minimal (no system, no schemaVersion) records
    multi = record(turn("user", "a"), turn("assistant", "b"), turn("user", "c", "d"), turn("assistant", "e"))
    minimal = {"messages": [turn("user", "q"), turn("assistant", "r")]}

    # When validated
    report = run([GOOD, multi, minimal])

    # Then all pass; tokens count system and message texts
    assert report.ok, report.render()
    assert report.records == 3 and report.warnings == ()
    assert report.max_record_tokens == 3  # "Be brief." + a b c d e = 14 chars


@pytest.mark.parametrize(
    ("rec", "expected"),
    [
        (
            record(turn("user", "a"), turn("bot", "b")),
            't.jsonl:2: messages[1].role is "bot"; allowed: "user", "assistant"',
        ),
        (
            record(turn("assistant", "a"), turn("user", "b")),
            't.jsonl:2: messages[0].role is "assistant"; expected "user" (roles alternate, starting with "user")',
        ),
        (
            record(turn("user", "a"), turn("user", "b")),
            't.jsonl:2: messages[1].role is "user"; expected "assistant" (roles alternate, starting with "user")',
        ),
        (
            record(turn("user", "a")),
            't.jsonl:2: messages[0] is the last message and has role "user"; '
            'a fine-tuning record must end with an "assistant" message',
        ),
        (
            record(),
            't.jsonl:2: messages is an empty array; expected a non-empty array of {"role": ..., "content": [...]}',
        ),
        (
            {"system": [{"text": "s"}]},
            't.jsonl:2: messages is missing; expected a non-empty array of {"role": ..., "content": [...]}',
        ),
        (
            record(turn("user", ""), turn("assistant", "b")),
            "t.jsonl:2: messages[0].content[0].text is empty; a message needs at least one non-empty text or media "
            "item",
        ),
        (
            record({"role": "user", "content": "hi"}, turn("assistant", "b")),
            't.jsonl:2: messages[0].content is a string; expected a non-empty array like [{"text": "..."}]',
        ),
        (
            record({"role": "user"}, turn("assistant", "b")),
            't.jsonl:2: messages[0].content is missing; expected a non-empty array like [{"text": "..."}]',
        ),
        (
            record({"content": [{"text": "a"}]}, turn("assistant", "b")),
            't.jsonl:2: messages[0] has no role; expected "user"',
        ),
        (
            record(turn("user", {"text": "a", "image": {}}), turn("assistant", "b")),
            't.jsonl:2: messages[0].content[0] has keys "text", "image"; an item has exactly one of "text"',
        ),
        (
            record(turn("user", {"toolUse": {}}), turn("assistant", "b")),
            "t.jsonl:2: messages[0].content[0] is a toolUse item; tool use is not supported for this customization "
            "(it may fail the job)",
        ),
        (
            record(turn("user", image()), turn("assistant", "b")),
            "t.jsonl:2: messages[0].content[0] is an image item; this model takes no images for this customization; "
            'allowed: "text"',
        ),
        (
            record(turn("user", 7), turn("assistant", "b")),
            't.jsonl:2: messages[0].content[0] is a number; expected one of "text" such as {"text": "..."}',
        ),
        (
            record(turn("user", "a"), "assistant: b"),
            't.jsonl:2: messages[1] is a string; expected {"role": "assistant", "content": [...]}',
        ),
        (
            {**GOOD, "schemaVersion": 2024},
            't.jsonl:2: schemaVersion is a number; expected a string like "bedrock-conversation-2024"',
        ),
        ({**GOOD, "system": "Be brief."}, 't.jsonl:2: system is a string; expected an array such as [{"text": "..."}]'),
        ({**GOOD, "system": [{"text": "a"}, "b"]}, 't.jsonl:2: system[1] is "b"; expected {"text": "..."}'),
    ],
)
def test_each_converse_defect_is_reported_at_its_line(rec, expected):
    # Given a valid first record and a defective second one
    # When validated
    report = run([GOOD, rec])

    # Then that defect is reported at line 2
    assert errors(report) == [expected]


def test_unknown_keys_are_warnings_for_converse():
    # Given extra keys at the top level and in a message (Nova ignores them; others UNCONFIRMED)
    rec = {**GOOD, "id": 7}
    rec["messages"] = [{**turn("user", "a"), "name": "x"}, turn("assistant", "b")]

    # When validated
    report = run([rec])

    # Then the record passes, with warnings naming the keys
    assert report.ok
    assert warnings(report) == [
        't.jsonl:1: unknown key "id" in the record; Bedrock documents "schemaVersion", "system", "messages"',
        't.jsonl:1: unknown key "name" in messages[0]; Bedrock documents "role", "content"',
    ]


def test_empty_system_text_is_a_warning():
    # Given an empty system prompt
    report = run([{**GOOD, "system": [{"text": ""}]}])

    # Then it passes with a warning
    assert report.ok and report.warning_count == 1
    assert "system[0].text is empty" in warnings(report)[0]


def test_reserved_words_in_system_and_messages():
    # Given Nova's reserved words in the system prompt and in an assistant text
    bad_system = {**GOOD, "system": [{"text": "System: be nice"}]}
    bad_answer = record(turn("user", "q"), turn("assistant", "ok", "then [EOS]"))

    # When validated with Nova rules
    report = run([GOOD, bad_system, bad_answer], reserved_words=NOVA_RESERVED)

    # Then each is named with its path and line
    assert [f.line for f in report.errors] == [2, 3]
    assert 'system[0].text contains the reserved word "System:"' in errors(report)[0]
    assert 'messages[1].content[1].text contains the reserved word "[EOS]"' in errors(report)[1]


def test_reserved_words_hidden_by_unicode_escapes_are_found():
    # Given "<image>" spelled with JSON \u escapes, as ensure_ascii writers may do
    line = json.dumps(record(turn("user", "see <image> here"), turn("assistant", "b"))).replace("<", "\\u003c")

    # When validated
    report = validate_stream(
        io.BytesIO(line.encode()), DatasetRules("converse", reserved_words=NOVA_RESERVED), source="t.jsonl"
    )

    # Then the decoded text is what's checked
    assert 'contains the reserved word "<image>"' in errors(report)[0]


def test_images_accepted_when_allowed_and_add_tokens():
    # Given a record with an image in the user turn
    rec = record(turn("user", image(bucketOwner="111122223333"), "What is this?"), turn("assistant", "A cat."))

    # When validated with images allowed and the same dataset bucket
    report = run([rec], bucket="data", **IMAGES)

    # Then it passes and the image adds its tokens
    assert report.ok, report.render()
    assert report.total_estimated_tokens == 1601 + 5  # 9 + 13 + 6 = 28 chars -> 5 tokens


@pytest.mark.parametrize(
    ("item", "role", "expected"),
    [
        (
            image(fmt="bmp"),
            "user",
            'messages[0].content[0].image.format is "bmp"; allowed: "png", "jpeg", "gif", "webp"',
        ),
        (
            image(uri="https://x/y.png"),
            "user",
            'messages[0].content[0].image.source.s3Location.uri is "https://x/y.png"; '
            'expected an S3 URI like "s3://bucket/key"',
        ),
        (image(uri="s3://data"), "user", 'uri is "s3://data"; expected an S3 URI'),
        (
            image(uri="s3://other/a.png"),
            "user",
            'image.source.s3Location.uri is in bucket "other"; media must be in the dataset\'s bucket "data"',
        ),
        (
            {"image": {"format": "png", "source": {"bytes": "AAAA"}}},
            "user",
            'image.source is an object; expected {"s3Location": {"uri": "s3://bucket/key"}} (media are read from S3)',
        ),
        ({"image": "s3://data/a.png"}, "user", "messages[0].content[0].image is a string; expected"),
        (image(bucketOwner=1), "user", "bucketOwner is a number; expected an account ID string"),
    ],
)
def test_image_defects(item, role, expected):
    # Given a record whose first user turn holds a defective image
    rec = record(turn("user", item, "q"), turn("assistant", "a"))

    # When validated with images allowed in bucket "data"
    report = run([rec], bucket="data", **IMAGES)

    # Then the defect is reported
    assert len(report.errors) == 1 and expected in errors(report)[0], errors(report)


def test_image_in_assistant_turn_is_an_error():
    # Given an image in an assistant message
    rec = record(turn("user", "q"), turn("assistant", image()))

    # When validated
    report = run([rec], **IMAGES)

    # Then it is rejected: media go in user turns
    assert errors(report) == [
        't.jsonl:1: messages[1].content[0].image is in an "assistant" message; '
        'images are allowed only in "user" messages'
    ]


def test_video_rules_one_per_record_and_no_mixing_with_images():
    # Given a video record, a record with two videos, and an image record after video records
    one = record(turn("user", video(), "q"), turn("assistant", "a"))
    two = record(turn("user", video(), video(), "q"), turn("assistant", "a"))
    img = record(turn("user", image(), "q"), turn("assistant", "a"))

    # When validated with both media kinds allowed
    report = run([one, two, img], **MEDIA)

    # Then the second video and the mixed dataset are errors
    assert errors(report) == [
        "t.jsonl:2: messages[0].content[1].video is video number 2 in this record; at most 1 per record",
        "t.jsonl:3: messages[0].content[0].image is an image, but this dataset's first media item is a video "
        "(line 1); a dataset is text with images or text with videos, never both",
    ]


def test_converse_prompts_allow_missing_golden_response():
    # Given distillation prompts with and without a golden response, and a multi-turn one
    prompt_only = record(turn("user", "q"))
    golden = record(turn("user", "q"), turn("assistant", "a"))
    multi = record(turn("user", "q"), turn("assistant", "a"), turn("user", "q2"))

    # When validated as converse_prompts (Nova students take multi-turn)
    report = run([prompt_only, golden, multi], fmt="converse_prompts")

    # Then all pass
    assert report.ok, report.render()


def test_converse_prompts_single_turn_only():
    # Given a multi-turn prompt for a single-turn (Anthropic/Llama) student
    multi = record(turn("user", "q"), turn("assistant", "a"), turn("user", "q2"))

    # When validated with single_turn_only
    report = run([record(turn("user", "q")), multi], fmt="converse_prompts", single_turn_only=True)

    # Then only the multi-turn record fails
    assert errors(report) == [
        "t.jsonl:2: messages has 3 messages; this student model takes single-turn prompts: "
        'one "user" message, optionally followed by one "assistant" message'
    ]


def test_converse_prompts_are_text_only():
    # Given an image in a distillation prompt
    rec = record(turn("user", image(), "q"))

    # When validated as converse_prompts
    report = run([rec], fmt="converse_prompts")

    # Then the image item is rejected
    assert errors(report) == [
        "t.jsonl:1: messages[0].content[0] is an image item; this model takes no images for this customization; "
        'allowed: "text"'
    ]


def test_record_level_token_limit_counts_images():
    # Given a record with two images and a 2-image-sized limit minus one token
    rec = record(turn("user", image(), image(uri="s3://data/2.png"), "q"), turn("assistant", "a"))

    # When validated with a limit below the estimate
    report = run([rec], max_tokens_per_record=3202, **IMAGES)

    # Then the record is over the limit
    assert "record is about 3,204 tokens" in errors(report)[0]  # 2 images + 11 chars
