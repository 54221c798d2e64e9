"""Converse records (bedrock-conversation-2024): fine-tuning and distillation prompts (bedrock.md B).

{"schemaVersion"?: str, "system"?: [{"text": str}], "messages": [{"role": ..., "content": [item, ...]}, ...]}
Roles alternate user/assistant starting with user. Fine-tuning records end with assistant; distillation
prompts may end with either (a final assistant turn is the "golden" response).
"""

from __future__ import annotations

from typing import Any

from .common import (
    ERROR,
    WARNING,
    Checker,
    Problems,
    Record,
    Scan,
    field_kind,
    kind,
    quoted,
    reserved,
    role_mismatch,
    show,
    text_problem,
    tokens,
)
from .media import Media
from .rules import DatasetRules

_TOP = ("schemaVersion", "system", "messages")
_TOP_SET = frozenset(_TOP)
_MESSAGE_KEYS = frozenset(("role", "content"))
_ROLES = ("user", "assistant")


def make(rules: DatasetRules, dataset_bucket: str | None) -> Checker:
    prompts = rules.format == "converse_prompts"
    single = rules.single_turn_only
    words = rules.reserved_words
    cpt = rules.chars_per_token
    media = Media(rules, dataset_bucket)

    def check(rec: Record, out: Problems, scan: Scan | None, line: int) -> int:
        if not rec.keys() <= _TOP_SET:
            _top_keys(rec, out)
        version = rec.get("schemaVersion")
        if version is not None and type(version) is not str:
            out.append((ERROR, f'schemaVersion is {kind(version)}; expected a string like "bedrock-conversation-2024"'))
        system = rec.get("system")
        chars = 0
        if system is not None:
            block = system[0] if type(system) is list and len(system) == 1 else None
            text = block.get("text") if type(block) is dict and len(block) == 1 else None
            if type(text) is str and text and (scan is None or not scan(text)):
                chars = len(text)  # hot path: the usual one system text
            else:
                chars = _system(system, out, scan, words)
        messages = rec.get("messages")
        if type(messages) is not list or not messages:
            out.append(
                (
                    ERROR,
                    f"messages is {field_kind(rec, 'messages')}; "
                    'expected a non-empty array of {"role": ..., "content": [...]}',
                )
            )
            return tokens(chars, cpt)
        extra = 0
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
                _message_keys(i, message, out)
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
                    if scan is not None and scan(text):
                        break
                else:
                    chars += size
                    continue
            size, more = _content(i, message, line, out, scan, words, media)
            chars += size
            extra += more
        if len(messages) & 1 or single:
            _shape(messages, prompts, single, out)
        return tokens(chars, cpt) + extra

    return check


def _content(
    i: int, message: Record, line: int, out: Problems, scan: Scan | None, words: tuple[str, ...], media: Media
) -> tuple[int, int]:
    """Check messages[i].content item by item; returns (text characters, tokens added by media)."""
    content, role = message.get("content"), message.get("role")
    if type(content) is not list or not content:
        out.append(
            (
                ERROR,
                f"messages[{i}].content is {field_kind(message, 'content')}; "
                'expected a non-empty array like [{"text": "..."}]',
            )
        )
        return 0, 0
    chars = extra = 0
    for j, item in enumerate(content):
        path = f"messages[{i}].content[{j}]"
        text = item.get("text") if type(item) is dict and len(item) == 1 else None
        if type(text) is str and text:
            chars += len(text)
            if scan is not None and (word := scan(text)):
                out.append((ERROR, reserved(f"{path}.text", word, words)))
        else:
            extra += _odd_item(path, item, role, line, out, media)
    return chars, extra


def _shape(messages: list[Any], prompts: bool, single: bool, out: Problems) -> None:
    last = messages[-1]
    ends_with_user = len(messages) % 2 == 1 and type(last) is dict and last.get("role") == "user"
    if ends_with_user and not prompts:
        out.append(
            (
                ERROR,
                f'messages[{len(messages) - 1}] is the last message and has role "user"; '
                'a fine-tuning record must end with an "assistant" message',
            )
        )
    if single and len(messages) > 2:
        out.append(
            (
                ERROR,
                f"messages has {len(messages)} messages; this student model takes single-turn prompts: "
                'one "user" message, optionally followed by one "assistant" message',
            )
        )


def _system(system: object, out: Problems, scan: Scan | None, words: tuple[str, ...]) -> int:
    if type(system) is not list:
        out.append((ERROR, f'system is {kind(system)}; expected an array such as [{{"text": "..."}}]'))
        return 0
    chars = 0
    for k, block in enumerate(system):
        text = block.get("text") if type(block) is dict else None
        if type(block) is not dict or type(text) is not str or len(block) != 1:
            out.append((ERROR, f'system[{k}] is {show(block)}; expected {{"text": "..."}}'))
        elif not text:
            # AWS's Nova sample validator accepts an empty system text; whether Bedrock does is UNCONFIRMED
            out.append((WARNING, f"system[{k}].text is empty; drop the entry or give it text"))
        else:
            chars += len(text)
            if scan is not None and (word := scan(text)):
                out.append((ERROR, reserved(f"system[{k}].text", word, words)))
    return chars


def _odd_item(path: str, item: object, role: object, line: int, out: Problems, media: Media) -> int:
    """Everything but a plain non-empty text item; returns the tokens a media item adds."""
    allowed = quoted(media.allowed)
    if type(item) is not dict or not item:
        out.append((ERROR, f'{path} is {kind(item)}; expected one of {allowed} such as {{"text": "..."}}'))
        return 0
    if len(item) > 1:
        keys = ", ".join(show(key) for key in item)
        out.append((ERROR, f"{path} has keys {keys}; an item has exactly one of {allowed}"))
        return 0
    ((key, value),) = item.items()
    if key == "text":
        out.append((ERROR, text_problem(f"{path}.text", value)))
        return 0
    return media.item(path, key, value, role, line, out)


def _top_keys(rec: Record, out: Problems) -> None:
    for key in rec:
        if key not in _TOP_SET:
            # Nova's docs and sample validator ignore extra keys; other Converse students: UNCONFIRMED, so warn
            out.append((WARNING, f"unknown key {show(key)} in the record; Bedrock documents {quoted(_TOP)}"))


def _message_keys(i: int, message: Record, out: Problems) -> None:
    if message.keys() <= _MESSAGE_KEYS:
        return
    for key in message:
        if key not in _MESSAGE_KEYS:
            out.append((WARNING, f'unknown key {show(key)} in messages[{i}]; Bedrock documents "role", "content"'))
