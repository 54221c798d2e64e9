"""Split a binary stream into decoded lines, in fixed-size chunks, with bounded memory.

Iterating a LineReader yields events in line order:
  (LINES, ([str, ...], wide)) consecutive lines, decoded, without their "\\n"; wide is None when the block is
                              ASCII with no \\uXXXX escape in its first ESCAPE_PROBE bytes, else a list with, per
                              line, its UTF-8 bytes beyond one per character plus 2 per escape (tokens.py)
  (BAD_UTF8, (offset, byte))  one line that isn't UTF-8: 0-based offset and value of the first bad byte
  (TOO_LONG, nbytes)          one line longer than max_line_bytes; never held in memory whole
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .tokens import ESCAPE_WIDE

LINES, BAD_UTF8, TOO_LONG = 0, 1, 2
# 256 KiB: decoding a chunk then splitting it stays in cache; 1 MiB chunks measured 20% slower
CHUNK_BYTES = 256 * 1024
# Searching a whole block for b"\\u" costs a third of parsing it (1 GB/s): a file written with ensure_ascii has
# escapes on every line that holds non-ASCII text, so the block's first 8 KiB tell. A record near its token
# limit is recounted exactly whatever this probe says (validator.py), so only the total can miss an escape.
ESCAPE_PROBE = 8 * 1024

Event = tuple[int, Any]


class LineReader:
    def __init__(
        self, stream: Any, *, max_line_bytes: int, max_bytes: int | None = None, chunk_bytes: int = CHUNK_BYTES
    ) -> None:
        self._read = stream.read
        self._max_line = max_line_bytes
        # A chunk no longer than the line limit means a line within one chunk is always short enough,
        # so only lines spanning chunks need measuring.
        self._chunk = min(chunk_bytes, max_line_bytes)
        self._max_bytes = max_bytes
        self.bytes_read = 0
        self.over_limit = False  # reading stopped because the stream is larger than max_bytes

    def _next_chunk(self) -> bytes:
        if self.over_limit:
            return b""
        size = self._chunk
        if self._max_bytes is not None:
            # read at most one byte past the limit: everything up to it still gets checked
            size = min(size, self._max_bytes + 1 - self.bytes_read)
        chunk = self._read(size)
        if not isinstance(chunk, (bytes, bytearray)):
            raise TypeError(f"stream.read() returned {type(chunk).__name__}; open the stream in binary mode")
        self.bytes_read += len(chunk)
        if self._max_bytes is not None and self.bytes_read > self._max_bytes:
            self.over_limit = True
            return bytes(chunk[:-1])
        return bytes(chunk)

    def __iter__(self) -> Iterator[Event]:
        pending: list[bytes] = []  # start of a line that continues in a later chunk
        pending_len = 0
        skipped = -1  # bytes so far of a too-long line being skipped, or -1
        while chunk := self._next_chunk():
            last = chunk.rfind(b"\n")
            if last < 0:
                if skipped >= 0:
                    skipped += len(chunk)
                    continue
                pending.append(chunk)
                pending_len += len(chunk)
                if pending_len > self._max_line:
                    skipped, pending, pending_len = pending_len, [], 0
                continue
            first = chunk.find(b"\n")
            if skipped >= 0:
                yield TOO_LONG, skipped + first
                skipped = -1
                start = first + 1
            elif pending:
                head = b"".join(pending) + chunk[:first]
                pending, pending_len = [], 0
                if len(head) > self._max_line:
                    yield TOO_LONG, len(head)
                else:
                    yield from _decode(head)
                start = first + 1
            else:
                start = 0
            if start <= last:
                yield from _decode(chunk[start:last])
            if last + 1 < len(chunk):
                pending, pending_len = [chunk[last + 1 :]], len(chunk) - last - 1
        if self.over_limit:
            return  # the unfinished line was cut by the limit, so it isn't a line
        if skipped >= 0:
            yield TOO_LONG, skipped
        elif pending:
            yield from _decode(b"".join(pending))


def _decode(block: bytes) -> Iterator[Event]:
    """Events for a block of whole lines (no trailing newline)."""
    try:
        text = block.decode("utf-8")
    except UnicodeDecodeError:
        yield from _decode_lines(block)
        return
    lines = text.split("\n")
    escaped = b"\\u" in block[:ESCAPE_PROBE]
    if len(text) == len(block) and not escaped:
        yield LINES, (lines, None)  # the common case: nothing but ASCII, no per-line work
    else:
        yield LINES, (lines, _wide(block.split(b"\n"), lines, escaped))


def _wide(raws: list[bytes], lines: list[str], escaped: bool) -> list[int]:
    if escaped:
        return [len(raw) - len(line) + raw.count(b"\\u") * ESCAPE_WIDE for raw, line in zip(raws, lines, strict=True)]
    return [len(raw) - len(line) for raw, line in zip(raws, lines, strict=True)]


def _decode_lines(block: bytes) -> Iterator[Event]:
    """A block with invalid UTF-8 somewhere: decode it line by line."""
    good: list[str] = []
    raws: list[bytes] = []
    for raw in block.split(b"\n"):
        try:
            good.append(raw.decode("utf-8"))
            raws.append(raw)
        except UnicodeDecodeError as exc:
            if good:
                yield LINES, (good, _wide(raws, good, b"\\u" in block[:ESCAPE_PROBE]))
                good, raws = [], []
            yield BAD_UTF8, (exc.start, raw[exc.start])
    if good:
        yield LINES, (good, _wide(raws, good, b"\\u" in block[:ESCAPE_PROBE]))
