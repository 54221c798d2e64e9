"""Converse records (bedrock-conversation-2024): fine-tuning and distillation prompts (docs/dataset-rules.md).

{"schemaVersion"?: str, "system"?: [{"text": str}], "messages": [{"role": ..., "content": [item, ...]}, ...]}
Roles alternate user/assistant starting with user. Fine-tuning records end with assistant; distillation
prompts may end with either (a final assistant turn is the "golden" response). Items are text, the media the
rules allow (user turns only) and, where allowed, reasoning content (assistant turns only).
"""

from __future__ import annotations

from .common import (
    ERROR,
    WARNING,
    Checker,
    Problems,
    Record,
    Words,
    field_kind,
    kind,
    quoted,
    role_mismatch,
    show,
    text_problem,
)
from .converse_record import (
    TOP_SET,
    message_keys,
    scan_words,
    schema_version,
    shape,
    system_prompt,
    tool_use,
    top_keys,
)
from .media import Media
from .rules import DatasetRules

_ROLES = ("user", "assistant")
_TOOL_KEYS = ("toolUse", "toolResult")


class _Record:
    """What one record's slow path accumulates: text characters, media tokens, whether all text was ASCII."""

    __slots__ = ("chars", "media", "ascii")

    def __init__(self) -> None:
        self.chars = 0
        self.media = 0
        self.ascii = True


def make(rules: DatasetRules, dataset_bucket: str | None) -> Checker:
    prompts = rules.format == "converse_prompts"
    single = rules.single_turn_only
    media = Media(rules, dataset_bucket)
    allowed = ("text",) + media.kinds + (("reasoningContent",) if rules.reasoning else ())
    tools = rules.tool_use
    max_system = rules.max_system_blocks
    version_required = rules.schema_version_required

    def check(rec: Record, out: Problems, words: Words | None, line: int) -> tuple[int, int, bool]:
        scan = None if words is None else words.scan
        if not rec.keys() <= TOP_SET:
            top_keys(rec, out, tools)
        version = rec.get("schemaVersion")
        if version is not None or version_required:
            schema_version(rec, version, version_required, out)
        system = rec.get("system")
        chars = 0
        plain = True
        if system is not None:
            block = system[0] if type(system) is list and len(system) == 1 else None
            text = block.get("text") if type(block) is dict and len(block) == 1 else None
            if type(text) is str and text and (scan is None or not scan(text)):
                chars = len(text)  # hot path: the usual one system text
                plain = text.isascii()
            else:
                chars, plain = system_prompt(system, out, words, max_system)
        messages = rec.get("messages")
        if type(messages) is not list or not messages:
            out.append(
                (
                    ERROR,
                    f"messages is {field_kind(rec, 'messages')}; "
                    'expected a non-empty array of {"role": ..., "content": [...]}',
                )
            )
            return chars, 0, plain
        acc: _Record | None = None  # made on the slow path only: most records never need it
        misordered = False
        for i, message in enumerate(messages):
            expected = "assistant" if i & 1 else "user"
            if type(message) is not dict:
                out.append(
                    (ERROR, f'messages[{i}] is {kind(message)}; expected {{"role": "{expected}", "content": [...]}}')
                )
                continue
            role = message.get("role")
            if role != expected:
                misordered = role_mismatch(i, message, expected, _ROLES, out, misordered)
            content = message.get("content")
            if len(message) != 2 or role is None or content is None:
                message_keys(i, message, out)
            # hot path: a message of plain non-empty text items; anything else is re-walked by _content
            size = 0
            if type(content) is list and content:
                for item in content:
                    if type(item) is not dict or len(item) != 1:
                        break
                    text = item.get("text")
                    if type(text) is not str or not text:
                        break
                    size += len(text)
                    plain = plain and text.isascii()
                    if scan is not None and scan(text):
                        break
                else:
                    chars += size
                    continue
            if acc is None:
                acc = _Record()
            _content(i, message, line, out, words, media, allowed, tools, acc)
        if len(messages) & 1 or single:
            shape(messages, prompts, single, out)
        if acc is None:
            return chars, 0, plain
        return chars + acc.chars, acc.media, plain and acc.ascii

    return check


