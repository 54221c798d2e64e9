"""Claude 3 Haiku fine-tuning records (bedrock.md B).

{"system"?: str, "messages": [{"role": "user"|"assistant", "content": str}, ...]}: string content, not
blocks; roles alternate starting with user and the record ends with assistant. Strict: other keys are errors.
"""

from __future__ import annotations

from .common import (
    ERROR,
    Checker,
    Problems,
    Record,
    Words,
    field_kind,
    kind,
    role_mismatch,
    text_problem,
    unknown_keys,
)
from .rules import DatasetRules

_TOP = ("system", "messages")
_TOP_SET = frozenset(_TOP)
_MESSAGE = ("role", "content")
_MESSAGE_SET = frozenset(_MESSAGE)
_ROLES = ("user", "assistant")


def make(rules: DatasetRules) -> Checker:
    def check(rec: Record, out: Problems, words: Words | None, line: int) -> tuple[int, int, bool]:
        if not rec.keys() <= _TOP_SET:
            unknown_keys(rec, _TOP_SET, _TOP, ERROR, "the record", out)
        chars = 0
        plain = True
        system = rec.get("system")
        if type(system) is str:
            chars += len(system)
            plain = system.isascii()
            if words is not None and (word := words.scan(system)):
                out.append(words.problem("system", word, system))
        elif system is not None:
            out.append((ERROR, f"system is {kind(system)}; expected a string"))
        messages = rec.get("messages")
        if type(messages) is not list or not messages:
            out.append(
                (
                    ERROR,
                    f"messages is {field_kind(rec, 'messages')}; "
                    'expected a non-empty array of {"role": ..., "content": "..."}',
                )
            )
            return chars, 0, plain
        misordered = False
        for i, message in enumerate(messages):
            expected = "assistant" if i & 1 else "user"
            if type(message) is not dict:
                out.append(
                    (ERROR, f'messages[{i}] is {kind(message)}; expected {{"role": "{expected}", "content": "..."}}')
                )
                continue
            role = message.get("role")
            if role != expected:
                misordered = role_mismatch(i, message, expected, _ROLES, out, misordered)
            content = message.get("content")
            if type(content) is str and content:
                chars += len(content)
                plain = plain and content.isascii()
                if words is not None and (word := words.scan(content)):
                    out.append(words.problem(f"messages[{i}].content", word, content))
            elif type(content) is list:
                out.append((ERROR, f"messages[{i}].content is an array; Claude 3 Haiku fine-tuning takes a string"))
            elif "content" not in message:
                out.append((ERROR, f"messages[{i}] has no content; expected a non-empty string"))
            else:
                out.append((ERROR, text_problem(f"messages[{i}].content", content)))
            if (len(message) != 2 or role is None or content is None) and not message.keys() <= _MESSAGE_SET:
                unknown_keys(message, _MESSAGE_SET, _MESSAGE, ERROR, f"messages[{i}]", out)
        last = messages[-1]
        if len(messages) % 2 == 1 and type(last) is dict and last.get("role") == "user":
            out.append(
                (
                    ERROR,
                    f'messages[{len(messages) - 1}] is the last message and has role "user"; '
                    'a record must end with an "assistant" message',
                )
            )
        return chars, 0, plain

    return check
