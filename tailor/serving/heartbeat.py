"""Each reconciler's heartbeat, and the Tailor-managed serving that no running reconciler looks after (orphans).

A reconciler acts only on its own environment's serving. A throughput tagged for an environment whose stacks
are gone (deleted while it was alive, or left by a Tailor that crashed mid-deploy) would be skipped by every
other reconciler without a word; instead each reconciler notices that the owner's heartbeat is missing or stale
and reports it. Deleting it stays with the owner: no environment's role may delete another environment's serving.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tailor import naming, records
from tailor.serving.model import format_time, parse_time

STALE_PERIODS = 3  # the silent-reconciler alarm's rule: three missed periods
MIN_STALE = timedelta(minutes=15)


def beat(ssm: Any, environment: str, every_minutes: int, now: datetime) -> None:
    records.put(ssm, naming.heartbeat_record_name(environment), {"at": format_time(now), "everyMinutes": every_minutes})


class Owners:
    """Answers "is that environment's reconciler alive?", reading each heartbeat once per sweep."""

    def __init__(self, ssm: Any, now: datetime) -> None:
        self._ssm, self._now = ssm, now
        self._alive: dict[str, bool] = {}

    def alive(self, environment: str) -> bool:
        if environment not in self._alive:
            record = records.get(self._ssm, naming.heartbeat_record_name(environment))
            at = parse_time((record or {}).get("at"))
            every = (record or {}).get("everyMinutes")
            stale = max(MIN_STALE, timedelta(minutes=STALE_PERIODS * every)) if isinstance(every, int) else MIN_STALE
            self._alive[environment] = at is not None and self._now - at <= stale
        return self._alive[environment]