def _content(
    i: int,
    message: Record,
    line: int,
    out: Problems,
    words: Words | None,
    media: Media,
    allowed: tuple[str, ...],
    tools: str,
    acc: _Record,
) -> None:
    """Check messages[i].content item by item, adding to acc."""
    content, role = message.get("content"), message.get("role")
    if type(content) is not list or not content:
        out.append(
            (
                ERROR,
                f"messages[{i}].content is {field_kind(message, 'content')}; "
                'expected a non-empty array like [{"text": "..."}]',
            )
        )
        return
    empty: list[str] = []
    substance = 0  # items that carry something: non-empty text, media, tool items
    texts = 0
    reasoning = -1
    counts: dict[str, int] = {}
    for j, item in enumerate(content):
        path = f"messages[{i}].content[{j}]"
        if type(item) is not dict or not item:
            out.append((ERROR, f'{path} is {kind(item)}; expected one of {quoted(allowed)} such as {{"text": "..."}}'))
            continue
        if len(item) > 1:
            keys = ", ".join(show(key) for key in item)
            out.append((ERROR, f"{path} has keys {keys}; an item has exactly one of {quoted(allowed)}"))
            continue
        ((key, value),) = item.items()
        if key == "text":
            if type(value) is str and value:
                acc.chars += len(value)
                acc.ascii = acc.ascii and value.isascii()
                substance += 1
                texts += 1
                scan_words(f"{path}.text", value, words, out)
            elif type(value) is str:
                empty.append(f"{path}.text")
            else:
                out.append((ERROR, text_problem(f"{path}.text", value)))
        elif media.allows(key):
            substance += 1
            counts[key] = counts.get(key, 0) + 1
            acc.media += media.item(path, key, value, role, line, out)
        elif key == "reasoningContent" and "reasoningContent" in allowed:
            reasoning = j
            _reasoning(path, value, role, words, out, acc)
        elif key in _TOOL_KEYS:
            substance += 1
            tool_use(f"{path} is a {key} item", tools, out)
        else:
            out.append((ERROR, _refused_item(path, key, allowed)))
    if counts:
        media.per_message(f"messages[{i}]", counts, out)
    if reasoning >= 0 and role == "assistant" and not texts:
        # AWS's Nova sample validator (V3) requires a text item beside reasoning: the reasoning is not the answer
        out.append((ERROR, f"messages[{i}] has reasoning content but no text; the answer must follow as text"))
    elif not substance and empty:
        out.append((ERROR, f"{empty[0]} is empty; a message needs at least one non-empty text or media item"))
    if substance:
        # Docs are silent on an empty text next to real content and the Nova sample validator accepts it: warn
        out.extend((WARNING, f"{path} is empty; drop the item or give it text") for path in empty)


def _reasoning(path: str, value: object, role: object, words: Words | None, out: Problems, acc: _Record) -> None:
    path = f"{path}.reasoningContent"
    if role != "assistant":
        # Nova 2 documentation: "Assistant content: text-only responses and reasoning content"
        out.append(
            (ERROR, f'{path} is in a {show(role)} message; reasoning content is allowed only in "assistant" messages')
        )
    block = value.get("reasoningText") if type(value) is dict else None
    if type(value) is not dict or len(value) != 1 or type(block) is not dict:
        # redactedContent and image reasoning exist in the Converse API; Nova 2 SFT takes only reasoningText
        out.append(
            (ERROR, f'{path} is {show(value)}; expected {{"reasoningText": {{"text": "..."}}}} (text reasoning only)')
        )
        return
    text = block.get("text")
    extra = [key for key in block if key not in ("text", "signature")]
    if extra:
        out.append((ERROR, f'unknown key {show(extra[0])} in {path}.reasoningText; allowed: "text", "signature"'))
    signature = block.get("signature")
    if signature is not None and type(signature) is not str:
        out.append((ERROR, f"{path}.reasoningText.signature is {kind(signature)}; expected a string"))
    if type(text) is str and text:
        acc.chars += len(text)  # reasoning tokens are trained on (and billed) like the answer
        acc.ascii = acc.ascii and text.isascii()
        scan_words(f"{path}.reasoningText.text", text, words, out)
    else:
        out.append((ERROR, text_problem(f"{path}.reasoningText.text", text)))


def _refused_item(path: str, key: str, allowed: tuple[str, ...]) -> str:
    if key in ("image", "video", "document"):
        article = "an" if key[0] in "aeiou" else "a"
        return (
            f"{path} is {article} {key} item; this model takes no {key}s for this customization; "
            f"allowed: {quoted(allowed)}"
        )
    if key == "reasoningContent":
        return f"{path} is a reasoningContent item; this model takes no reasoning content; allowed: {quoted(allowed)}"
    return f"{path} has an item of type {show(key)}; allowed: {quoted(allowed)}"
