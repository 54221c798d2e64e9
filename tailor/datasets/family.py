"""Which record family a record looks like: one hint for a file written in another family's format."""

from __future__ import annotations

from .common import Record

# How each family's record starts, for the hint.
SHAPES = {
    "prompt_completion": '{"prompt": "...", "completion": "..."}',
    "text_input": '{"input": "..."}',
    "converse": '{"schemaVersion": "bedrock-conversation-2024", "messages": [{"role": "user", "content": [{"text": '
    '"..."}]}, ...]}',
    "claude_messages": '{"system": "...", "messages": [{"role": "user", "content": "..."}, ...]}',
    "rft_chat": '{"messages": [{"role": "user", "content": "..."}], "reference_answer": ...}',
}


def family(fmt: str) -> str:
    """The family a format belongs to: distillation prompts are Converse records."""
    return "converse" if fmt == "converse_prompts" else fmt


def guess(rec: Record, expected: str) -> str | None:
    """The family `rec` plainly belongs to, when that is not `expected`'s; else None."""
    found = _shape_of(rec)
    want = family(expected)
    if found is None or found == want:
        return None
    if want == "rft_chat" and found == "claude_messages" and "system" not in rec:
        return None  # string-content messages are RFT's shape too: a defect, not another family
    return found


def _shape_of(rec: Record) -> str | None:
    keys = rec.keys()
    if keys == {"prompt", "completion"}:
        return "prompt_completion"
    if keys == {"input"}:
        return "text_input"
    messages = rec.get("messages")
    if type(messages) is not list or not messages or type(messages[0]) is not dict:
        return None
    content = messages[0].get("content")
    if type(content) is list:
        return "converse"
    if type(content) is not str:
        return None
    if "reference_answer" in rec or any(type(m) is dict and m.get("role") == "system" for m in messages):
        return "rft_chat"
    return "claude_messages"
