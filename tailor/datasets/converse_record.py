"""Record-level checks of Converse records: schemaVersion, the turn shape, the system prompt, unknown keys.

converse.py walks the messages and their content items; these checks look at the record around them.
"""

from __future__ import annotations

from typing import Any

from .common import ERROR, WARNING, Problems, Record, Words, kind, quoted, show

TOP = ("schemaVersion", "system", "messages")
TOP_SET = frozenset(TOP)
MESSAGE_KEYS = frozenset(("role", "content"))
SCHEMA_VERSION = "bedrock-conversation-2024"


def scan_words(path: str, text: str, words: Words | None, out: Problems) -> None:
    if words is not None and (word := words.scan(text)):
        out.append(words.problem(path, word, text))


def tool_use(subject: str, tools: str, out: Problems) -> None:
    if tools == "error":
        # Nova 2 on Bedrock: "not currently supported ... Adding tool sections might cause your job to fail"
        out.append((ERROR, f"{subject}; tool use is not supported for this customization (it may fail the job)"))
    else:
        out.append(
            (
                WARNING,
                f"{subject}: this customization's documentation does not describe tool use; Tailor does not check it",
            )
        )


def schema_version(rec: Record, version: object, required: bool, out: Problems) -> None:
    if version is None and "schemaVersion" not in rec:
        out.append((ERROR, f'schemaVersion is missing; distillation prompts require "{SCHEMA_VERSION}"'))
        return
    if type(version) is not str:
        out.append((ERROR, f'schemaVersion is {kind(version)}; expected a string like "{SCHEMA_VERSION}"'))
    elif required and version != SCHEMA_VERSION:
        # the distillation page's prose spells "bedrock-conversion-2024" (a typo: its examples use this value)
        out.append((WARNING, f'schemaVersion is {show(version)}; the documented value is "{SCHEMA_VERSION}"'))


def shape(messages: list[Any], prompts: bool, single: bool, out: Problems) -> None:
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


def system_prompt(system: object, out: Problems, words: Words | None, max_blocks: int | None) -> tuple[int, bool]:
    if type(system) is not list:
        out.append((ERROR, f'system is {kind(system)}; expected an array such as [{{"text": "..."}}]'))
        return 0, True
    if max_blocks is not None and len(system) > max_blocks:
        out.append((ERROR, f"system has {len(system)} entries; at most {max_blocks} allowed for this model"))
    chars = 0
    plain = True
    for k, block in enumerate(system):
        text = block.get("text") if type(block) is dict else None
        if type(block) is not dict or type(text) is not str or len(block) != 1:
            out.append((ERROR, f'system[{k}] is {show(block)}; expected {{"text": "..."}}'))
        elif not text:
            # AWS's Nova sample validator accepts an empty system text; whether Bedrock does is UNCONFIRMED
            out.append((WARNING, f"system[{k}].text is empty; drop the entry or give it text"))
        else:
            chars += len(text)
            plain = plain and text.isascii()
            scan_words(f"system[{k}].text", text, words, out)
    return chars, plain


def top_keys(rec: Record, out: Problems, tools: str) -> None:
    for key in rec:
        if key in TOP_SET:
            continue
        if key == "toolConfig":
            tool_use("the record has a toolConfig", tools, out)
            continue
        # Nova's docs and sample validator ignore extra keys; other Converse students: UNCONFIRMED, so warn
        out.append((WARNING, f"unknown key {show(key)} in the record; Bedrock documents {quoted(TOP)}"))


def message_keys(i: int, message: Record, out: Problems) -> None:
    if message.keys() <= MESSAGE_KEYS:
        return
    for key in message:
        if key not in MESSAGE_KEYS:
            out.append((WARNING, f'unknown key {show(key)} in messages[{i}]; Bedrock documents "role", "content"'))
