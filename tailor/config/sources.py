"""Where a job's data comes from: local or S3 datasets, model-invocation logs, and the VPC a job runs in."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tailor.config import schema
from tailor.config.models import Customization
from tailor.errors import Problems, show

S3_URI = r"s3://[a-z0-9][-.a-z0-9]{1,61}[a-z0-9]/.+"


S3_URI_TEXT = "an S3 object URI such as s3://my-bucket/path/train.jsonl"


MAX_VALIDATION_SETS = 10
LOG_S3_URI = r"s3://[a-z0-9][-.a-z0-9]{1,61}[a-z0-9](/.*)?"
SUBNET_ID = r"subnet-[0-9a-f]{8,17}"
SECURITY_GROUP_ID = r"sg-[0-9a-f]{8,17}"
MAX_SUBNETS = 16  # VpcConfig.subnetIds in the botocore model
MAX_SECURITY_GROUPS = 5  # VpcConfig.securityGroupIds in the botocore model
MAX_FILTERS = 16  # RequestMetadataFilters andAll/orAll in the botocore model
MAX_METADATA_TEXT = 256


@dataclass(frozen=True)
class DataSource:
    """A dataset: a local file (uploaded content-addressed at deploy) or an S3 object."""

    location: str  # as written in the config
    path: Path | None = None  # local file, resolved
    sha256: str | None = None
    size: int | None = None

    @property
    def is_local(self) -> bool:
        return self.path is not None

    @property
    def present(self) -> bool:
        """False for a local file that was not there when the config was read without requiring files."""
        return not self.is_local or self.sha256 is not None

    @property
    def identity(self) -> str:
        return f"sha256:{self.sha256}" if self.is_local else self.location


@dataclass(frozen=True)
class InvocationLogs:
    s3_uri: str
    use_prompt_response: bool
    request_metadata_filters: Mapping[str, Any] | None  # API shape (equals/notEquals/andAll/orAll)


@dataclass(frozen=True)
class Vpc:
    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]


def parse_data(
    problems: Problems, path: str, value: Any, base_dir: Path, *, require_files: bool = True
) -> DataSource | None:
    """`require_files=False` (the operator commands): a missing local file is accepted, without its digest, so
    serving can be extended or ended from a machine that does not hold the datasets."""
    location = schema.string(problems, path, value)
    if location is None:
        return None
    if location.startswith("s3://"):
        if schema.string(problems, path, location, pattern=S3_URI, allowed_text=S3_URI_TEXT) is None:
            return None
        return DataSource(location)
    if not location.endswith(".jsonl"):
        problems.add(path, f"is {show(location)}; Bedrock reads JSON Lines files: the name must end in .jsonl")
        return None
    outside = _outside(location, base_dir)
    if outside is not None:
        problems.add(
            path,
            (
                f"{show(location, 240)} {outside}; a local dataset must be a file inside the repository "
                f"({base_dir.name or base_dir}/), written relative to it, because it is uploaded as a deployment "
                f"asset; for data kept elsewhere, upload it to S3 and use {S3_URI_TEXT}"
            ),
        )
        return None
    file = (base_dir / location).resolve()
    if not file.is_file() and not require_files:
        return DataSource(location, file)
    if not file.is_file():
        problems.add(
            path,
            (
                f"local file {show(location)} not found (paths are relative to "
                f"{base_dir.name or base_dir}/); or use {S3_URI_TEXT}"
            ),
        )
        return None
    digest, size = _sha256(file)
    return DataSource(location, file, digest, size)


def _outside(location: str, base_dir: Path) -> str | None:
    """Why `location` leads out of the repository (an absolute path, `..`, a symlink out of it), or None."""
    written = Path(location)
    if written.is_absolute() or location.startswith("~"):
        return "is an absolute path"
    root = base_dir.resolve()
    if not Path(os.path.normpath(root / written)).is_relative_to(root):
        return "leads out of the repository through .."
    if not (root / written).resolve().is_relative_to(root):
        return "leads out of the repository through a symbolic link"
    return None


def parse_validation(
    problems: Problems,
    path: str,
    value: Any,
    customization: Customization,
    base_dir: Path,
    *,
    require_files: bool = True,
) -> tuple[DataSource, ...]:
    if value is None:
        return ()
    if customization.validation_rules is None:
        problems.add(path, f"this model takes no validation set for {customization.type}; remove validation_data")
        return ()
    items = value if isinstance(value, list) else [value]
    if not 1 <= len(items) <= MAX_VALIDATION_SETS:
        problems.add(path, f"has {len(items)} entries; allowed: 1 to {MAX_VALIDATION_SETS}")
    sources = [
        parse_data(
            problems, f"{path}[{i}]" if isinstance(value, list) else path, item, base_dir, require_files=require_files
        )
        for i, item in enumerate(items)
    ]
    return tuple(s for s in sources if s is not None)


def parse_invocation_logs(problems: Problems, path: str, raw: Any) -> InvocationLogs | None:
    if raw is None:
        return None
    raw = schema.mapping(problems, path, raw, required=("s3_uri",), optional=("use_prompt_response", "filters"))
    uri = schema.string(
        problems,
        f"{path}.s3_uri",
        raw.get("s3_uri"),
        pattern=LOG_S3_URI,
        allowed_text="an S3 URI of the model-invocation log location",
    )
    use = schema.boolean(problems, f"{path}.use_prompt_response", raw.get("use_prompt_response"), False)
    filters = _filters(problems, f"{path}.filters", raw.get("filters")) if raw.get("filters") is not None else None
    return InvocationLogs(uri, use, filters) if uri else None


_FILTER_KEYS = {"equals": "equals", "not_equals": "notEquals"}


def _filters(problems: Problems, path: str, raw: Any) -> Mapping[str, Any] | None:
    """Request-metadata filters: one of equals/not_equals (one pair) or and_all/or_all (1-16 of those)."""
    raw = schema.mapping(problems, path, raw, optional=("equals", "not_equals", "and_all", "or_all"))
    if len(raw) != 1:
        problems.add(path, "needs exactly one of equals, not_equals, and_all, or_all (they cannot be combined)")
        return None
    ((kind, value),) = raw.items()
    if kind in _FILTER_KEYS:
        pair = _filter_pair(problems, f"{path}.{kind}", value)
        return None if pair is None else {_FILTER_KEYS[kind]: pair}
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_FILTERS:
        problems.add(
            f"{path}.{kind}",
            f"must be a list of 1 to {MAX_FILTERS} filters, each {{equals: {{key: value}}}} or "
            "{not_equals: {key: value}}",
        )
        return None
    items = []
    for index, item in enumerate(value):
        ipath = f"{path}.{kind}[{index}]"
        item = schema.mapping(problems, ipath, item, optional=tuple(_FILTER_KEYS))
        if len(item) != 1:
            problems.add(ipath, "needs exactly one of equals, not_equals")
            continue
        ((sub, pair_raw),) = item.items()
        pair = _filter_pair(problems, f"{ipath}.{sub}", pair_raw)
        if pair is not None:
            items.append({_FILTER_KEYS[sub]: pair})
    return {"andAll" if kind == "and_all" else "orAll": items}


def _filter_pair(problems: Problems, path: str, raw: Any) -> dict[str, str] | None:
    if not isinstance(raw, dict) or len(raw) != 1:
        problems.add(path, "must be a mapping with exactly one metadata key and its value")
        return None
    ((key, value),) = raw.items()
    for part, text in (("key", key), ("value", value)):
        if not isinstance(text, str) or not 1 <= len(text) <= MAX_METADATA_TEXT:
            problems.add(path, f"metadata {part} {show(text)} must be a string of 1 to {MAX_METADATA_TEXT} characters")
            return None
    return {key: value}


def parse_vpc(problems: Problems, path: str, raw: Any) -> Vpc | None:
    if raw is None:
        return None
    raw = schema.mapping(problems, path, raw, required=("subnet_ids", "security_group_ids"))
    subnets = schema.string_list(
        problems,
        f"{path}.subnet_ids",
        raw.get("subnet_ids"),
        pattern=SUBNET_ID,
        allowed_text="a subnet id such as subnet-0123456789abcdef0",
    )
    groups = schema.string_list(
        problems,
        f"{path}.security_group_ids",
        raw.get("security_group_ids"),
        pattern=SECURITY_GROUP_ID,
        allowed_text="a security group id such as sg-0123456789abcdef0",
    )
    if not 1 <= len(subnets) <= MAX_SUBNETS:
        problems.add(f"{path}.subnet_ids", f"has {len(subnets)} valid entries; allowed: 1 to {MAX_SUBNETS}")
    if not 1 <= len(groups) <= MAX_SECURITY_GROUPS:
        problems.add(
            f"{path}.security_group_ids", f"has {len(groups)} valid entries; allowed: 1 to {MAX_SECURITY_GROUPS}"
        )
    return Vpc(subnets, groups)


def _sha256(file: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with file.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size
