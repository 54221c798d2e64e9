"""Helpers shared by the format checkers: severities, value descriptions, reserved-word scans.

A checker has the signature check(record, out, words, line) -> (text characters, media tokens, all text ASCII). It
appends (severity, message) pairs to out, calls words.scan(text) on every text when words is not None, and
never raises. The validator turns the characters into a token estimate (tokens.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

ERROR = "error"
WARNING = "warning"

Record = dict[str, Any]
Problems = list[tuple[str, str]]
Scan = Callable[[str], "str | None"]
Checker = Callable[[Record, Problems, "Words | None", int], tuple[int, int, bool]]

_SHOWN_CHARS = 40


def kind(value: object) -> str:
    """JSON type of a decoded value, with an article, for messages."""
    if value is None:
        return "null"
    if type(value) is bool:
        return "a boolean"
    if type(value) in (int, float):
        return "a number"
    if type(value) is str:
        return "an empty string" if not value else "a string"
    if type(value) is list:
        return "an empty array" if not value else "an array"
    if type(value) is dict:
        return "an empty object" if not value else "an object"
    return type(value).__name__


def show(value: object) -> str:
    """A short JSON rendering of a scalar (containers are only named, they may be huge)."""
    if isinstance(value, str):
        cut = value[:_SHOWN_CHARS]
        return json.dumps(cut, ensure_ascii=False) + ("..." if len(value) > _SHOWN_CHARS else "")
    if value is None or type(value) in (bool, int, float):
        return json.dumps(value)
    return kind(value)


def quoted(values: Iterable[str]) -> str:
    return ", ".join(json.dumps(v) for v in values)


def unknown_keys(
    record: Record, allowed: frozenset[str], order: tuple[str, ...], severity: str, where: str, out: Problems
) -> None:
    for key in record:
        if key not in allowed:
            out.append((severity, f"unknown key {show(key)} in {where}; allowed: {quoted(order)}"))


def text_problem(path: str, value: object) -> str:
    if isinstance(value, str):
        return f"{path} is empty; it must be non-empty text"
    return f"{path} is {kind(value)}; expected a non-empty string"


class Words:
    """The reserved words (errors: documented) and discouraged words (warnings: sample validators only) of a family.

    Matching is case-sensitive: the documentation lists the words in one spelling, and AWS's SDK validator says
    its matching is case-sensitive (docs/dataset-rules.md, "Reserved words").
    """

    def __init__(self, reserved: tuple[str, ...], discouraged: tuple[str, ...]) -> None:
        scan = make_scan(reserved + discouraged)
        assert scan is not None, "Words needs at least one word"
        self.scan: Scan = scan
        self._reserved = reserved
        self._only_reserved = make_scan(reserved)
        self._discouraged = discouraged

    def problem(self, path: str, word: str, text: str) -> tuple[str, str]:
        """The finding for a text in which scan() found `word` (a reserved word wins over a discouraged one)."""
        if word not in self._reserved and self._only_reserved is not None:
            word = self._only_reserved(text) or word
        if word in self._reserved:
            return (
                ERROR,
                f"{path} contains the reserved word {show(word)}, which fails the job; "
                f"text must not contain any of: {quoted(self._reserved)} (case-sensitive)",
            )
        return (
            WARNING,
            f"{path} contains {show(word)}: AWS's sample validators reject it although the documentation does not "
            f"list it; rephrase to be safe (they also flag: {quoted(self._discouraged)})",
        )


def make_words(reserved: tuple[str, ...], discouraged: tuple[str, ...]) -> Words | None:
    return Words(reserved, discouraged) if reserved or discouraged else None


# Characters from most to least frequent in English text; anything absent counts as rarer than all of them.
_COMMON_CHARS = " etaoinsrhldcumfpgwybvkxjqzETAOINSRHLDCUMFPGWYBVKXJQZ0123456789.,\n-'\":;()/?!"


def make_scan(words: tuple[str, ...]) -> Scan | None:
    """A function returning the first reserved word in a text, or None.

    A substring search costs about as much per byte as json.loads, and there is one per word. So each word
    is filed under its rarest character ("User:" under ":", "<image>" under "<"): a one-character test
    runs at memchr speed and rules out a whole group at once, and most texts hold none of those characters.
    """
    if not words:
        return None
    groups: dict[str, list[str]] = {}
    for word in words:
        anchor = max(word, key=lambda c: _COMMON_CHARS.find(c) % (len(_COMMON_CHARS) + 1))
        groups.setdefault(anchor, []).append(word)
    items = tuple((anchor, tuple(group)) for anchor, group in groups.items())

    def scan(text: str) -> str | None:
        for anchor, group in items:
            if anchor in text:
                for word in group:
                    if word in text:
                        return word
        return None

    return scan


def field_kind(record: Record, key: str) -> str:
    """kind() of record[key], or "missing"."""
    return kind(record[key]) if key in record else "missing"


def role_mismatch(
    i: int, message: Record, expected: str, roles: tuple[str, ...], out: Problems, misordered: bool
) -> bool:
    """Report why messages[i] lacks the role alternation expects; returns whether the order is now broken.

    Only the first break in the order is reported: every later turn is shifted too, and saying so adds nothing.
    """
    role = message.get("role")
    if role in roles:
        if not misordered:
            out.append(
                (
                    ERROR,
                    f'messages[{i}].role is "{role}"; expected "{expected}" (roles alternate, starting with "user")',
                )
            )
        return True
    if "role" not in message:
        out.append((ERROR, f'messages[{i}] has no role; expected "{expected}"'))
    else:
        out.append((ERROR, f"messages[{i}].role is {show(role)}; allowed: {quoted(roles)}"))
    return misordered
