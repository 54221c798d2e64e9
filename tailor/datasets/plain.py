"""Flat records of required text fields: prompt_completion and text_input (bedrock.md B).

Both families are strict: Bedrock documents exactly these keys, so any other key is an error.
"""

from __future__ import annotations

from .common import ERROR, Checker, Problems, Record, Scan, reserved, text_problem, tokens, unknown_keys
from .rules import DatasetRules

FIELDS = {
    "prompt_completion": ("prompt", "completion"),
    # Continued pre-training; UNCONFIRMED that any model still supports it (bedrock.md B).
    "text_input": ("input",),
}


def make(rules: DatasetRules) -> Checker:
    fields = FIELDS[rules.format]
    allowed = frozenset(fields)
    words = rules.reserved_words
    cpt = rules.chars_per_token

    def check(rec: Record, out: Problems, scan: Scan | None, line: int) -> int:
        chars = 0
        if not rec.keys() <= allowed:
            unknown_keys(rec, allowed, fields, ERROR, "the record", out)
        for name in fields:
            value = rec.get(name)
            if type(value) is str and value:
                chars += len(value)
                if scan is not None and (word := scan(value)):
                    out.append((ERROR, reserved(name, word, words)))
            elif name not in rec:
                out.append((ERROR, f'missing required key "{name}"; a record is {_shape(fields)}'))
            else:
                out.append((ERROR, text_problem(name, value)))
        return tokens(chars, cpt)

    return check


def _shape(fields: tuple[str, ...]) -> str:
    return "{" + ", ".join(f'"{name}": "..."' for name in fields) + "}"
