"""Records in SSM Parameter Store: one JSON document per parameter, the state jobs and serving keep between calls.

The shapes live with their owners (`tailor.jobs.record`, `tailor.serving.resource`); this is only the store.
SSM has no compare-and-swap, so `update` is a versioned write with repair: it applies a change to what it read,
and when another writer's version landed between that read and its own write, it applies the change again on
top of theirs, so a concurrent writer's record (a replacement job's, say) is never lost.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from botocore.exceptions import ClientError

from tailor import aws


def get(ssm: Any, name: str) -> dict[str, Any] | None:
    try:
        value = ssm.get_parameter(Name=name)["Parameter"]["Value"]
    except ClientError as exc:
        if aws.error_code(exc) == "ParameterNotFound":
            return None
        raise
    return _decode(value)


def put(ssm: Any, name: str, record: dict[str, Any]) -> None:
    _put(ssm, name, record)


def _put(ssm: Any, name: str, record: dict[str, Any]) -> int:
    # Intelligent-Tiering stays Standard (free) and becomes Advanced only for a record over 4 KB (a serving
    # record with 40 long user tags), instead of failing after the resource it describes was bought.
    answer = ssm.put_parameter(
        Name=name, Value=json.dumps(record, sort_keys=True), Type="String", Overwrite=True, Tier="Intelligent-Tiering"
    )
    return int(answer["Version"])


def _versioned(ssm: Any, name: str) -> tuple[dict[str, Any] | None, int | None]:
    try:
        parameter = ssm.get_parameter(Name=name)["Parameter"]
    except ClientError as exc:
        if aws.error_code(exc) == "ParameterNotFound":
            return None, None
        raise
    return _decode(parameter["Value"]), int(parameter["Version"])


def _at_version(ssm: Any, name: str, version: int) -> dict[str, Any] | None:
    try:
        parameter = ssm.get_parameter(Name=f"{name}:{version}")["Parameter"]
    except ClientError as exc:
        if aws.error_code(exc) in ("ParameterNotFound", "ParameterVersionNotFound"):
            return None
        raise
    return _decode(parameter["Value"])


Change = Callable[[dict[str, Any] | None], dict[str, Any] | None]  # None: leave the record as it is


def update(ssm: Any, name: str, change: Change) -> dict[str, Any] | None:
    """Applies `change` to the record as it is now; returns what was written (None: nothing was).

    `change` must be a pure function of the record it is given (it may be applied twice): e.g. "set these
    fields if the record still describes job X".
    """
    current, version = _versioned(ssm, name)
    wanted = change(current)
    if wanted is None or wanted == current:
        return None
    written = _put(ssm, name, wanted)
    if written == (1 if version is None else version + 1):
        return wanted
    # Someone wrote between our read and our write (their version is the one just below ours): ours
    # overwrote theirs, so theirs is put back with our change applied to it, which may be no change at all.
    theirs = _at_version(ssm, name, written - 1)
    merged = change(theirs)
    _put(ssm, name, merged if merged is not None else theirs or {})
    return merged


def delete(ssm: Any, name: str) -> None:
    try:
        ssm.delete_parameter(Name=name)
    except ClientError as exc:
        if aws.error_code(exc) != "ParameterNotFound":
            raise


def all_records(ssm: Any, prefix: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for page in ssm.get_paginator("get_parameters_by_path").paginate(Path=prefix.rstrip("/"), Recursive=False):
        for parameter in page["Parameters"]:
            record = _decode(parameter["Value"])
            if record is not None:
                yield parameter["Name"], record


def _decode(value: str) -> dict[str, Any] | None:
    try:
        record = json.loads(value)
    except ValueError:
        return None  # not ours (or hand-edited): ignored rather than crashing every pass
    return record if isinstance(record, dict) else None
