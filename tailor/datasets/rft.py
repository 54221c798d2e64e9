"""Reinforcement fine-tuning prompts for Nova 2 Lite (bedrock.md B, docs:rft-prepare-data).

OpenAI chat-completion style: {"messages": [{"role": "system"|"user"|"assistant", "content": str}, ...],
"reference_answer": <any JSON>, ...}. Extra top-level keys are allowed: they reach the grader as metadata.
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
    show,
    text_problem,
)
from .rules import DatasetRules

_ROLES = ("system", "user", "assistant")


def make(rules: DatasetRules) -> Checker:
    def check(rec: Record, out: Problems, words: Words | None, line: int) -> tuple[int, int, bool]:
        messages = rec.get("messages")
        if type(messages) is not list or not messages:
            out.append(
                (
                    ERROR,
                    f"messages is {field_kind(rec, 'messages')}; "
                    'expected a non-empty array of {"role": ..., "content": "..."}',
                )
            )
            return 0, 0, True
        chars = 0
        plain = True
        users = 0
        for i, message in enumerate(messages):
            if type(message) is not dict:
                out.append((ERROR, f'messages[{i}] is {kind(message)}; expected {{"role": ..., "content": "..."}}'))
                continue
            role = message.get("role")
            if role == "user":
                users += 1
            elif role == "system":
                if i:
                    out.append((ERROR, f'messages[{i}] has role "system"; a system message may only come first'))
            elif role != "assistant":
                what = f"is {show(role)}" if "role" in message else "is missing"
                out.append((ERROR, f"messages[{i}].role {what}; allowed: {quoted(_ROLES)}"))
            content = message.get("content")
            if type(content) is str and content:
                chars += len(content)
                plain = plain and content.isascii()
                if words is not None and (word := words.scan(content)):
                    out.append(words.problem(f"messages[{i}].content", word, content))
            elif "content" not in message:
                out.append((ERROR, f"messages[{i}] has no content; expected a non-empty string"))
            else:
                out.append((ERROR, text_problem(f"messages[{i}].content", content)))
        if not users:
            out.append((ERROR, 'messages has no "user" message; at least one is required'))
        if rec.get("reference_answer") is None:
            # the reward function usually compares against it; a custom grader may not need it
            out.append(
                (
                    WARNING,
                    f"reference_answer is {field_kind(rec, 'reference_answer')}; "
                    "most graders compare the response against it",
                )
            )
        # reference_answer goes to the grader, not the model, so it isn't counted as tokens
        return chars, 0, plain

    return check
