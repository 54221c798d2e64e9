"""Clocks for the Bedrock double: a controlled one for tests, the wall clock for the HTTP server.

Both return aware UTC datetimes from ``clock()`` / ``clock.now()`` and move with ``advance(...)`` and
``set(...)``, so the double (and the tests' simulation harness) never has to know which one it holds.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable

UTC = dt.UTC

__all__ = ["FakeClock", "WallClock"]


class FakeClock:
    """A controllable clock returning aware UTC datetimes.

    ``clock()`` / ``clock.now()`` read it; ``clock.advance(seconds=..)`` (any
    ``timedelta`` keyword) moves it; ``clock.set(datetime)`` jumps.
    """

    DEFAULT_START = dt.datetime(2026, 1, 5, 9, 0, 0, tzinfo=UTC)

    def __init__(self, start: dt.datetime | None = None):
        start = start or self.DEFAULT_START
        if start.tzinfo is None or start.utcoffset() is None:
            raise ValueError("FakeClock needs a timezone-aware start")
        self._now = start.astimezone(UTC)

    def __call__(self) -> dt.datetime:
        return self._now

    def now(self) -> dt.datetime:
        return self._now

    def advance(self, seconds: float = 0, **kwargs: float) -> dt.datetime:
        self._now = self._now + dt.timedelta(seconds=seconds, **kwargs)
        return self._now

    def set(self, when: dt.datetime) -> dt.datetime:
        if when.tzinfo is None or when.utcoffset() is None:
            raise ValueError("FakeClock.set needs a timezone-aware datetime")
        self._now = when.astimezone(UTC)
        return self._now

    def __repr__(self) -> str:
        return f"FakeClock({self._now.isoformat()})"


class WallClock:
    """The real time plus an offset: what the double runs on when served over HTTP.

    Lifecycles then advance by themselves (a job started now completes ``job_duration`` later).
    ``advance`` and ``set`` move the offset, so a harness can jump over a commitment term or an
    ``expires-at`` without waiting; time never runs backwards unless ``set`` is asked to.
    ``time_source`` (seconds since the epoch) is injectable for tests.
    """

    def __init__(self, *, offset_seconds: float = 0.0, time_source: Callable[[], float] = time.time):
        self._offset = float(offset_seconds)
        self._time_source = time_source
        self._lock = threading.Lock()

    def __call__(self) -> dt.datetime:
        with self._lock:
            offset = self._offset
        return dt.datetime.fromtimestamp(self._time_source() + offset, tz=UTC)

    def now(self) -> dt.datetime:
        return self()

    @property
    def offset_seconds(self) -> float:
        with self._lock:
            return self._offset

    def advance(self, seconds: float = 0, **kwargs: float) -> dt.datetime:
        delta = dt.timedelta(seconds=seconds, **kwargs).total_seconds()
        with self._lock:
            self._offset += delta
        return self()

    def set(self, when: dt.datetime) -> dt.datetime:
        if when.tzinfo is None or when.utcoffset() is None:
            raise ValueError("WallClock.set needs a timezone-aware datetime")
        with self._lock:
            self._offset = when.timestamp() - self._time_source()
        return self()

    def reset(self) -> None:
        """Back to the real time (offset 0)."""
        with self._lock:
            self._offset = 0.0

    def __repr__(self) -> str:
        return f"WallClock({self().isoformat()}, offset={self.offset_seconds:+.3f}s)"
