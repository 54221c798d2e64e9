"""The token estimate: documented for Latin text, conservative for every other script, and cheap.

No Bedrock model's tokenizer ships offline, so tokens are estimated from characters:

  tokens = chars / chars_per_token + wide * (1 - 1 / chars_per_token) / 2   (rounded up), plus media items

`chars` are the record's text characters and `wide` the extra UTF-8 bytes of the record's line beyond one per
character; for a line written with ensure_ascii (pure ASCII, but its text is not), 2 per \\uXXXX escape. So
an ASCII character costs 1/chars_per_token (Bedrock documents "about 6 characters per token"), a 2-byte
character (accented Latin, Cyrillic, Greek, Arabic, Hebrew) about 0.58 tokens, a 3-byte one (CJK, kana,
Hangul, Devanagari, Thai) exactly 1 token and a 4-byte one (emoji) about 1.4. The
figures measured against real tokenizers, and the bias per language, are in docs/dataset-rules.md.

Why bytes: the line reader gets `wide` for free (a block's byte length minus its decoded length), whereas a
per-character classification would cost as much as parsing the JSON. Why the whole line: keys and URIs are ASCII,
so whatever is wide is almost always text; what is not (a reference answer in Chinese) only makes the estimate
more conservative.
"""

from __future__ import annotations

import math

# A \uXXXX escape counts as two wide units: with its character, one token, like a raw 3-byte character.
ESCAPE_WIDE = 2


def estimate(chars: int, wide: int, chars_per_token: float) -> int:
    """Tokens of `chars` text characters carrying `wide` extra units (see the module docstring)."""
    if not wide:
        return math.ceil(chars / chars_per_token)
    return math.ceil(chars / chars_per_token + wide * (1 - 1 / chars_per_token) / 2)


def escapes(line: str) -> int:
    """Wide units of a line's \\uXXXX escapes (only for an ASCII line whose decoded text is not ASCII)."""
    return line.count("\\u") * ESCAPE_WIDE
