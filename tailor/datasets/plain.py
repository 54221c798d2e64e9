"""Flat records of required text fields: prompt_completion and text_input (bedrock.md B).

Both families are strict: Bedrock documents exactly these keys, so any other key is an error.
"""

from __future__ import annotations

from .common import ERROR, Checker, Problems, Record, Words, text_problem, unknown_keys
from .rules import DatasetRules

FIELDS = {
    "prompt_completion": ("prompt", "completion"),
    # Continued pre-training; UNCONFIRMED that any model still supports it (bedrock.md B).
    "text_input": ("input",),
}


def make(rules: DatasetRules) -> Checker:
    fields = FIELDS[rules.format]
    allowed = frozenset(fields)

    def check(rec: Record, out: Problems, words: Words | None, line: int) -> tuple[int, int, bool]:
        chars = 0
        plain = True
        if not rec.keys() <= allowed:
            unknown_keys(rec, allowed, fields, ERROR, "the record", out)
        for name in fields:
            value = rec.get(name)
            if type(value) is str and value:
                chars += len(value)
                plain = plain and value.isascii()
                if words is not None and (word := words.scan(value)):
                    out.append(words.problem(name, word, value))
            elif name not in rec:
                out.append((ERROR, f'missing required key "{name}"; a record is {_shape(fields)}'))
            else:
                out.append((ERROR, text_problem(name, value)))
        return chars, 0, plain

    return check


def _shape(fields: tuple[str, ...]) -> str:
    return "{" + ", ".join(f'"{name}": "..."' for name in fields) + "}"
