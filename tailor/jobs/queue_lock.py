"""The queue's lock: one advancer at a time per environment, an SSM parameter created with Overwrite=False (SSM's
only atomic create) and held under a lease, so a function killed while holding it delays the queue, never wedges it."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from tailor import aws, naming, records
from tailor.jobs import record as job_record

log = logging.getLogger(__name__)
LOCK_LEASE = timedelta(minutes=5)  # longer than one advance can take (a few calls, each at most ~3.5 min of retries)
LOCK_WAIT_S = 30.0  # how long a caller waits for another advancer before leaving the start to the next pass
LOCK_POLL_S = 1.0


def lock_name(environment: str) -> str:
    return f"/{naming.PROJECT}/{environment}/queue/lock"


@contextmanager
def lock(
    ssm: Any, environment: str, *, now: Callable[[], datetime], sleep: Callable[[float], None], wait_s: float
) -> Iterator[bool]:
    name, token = lock_name(environment), uuid.uuid4().hex
    waited, acquired = 0.0, False
    while True:
        acquired = _try_lock(ssm, name, token, now())
        if acquired or waited >= wait_s:
            break
        sleep(LOCK_POLL_S)
        waited += LOCK_POLL_S
    try:
        yield acquired
    finally:
        if acquired:
            _unlock(ssm, name, token)


def _try_lock(ssm: Any, name: str, token: str, when: datetime) -> bool:
    value = json.dumps({"owner": token, "at": job_record.iso(when)})
    if _create(ssm, name, value):
        return True
    holder = records.get(ssm, name) or {}
    taken = _parse(holder.get("at"))
    if taken is None or when - taken >= LOCK_LEASE:
        # Held past its lease: its holder died. Breaking it may race another breaker; the loser's put fails.
        log.warning("breaking the queue lock %s held since %s", name, holder.get("at"))
        records.delete(ssm, name)
        return _create(ssm, name, value)
    return False


def _create(ssm: Any, name: str, value: str) -> bool:
    """The parameter created now (False: it exists already). Overwrite=False is SSM's only atomic create."""
    try:
        ssm.put_parameter(Name=name, Value=value, Type="String", Overwrite=False)
        return True
    except ClientError as exc:
        if aws.error_code(exc) != "ParameterAlreadyExists":
            raise
        return False


def _unlock(ssm: Any, name: str, token: str) -> None:
    try:
        holder = records.get(ssm, name) or {}
        if holder.get("owner") == token:
            records.delete(ssm, name)
    except ClientError as exc:  # the lease frees it anyway
        log.error("could not release the queue lock %s: %s", name, exc)


def _parse(text: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text))
    except ValueError:
        return None
