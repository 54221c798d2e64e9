"""The rule corpus: for every rule in docs/dataset-rules.md, a valid file and a file with exactly that defect.

Each case validates against the catalog's own rules for a real model (catalog/models.yaml), so the limits
enforced are the catalog's. Files are written to a temporary directory: a valid filler record repeated up to the
rules' minimum count, with the case's record as line 2.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tailor.config.catalog import load_catalog
from tailor.datasets import validate_path

ROOT = Path(__file__).resolve().parents[3]
CATALOG = load_catalog()
RULES_DOC = ROOT / "docs" / "dataset-rules.md"

MICRO, LITE, PRO = "amazon.nova-micro-v1:0:128k", "amazon.nova-lite-v1:0:300k", "amazon.nova-pro-v1:0:300k"
NOVA2, TITAN = "amazon.nova-2-lite-v1:0:256k", "amazon.titan-text-express-v1:0:8k"
CLAUDE, LLAMA31, LLAMA32 = (
    "anthropic.claude-3-haiku-20240307-v1:0:200k",
    "meta.llama3-1-8b-instruct-v1:0:128k",
    "meta.llama3-2-1b-instruct-v1:0:128k",
)
LLAMA32_3B, LLAMA33 = "meta.llama3-2-3b-instruct-v1:0:128k", "meta.llama3-3-70b-instruct-v1:0:128k"
FT, DIST, RFT, CPT = "fine_tuning", "distillation", "reinforcement_fine_tuning", "continued_pre_training"
BUCKET = "data"


def txt(text):
    return {"text": text}


def img(fmt="png", n=0):
    return {"image": {"format": fmt, "source": {"s3Location": {"uri": f"s3://{BUCKET}/i/{n}.{fmt}"}}}}


def vid(fmt="mp4", n=0):
    return {"video": {"format": fmt, "source": {"s3Location": {"uri": f"s3://{BUCKET}/v/{n}.{fmt}"}}}}


def reasoning(text="Think it through."):
    return {"reasoningContent": {"reasoningText": {"text": text}}}


def conv(*turns, system="Be brief.", **extra):
    """A Converse record; each turn is a list of items, roles alternate from user."""
    messages = [{"role": "assistant" if i % 2 else "user", "content": list(t)} for i, t in enumerate(turns)]
    rec = {"schemaVersion": "bedrock-conversation-2024", "messages": messages, **extra}
    if system is not None:
        rec["system"] = [txt(system)]
    return rec


QA = conv([txt("Hi")], [txt("Hello!")])
PROMPT = conv([txt("Why is the sky blue?")])
CLAUDE_QA = {
    "system": "Be brief.",
    "messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}],
}
RFT_Q = {"messages": [{"role": "user", "content": "2+2?"}], "reference_answer": {"answer": 4}}
PC = {"prompt": "Q?", "completion": "A."}
FILLER = {
    (MICRO, FT): QA,
    (LITE, FT): QA,
    (PRO, FT): QA,
    (NOVA2, FT): QA,
    (LITE, DIST): PROMPT,
    (LLAMA31, DIST): PROMPT,
    (LLAMA32, FT): QA,
    (LLAMA31, FT): PC,
    (CLAUDE, FT): CLAUDE_QA,
    (TITAN, FT): PC,
    (TITAN, CPT): {"input": "Some text."},
    (NOVA2, RFT): RFT_Q,
}

BY_FORMAT = {
    "converse": QA,
    "converse_prompts": PROMPT,
    "claude_messages": CLAUDE_QA,
    "prompt_completion": PC,
    "text_input": {"input": "Some text."},
    "rft_chat": RFT_Q,
}

# (rule id, model, type, valid record, defective record, severity, expected message at line 2)
CASES = [
    (
        "nova-media-none",
        MICRO,
        FT,
        QA,
        conv([img(), txt("q")], [txt("a")]),
        "error",
        'messages[0].content[0] is an image item; this model takes no images for this customization; allowed: "text"',
    ),
    (
        "nova-image-formats",
        LITE,
        FT,
        conv([img("webp"), txt("q")], [txt("a")]),
        conv([img("bmp"), txt("q")], [txt("a")]),
        "error",
        'messages[0].content[0].image.format is "bmp"; allowed: "png", "jpeg", "gif", "webp"',
    ),
    (
        "nova2-image-formats",
        NOVA2,
        FT,
        conv([img("gif"), txt("q")], [txt("a")]),
        conv([img("webp"), txt("q")], [txt("a")]),
        "error",
        'messages[0].content[0].image.format is "webp"; allowed: "png", "jpeg", "gif"',
    ),
    (
        "nova-video-formats",
        PRO,
        FT,
        conv([vid("webm"), txt("q")], [txt("a")]),
        conv([vid("avi"), txt("q")], [txt("a")]),
        "error",
        'messages[0].content[0].video.format is "avi"; allowed: "mov", "mkv", "mp4", "webm"',
    ),
    (
        "nova2-video-formats",
        NOVA2,
        FT,
        conv([vid("mkv"), txt("q")], [txt("a")]),
        conv([vid("webm"), txt("q")], [txt("a")]),
        "error",
        'messages[0].content[0].video.format is "webm"; allowed: "mov", "mkv", "mp4"',
    ),
    (
        "nova-images-per-message",
        LITE,
        FT,
        conv([img(n=i) for i in range(10)] + [txt("q")], [txt("a")]),
        conv([img(n=i) for i in range(11)] + [txt("q")], [txt("a")]),
        "error",
        "messages[0] has 11 images; at most 10 per message",
    ),
    (
        "nova-videos-per-record",
        LITE,
        FT,
        conv([vid(), txt("q")], [txt("a")]),
        conv([vid(), txt("q")], [txt("a")], [vid(n=1), txt("q2")], [txt("b")]),
        "error",
        "messages[2].content[0].video is video number 2 in this record; at most 1 per record",
    ),
    (
        "nova-no-mixing",
        NOVA2,
        FT,
        conv([vid(), txt("q")], [txt("a")]),
        conv([vid(), img(), txt("q")], [txt("a")]),
        "error",
        "messages[0].content[1].image is an image, but this dataset's first media item is a video (line 2); "
        "a dataset is text with images or text with videos, never both",
    ),
    (
        "media-user-turns-only",
        LITE,
        FT,
        conv([img(), txt("q")], [txt("a")]),
        conv([txt("q")], [img(), txt("a")]),
        "error",
        'messages[1].content[0].image is in an "assistant" message; images are allowed only in "user" messages',
    ),
    (
        "media-same-bucket",
        LITE,
        FT,
        conv([img(), txt("q")], [txt("a")]),
        conv(
            [{"image": {"format": "png", "source": {"s3Location": {"uri": "s3://other/i.png"}}}}, txt("q")], [txt("a")]
        ),
        "error",
        'messages[0].content[0].image.source.s3Location.uri is in bucket "other"; '
        'media must be in the dataset\'s bucket "data"',
    ),
    (
        "media-uri-characters",
        LITE,
        FT,
        conv([img(), txt("q")], [txt("a")]),
        conv(
            [{"image": {"format": "png", "source": {"s3Location": {"uri": "s3://data/my photo.png"}}}}, txt("q")],
            [txt("a")],
        ),
        "warning",
        'messages[0].content[0].image.source.s3Location.uri "s3://data/my photo.png" has characters other than '
        "letters, digits, _ - / . which AWS's sample validators reject",
    ),
    (
        "nova2-reasoning",
        NOVA2,
        FT,
        conv([txt("q")], [reasoning(), txt("a")]),
        conv([txt("q")], [reasoning(""), txt("a")]),
        "error",
        "messages[1].content[0].reasoningContent.reasoningText.text is empty; it must be non-empty text",
    ),
    (
        "nova2-reasoning-assistant-only",
        NOVA2,
        FT,
        conv([txt("q")], [reasoning(), txt("a")]),
        conv([reasoning(), txt("q")], [txt("a")]),
        "error",
        'messages[0].content[0].reasoningContent is in a "user" message; reasoning content is allowed only in '
        '"assistant" messages',
    ),
    (
        "nova2-reasoning-needs-text",
        NOVA2,
        FT,
        conv([txt("q")], [reasoning(), txt("a")]),
        conv([txt("q")], [reasoning()]),
        "error",
        "messages[1] has reasoning content but no text; the answer must follow as text",
    ),
    (
        "nova1-no-reasoning",
        PRO,
        FT,
        QA,
        conv([txt("q")], [reasoning(), txt("a")]),
        "error",
        "messages[1].content[0] is a reasoningContent item; this model takes no reasoning content; "
        'allowed: "text", "image", "video"',
    ),
    (
        "nova2-no-tools",
        NOVA2,
        FT,
        QA,
        conv([txt("q")], [txt("a")], toolConfig={"tools": []}),
        "error",
        "the record has a toolConfig; tool use is not supported for this customization (it may fail the job)",
    ),
    (
        "nova1-tools-unchecked",
        MICRO,
        FT,
        QA,
        conv([txt("q")], [{"toolUse": {"toolUseId": "1"}}]),
        "warning",
        "messages[1].content[0] is a toolUse item: this customization's documentation does not describe tool use; "
        "Tailor does not check it",
    ),
    (
        "nova-reserved-words",
        MICRO,
        FT,
        conv([txt("User Bot Assistant")], [txt("a")]),
        conv([txt("q")], [txt("a")], system="System: be nice"),
        "error",
        'system[0].text contains the reserved word "System:", which fails the job; text must not contain any of: '
        '"User:", "Bot:", "Assistant:", "System:", "<image>", "<video>", "[EOS]" (case-sensitive)',
    ),
    (
        "nova-reserved-case",
        MICRO,
        FT,
        conv([txt("user: hi")], [txt("a")]),
        conv([txt("USER: hi")], [txt("a")]),
        "warning",
        'messages[0].content[0].text contains "USER:": AWS\'s sample validators reject it although the documentation '
        'does not list it; rephrase to be safe (they also flag: "SYSTEM:", "USER:", "BOT:", "ASSISTANT:", '
        '"Thought:", "<unk>")',
    ),
    (
        "converse-roles",
        MICRO,
        FT,
        QA,
        conv([txt("q")], [txt("a")], [txt("b")]),
        "error",
        'messages[2] is the last message and has role "user"; '
        'a fine-tuning record must end with an "assistant" message',
    ),
    (
        "converse-empty-content",
        MICRO,
        FT,
        QA,
        conv([txt("")], [txt("a")]),
        "error",
        "messages[0].content[0].text is empty; a message needs at least one non-empty text or media item",
    ),
    (
        "nova-context-limit",
        MICRO,
        FT,
        conv([txt("字" * 1000)], [txt("a")]),
        conv([txt("字" * 128_001)], [txt("a")]),
        "error",
        "record is about 128,003 tokens (at 6 characters per token for ASCII text, about one per CJK character); "
        "at most 128,000 allowed",
    ),
    (
        "llama-system-blocks",
        LLAMA32,
        FT,
        QA,
        {**QA, "system": [txt("a"), txt("b")]},
        "error",
        "system has 2 entries; at most 1 allowed for this model",
    ),
    (
        "llama-token-limit",
        LLAMA31,
        FT,
        {"prompt": "q" * 60_000, "completion": "a"},
        {"prompt": "q" * 96_000, "completion": "a"},
        "error",
        "record is about 16,001 tokens (at 6 characters per token for ASCII text, about one per CJK character); "
        "at most 16,000 allowed",
    ),
    (
        "conservative-rate",
        LLAMA31,
        FT,
        {"prompt": "q" * 60_000, "completion": "a"},
        {"prompt": "q" * 70_000, "completion": "a"},
        "warning",
        "record may be over the 16,000-token limit: about 17,501 tokens at 4 characters per token, the rate real "
        "tokenizers show on code and non-English Latin text (within it at the documented 6); shorten it if the job "
        "fails on length",
    ),
    (
        "claude-format",
        CLAUDE,
        FT,
        CLAUDE_QA,
        {"messages": [{"role": "user", "content": [{"text": "Hi"}]}, {"role": "assistant", "content": "a"}]},
        "error",
        "messages[0].content is an array; Claude 3 Haiku fine-tuning takes a string",
    ),
    (
        "claude-discouraged",
        CLAUDE,
        FT,
        CLAUDE_QA,
        {"messages": [{"role": "user", "content": "Hi\nHuman: more"}, {"role": "assistant", "content": "a"}]},
        "warning",
        'messages[0].content contains "\\nHuman:": AWS\'s sample validators reject it although the documentation '
        'does not list it; rephrase to be safe (they also flag: "\\nHuman:", "\\nAssistant:")',
    ),
    (
        "distillation-schema-version",
        LITE,
        DIST,
        PROMPT,
        {k: v for k, v in PROMPT.items() if k != "schemaVersion"},
        "error",
        'schemaVersion is missing; distillation prompts require "bedrock-conversation-2024"',
    ),
    (
        "distillation-text-only",
        LITE,
        DIST,
        PROMPT,
        conv([img(), txt("q")]),
        "error",
        'messages[0].content[0] is an image item; this model takes no images for this customization; allowed: "text"',
    ),
    (
        "distillation-single-turn",
        LLAMA31,
        DIST,
        conv([txt("q")], [txt("a")]),
        conv([txt("q")], [txt("a")], [txt("q2")]),
        "error",
        'messages has 3 messages; this student model takes single-turn prompts: one "user" message, optionally '
        'followed by one "assistant" message',
    ),
    (
        "distillation-words",
        LITE,
        DIST,
        PROMPT,
        conv([txt("User: q")]),
        "warning",
        'messages[0].content[0].text contains "User:": AWS\'s sample validators reject it although the documentation '
        'does not list it; rephrase to be safe (they also flag: "User:", "Bot:", "Assistant:", "System:", "<image>", '
        '"<video>", "[EOS]", "SYSTEM:", "USER:", "BOT:", "ASSISTANT:", "Thought:", "<unk>")',
    ),
    (
        "rft-system-first",
        NOVA2,
        RFT,
        RFT_Q,
        {"messages": [{"role": "user", "content": "q"}, {"role": "system", "content": "s"}], "reference_answer": 1},
        "error",
        'messages[1] has role "system"; a system message may only come first',
    ),
    (
        "titan-prompt-completion",
        TITAN,
        FT,
        PC,
        {"prompt": "q", "completion": "a", "answer": "x"},
        "error",
        'unknown key "answer" in the record; allowed: "prompt", "completion"',
    ),
    (
        "json-message",
        TITAN,
        CPT,
        {"input": "ok"},
        '{"input": "unterminated',
        "error",
        "invalid JSON at column 11: unterminated string; each line must be one JSON object",
    ),
]


def write(tmp_path, name, lines):
    path = tmp_path / f"{name}.jsonl"
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x, ensure_ascii=False)) + "\n" for x in lines))
    return path


def corpus_file(tmp_path, name, model, ctype, record):
    rules = CATALOG.models[model].customizations[ctype].training_rules
    filler = FILLER[(model, ctype)]
    count = max(rules.min_records or 0, rules.recommended_min_records or 0, 2)
    return rules, write(tmp_path, name, [filler, record] + [filler] * (count - 2))


@pytest.mark.parametrize(
    ("rule", "model", "ctype", "valid", "defect", "severity", "message"), CASES, ids=[c[0] for c in CASES]
)
def test_each_rule_accepts_its_valid_file_and_names_its_defect(
    tmp_path, rule, model, ctype, valid, defect, severity, message
):
    # Given the catalog's rules for the model, a valid file and the same file with one defect on line 2
    rules, good = corpus_file(tmp_path, "good", model, ctype, valid)
    _, bad = corpus_file(tmp_path, "bad", model, ctype, defect)

    # When both are validated
    ok = validate_path(good, rules, dataset_bucket=BUCKET)
    report = validate_path(bad, rules, dataset_bucket=BUCKET)

    # Then the valid file passes clean, and the defect is the one finding, at line 2, with its message
    assert ok.ok and ok.warnings == (), ok.render()
    findings = report.errors if severity == "error" else report.warnings
    assert [(f.line, f.message) for f in findings] == [(2, message)], report.render()
    assert report.ok == (severity == "warning")
    if severity == "error":
        assert report.warnings == (), report.render()
    else:
        assert report.errors == (), report.render()


def test_every_rule_in_the_reference_has_a_case_and_every_case_a_rule():
    # Given the rule ids of docs/dataset-rules.md (`rule-id` in the first column of its tables)
    documented = set(re.findall(r"^\| `([a-z0-9-]+)` \|", RULES_DOC.read_text(), flags=re.M))

    # Then the corpus covers exactly those rules
    assert documented == {c[0] for c in CASES} | FILE_RULES


# Rules checked on whole files (counts, sizes) or by another family's layout, by the tests below.
FILE_RULES = {"record-counts", "validation-set", "file-size", "foreign-family"}


@pytest.mark.parametrize(
    ("model", "ctype"),
    [(m.model_id, t) for m in CATALOG.models.values() for t in m.customizations],
)
def test_each_catalog_model_enforces_its_documented_record_counts(tmp_path, model, ctype):
    # Given a model's training rules from the catalog
    rules = CATALOG.models[model].customizations[ctype].training_rules
    filler = BY_FORMAT[rules.format]

    # When a file has one record fewer than the minimum
    if rules.min_records and rules.min_records > 1:
        short = validate_path(write(tmp_path, "short", [filler] * (rules.min_records - 1)), rules)
        # Then exactly that is reported
        expected = f"{rules.min_records - 1:,} records; at least {rules.min_records:,} required"
        assert [f.message for f in short.errors] == [expected]
    # And at the minimum (or one record), only the recommendation may warn
    at_least = validate_path(write(tmp_path, "enough", [filler] * max(rules.min_records or 1, 1)), rules)
    assert at_least.ok, at_least.render()


@pytest.mark.parametrize(
    ("model", "ctype", "training_min", "training_max", "validation_max", "tokens"),
    [
        (MICRO, FT, 8, 20_000, 20_000, 128_000),
        (LITE, FT, 8, 20_000, 20_000, 300_000),
        (PRO, FT, 8, 20_000, 20_000, 300_000),
        (NOVA2, FT, 200, 20_000, None, 256_000),
        (NOVA2, RFT, 100, 20_000, 20_000, 256_000),
        (LITE, DIST, 100, 15_000, None, None),
        (LLAMA31, DIST, None, 15_000, None, None),
        (LLAMA31, FT, 100, 10_000, 1_000, 16_000),
        (LLAMA32, FT, 100, 10_000, 1_000, 16_000),
        (CLAUDE, FT, 32, 10_000, 1_000, 32_000),
        (TITAN, FT, 1, 10_000, 1_000, 4_096),
        (TITAN, CPT, 1, 100_000, 1_000, 4_096),
        (MICRO, DIST, 100, 15_000, None, None),
        (PRO, DIST, 100, 15_000, None, None),
        (LLAMA32, DIST, None, 15_000, None, None),
        (LLAMA32_3B, FT, 100, 10_000, 1_000, 16_000),
        (LLAMA32_3B, DIST, None, 15_000, None, None),
        (LLAMA33, FT, 100, 10_000, 1_000, 16_000),
        (LLAMA33, DIST, None, 15_000, None, None),
    ],
)
def test_documented_limits_are_the_catalogs(model, ctype, training_min, training_max, validation_max, tokens):
    # Given the limits docs/dataset-rules.md cites for this model and type
    customization = CATALOG.models[model].customizations[ctype]
    training, validation = customization.training_rules, customization.validation_rules

    # Then the catalog carries exactly them
    assert (training.min_records, training.max_records, training.max_tokens_per_record) == (
        training_min,
        training_max,
        tokens,
    )
    assert (validation.max_records if validation else None) == validation_max


def test_the_limits_table_covers_every_model_and_type_of_the_catalog():
    # Every (model, type) the catalog offers has its documented limits checked above: a new one must join them
    checked = {
        (mark.args[1][i][0], mark.args[1][i][1])
        for mark in test_documented_limits_are_the_catalogs.pytestmark
        if mark.name == "parametrize"
        for i in range(len(mark.args[1]))
    }
    offered = {(model, ctype) for model, m in CATALOG.models.items() for ctype in m.customizations}
    assert offered - checked == set()


def test_a_validation_file_over_its_limit_and_a_file_over_its_size_are_errors(tmp_path):
    # Given Llama 3.2's validation rules (at most 1,000 records) and Titan's 100 MB validation limit, scaled down
    validation = CATALOG.models[LLAMA32].customizations[FT].validation_rules
    big = validate_path(write(tmp_path, "val", [QA] * 1_001), validation)
    titan = CATALOG.models[TITAN].customizations[FT].validation_rules

    # Then the count is named, and the byte limit is the catalog's
    assert [f.message for f in big.errors] == ["1,001 records; at most 1,000 allowed"]
    assert titan.max_bytes == 100 * 1024 * 1024
    assert CATALOG.models[TITAN].customizations[CPT].training_rules.max_bytes == 10 * 1024**3
    assert CATALOG.models[NOVA2].customizations[FT].validation_rules is None  # validation-set: none on Nova 2 SFT


def test_a_claude_validation_set_under_32_records_warns_and_passes(tmp_path):
    # Given Claude 3 Haiku's validation rules: at most 1,000 records, 32 recommended (VH; AWS documents no minimum)
    validation = CATALOG.models[CLAUDE].customizations[FT].validation_rules
    short = validate_path(write(tmp_path, "short", [CLAUDE_QA] * 31), validation)
    enough = validate_path(write(tmp_path, "enough", [CLAUDE_QA] * 32), validation)
    # Then 31 records pass with the recommendation as a warning, and 32 pass without one
    assert short.ok and [f.message for f in short.warnings] == ["31 records; at least 32 recommended"]
    assert enough.ok and not enough.warnings


def test_a_file_in_another_familys_format_gets_one_hint(tmp_path):
    # Given Claude-style records (string content) handed to a Nova fine-tuning job
    rules = CATALOG.models[MICRO].customizations[FT].training_rules
    report = validate_path(write(tmp_path, "claude", [CLAUDE_QA] * 12), rules)

    # Then there is one error naming both families and the first line, not one per record
    assert [str(f) for f in report.errors] == [
        f"{tmp_path / 'claude.jsonl'}: 12 records look like claude_messages records "
        '({"system": "...", "messages": [{"role": "user", "content": "..."}, ...]}), first on line 1; this dataset '
        'needs converse records like {"schemaVersion": "bedrock-conversation-2024", "messages": [{"role": "user", '
        '"content": [{"text": "..."}]}, ...]}'
    ]
