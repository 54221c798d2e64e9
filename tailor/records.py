"""Records in SSM Parameter Store: one JSON document per parameter, the state jobs and serving keep between calls.

The shapes live with their owners (`tailor.jobs.record`, `tailor.serving.resource`); this is only the store."""

from __future__ import annotations

import json
from collections.abc import Iterator
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
    # Intelligent-Tiering stays Standard (free) and becomes Advanced only for a record over 4 KB (a serving
    # record with 40 long user tags), instead of failing after the resource it describes was bought.
    ssm.put_parameter(
        Name=name, Value=json.dumps(record, sort_keys=True), Type="String", Overwrite=True, Tier="Intelligent-Tiering"
    )


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
