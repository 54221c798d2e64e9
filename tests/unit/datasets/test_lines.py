"""LineReader: chunked splitting must not depend on where chunks fall."""

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tailor.datasets.lines import BAD_UTF8, LINES, TOO_LONG, LineReader


def flatten(reader):
    """Events as one line per item, for comparison."""
    out = []
    for event, payload in reader:
        if event == LINES:
            out.extend(("line", text) for text in payload[0])
        else:
            out.append(("bad" if event == BAD_UTF8 else "long", payload))
    return out


def reference(data, max_line):
    """What the reader must produce, computed the obvious way."""
    if not data:
        return []
    parts = data.split(b"\n")
    if parts[-1] == b"":
        parts.pop()
    out = []
    for raw in parts:
        if len(raw) > max_line:
            out.append(("long", len(raw)))
            continue
        try:
            out.append(("line", raw.decode("utf-8")))
        except UnicodeDecodeError as exc:
            out.append(("bad", (exc.start, raw[exc.start])))
    return out


@settings(max_examples=300, deadline=None)
@given(
    data=st.lists(st.sampled_from([b"a", b"bc", b"\n", b"\xff", b"\xc3\xa9", b"\r", b"{}", b"x" * 9]), max_size=40).map(
        b"".join
    ),
    chunk=st.integers(1, 12),
    max_line=st.integers(1, 30),
)
def test_events_match_a_whole_file_split(data, chunk, max_line):
    # Given any bytes, any chunk size and any line limit
    # When read in chunks
    events = flatten(LineReader(io.BytesIO(data), max_line_bytes=max_line, chunk_bytes=chunk))

    # Then the events equal a naive split of the whole file
    assert events == reference(data, max_line)


def test_max_bytes_stops_at_the_limit_and_drops_the_cut_line():
    # Given three 4-byte lines and a 9-byte limit
    reader = LineReader(io.BytesIO(b"aaa\nbbb\nccc\n"), max_line_bytes=100, max_bytes=9)

    # When read
    events = flatten(reader)

    # Then only whole lines inside the limit come out, and the reader says it stopped
    assert events == [("line", "aaa"), ("line", "bbb")]
    assert reader.over_limit and reader.bytes_read == 10


@pytest.mark.parametrize("data", [b"", b"\n", b"abc"])
def test_small_inputs(data):
    # Then trivial inputs behave like a split
    assert flatten(LineReader(io.BytesIO(data), max_line_bytes=10)) == reference(data, 10)


def test_too_long_event_counts_the_whole_line():
    # Given a 50-byte line over a 10-byte limit, read 4 bytes at a time
    events = list(LineReader(io.BytesIO(b"y" * 50 + b"\nok"), max_line_bytes=10, chunk_bytes=4))

    # Then its full length is reported and the next line follows
    assert events == [(TOO_LONG, 50), (LINES, (["ok"], None))]


@pytest.mark.parametrize(
    ("data", "wide"),
    [
        (b"plain\nascii\n", None),
        ("caf\u00e9\n東京\nok\n".encode(), [1, 4, 0]),  # é is 2 bytes, 東 and 京 3 each
        (b'{"t": "\\u6771"}\nok\n', None),  # escapes are ASCII: the validator counts them from the decoded text
    ],
)
def test_wide_units_per_line_are_the_extra_utf8_bytes(data, wide):
    # Given ASCII lines, raw UTF-8 lines, and an escaped (so ASCII) line
    # When read
    ((event, (lines, widths)),) = list(LineReader(io.BytesIO(data), max_line_bytes=100))

    # Then each line carries its wide units, or None for a block of nothing but ASCII
    assert event == LINES and len(lines) == data.count(b"\n")
    assert widths == wide
