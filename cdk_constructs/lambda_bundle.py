"""The one Lambda asset: the handlers, the domain package, and the libraries they were tested with.

The Lambda runtime's own boto3 is whatever version AWS installed that month, and Tailor calls recent Bedrock
APIs (rftConfig, custom-model deployments): the functions ship the pinned boto3/botocore of requirements.txt
instead, and the pinned Powertools for AWS Lambda with the X-Ray SDK its Tracer needs, copied from this
checkout's virtual environment (pure Python, so no Docker and no download), with botocore's service models cut
to the services the handlers call. Compiled extensions are left out: they were built for this machine, not for
the functions' arm64 runtime, and the one a root pulls in (wrapt's) has a pure-Python fallback.

The asset directory is named by a hash of everything in it, so a synth reuses it until a source file or a pin
changes, and the hash is handed to the CDK (no re-fingerprinting of thousands of files on every synth).
"""

from __future__ import annotations

import hashlib
import importlib.metadata as metadata
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BUILD_DIR = PROJECT_ROOT / ".build" / "lambda"
FORMAT = "2"  # bump when the layout below changes
SOURCES = ("functions", "tailor")
EXCLUDED_SOURCES = ("tailor/cli",)  # the command line never runs in a function
# What the handlers import from outside the standard library; each is shipped with everything it requires.
# aws-xray-sdk is Powertools' [tracer] extra (extras are not followed), so it is a root of its own.
SDK_ROOTS = ("boto3", "aws-lambda-powertools", "aws-xray-sdk")
NATIVE_SUFFIXES = (".so", ".pyd", ".dylib")
# Every service a handler makes a client for (tailor/aws.py), and sts and xray, which Powertools' tracer (the
# X-Ray SDK) may call (UNCONFIRMED which it needs); a test creates each from the built asset.
SERVICES = ("bedrock", "s3", "ssm", "sns", "scheduler", "cloudwatch", "budgets", "sts", "xray", "cloudformation")
KEEP_BUILDS = 3  # and any build younger than an hour: a parallel synth or test may be reading it
KEEP_SECONDS = 3600


def sdk_distributions(roots: tuple[str, ...] = SDK_ROOTS) -> list[metadata.Distribution]:
    """`roots` and everything they require (extras left out), as installed here."""
    found: dict[str, metadata.Distribution] = {}
    pending = list(roots)
    while pending:
        name = _canonical(pending.pop())
        if name in found:
            continue
        dist = metadata.distribution(name)
        found[name] = dist
        for requirement in dist.requires or []:
            if "extra ==" not in requirement:
                pending.append(re.split(r"[ ;<>=!~\[(]", requirement.strip(), maxsplit=1)[0])
    return sorted(found.values(), key=lambda d: _canonical(d.metadata["Name"]))


def files() -> Iterator[tuple[str, Path]]:
    """(path inside the asset, file here) for everything the asset holds, in a stable order."""
    for source in SOURCES:
        for path in sorted((PROJECT_ROOT / source).rglob("*")):
            relative = path.relative_to(PROJECT_ROOT).as_posix()
            if path.is_file() and _shipped(relative) and not relative.startswith(EXCLUDED_SOURCES):
                yield relative, path
    for dist in sdk_distributions():
        for entry in sorted(dist.files or [], key=str):
            relative = entry.as_posix()
            if _shipped(relative) and _needed_sdk_file(relative):
                yield relative, Path(str(dist.locate_file(entry)))


def build() -> tuple[Path, str]:
    """The asset directory (built now if no build of this exact content exists) and its content hash."""
    listing = list(files())
    digest = hashlib.sha256(FORMAT.encode())
    for relative, path in listing:
        digest.update(relative.encode() + b"\0" + path.read_bytes() + b"\0")
    content_hash = digest.hexdigest()
    target = BUILD_DIR / content_hash[:20]
    if not target.is_dir():  # only finished builds are ever renamed into place
        BUILD_DIR.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=BUILD_DIR, prefix=".staging-"))
        for relative, path in listing:
            destination = staging / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)
        try:
            os.rename(staging, target)  # atomic: a parallel synth either wins or finds the finished build
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
        _prune(keep=target)
    for stray in target.rglob("__pycache__"):  # left by anything that imported from the build: never shipped
        shutil.rmtree(stray, ignore_errors=True)
    return target, content_hash


def _shipped(relative: str) -> bool:
    parts = relative.split("/")
    return not any(p == "__pycache__" or p.startswith(".") for p in parts) and not relative.endswith((".pyc", ".pyo"))


def _needed_sdk_file(relative: str) -> bool:
    """Everything but the service models of services no handler calls, and the installer's own records."""
    if relative.endswith(("/RECORD", "/INSTALLER", "/REQUESTED", "/direct_url.json")) or relative.startswith("../"):
        return False
    if relative.endswith(NATIVE_SUFFIXES):
        return False
    if relative.startswith("botocore/data/"):
        rest = relative[len("botocore/data/") :]
        return "/" not in rest or rest.split("/", 1)[0] in SERVICES
    return True


def _prune(*, keep: Path) -> None:
    builds = sorted((p for p in BUILD_DIR.iterdir() if p.is_dir() and not p.name.startswith(".")), key=_mtime)
    for old in builds[:-KEEP_BUILDS]:
        if old != keep and time.time() - _mtime(old) > KEEP_SECONDS:
            shutil.rmtree(old, ignore_errors=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
