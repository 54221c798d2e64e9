"""The toolchain a fresh clone gets on any laptop: a pinned Node 22 per platform, and make targets that fail fast.

No network here: the lock file is read, not resolved against the registry.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT

PLATFORMS = [("linux", "x64"), ("linux", "arm64"), ("darwin", "x64"), ("darwin", "arm64")]
PACKAGE = json.loads((ROOT / "package.json").read_text())
LOCK = json.loads((ROOT / "package-lock.json").read_text())


def installs_on(entry: dict, os_name: str, cpu: str) -> bool:
    """npm's rule for an optional package's os and cpu fields (a plain name allows, a '!name' excludes)."""

    def fits(allowed, value):
        allowed = [allowed] if isinstance(allowed, str) else allowed or []
        if not allowed:
            return True
        excluded = [a[1:] for a in allowed if a.startswith("!")]
        included = [a for a in allowed if not a.startswith("!")]
        return value not in excluded and (not included or value in included)

    return fits(entry.get("os"), os_name) and fits(entry.get("cpu"), cpu)


@pytest.mark.parametrize("os_name, cpu", PLATFORMS, ids=[f"{o}-{c}" for o, c in PLATFORMS])
def test_the_lock_file_gives_each_platform_exactly_one_pinned_node_22(os_name, cpu):
    # Given every package the lock file would install on that platform
    packages = {
        path: entry
        for path, entry in LOCK["packages"].items()
        if path and (not entry.get("optional") or installs_on(entry, os_name, cpu))
    }
    # Then exactly one provides the `node` binary, a Node 22 pinned by version and integrity
    nodes = [(path, entry) for path, entry in packages.items() if entry.get("bin", {}).get("node")]
    assert len(nodes) == 1, nodes
    path, entry = nodes[0]
    assert entry["version"].startswith("22.") and entry["integrity"].startswith("sha512-")
    assert entry.get("os") == os_name or entry.get("os") == [os_name]
    # and it installs without a script of its own (nothing fetched outside the lock)
    assert not entry.get("hasInstallScript")
    # and the CDK CLI is there too
    assert "node_modules/aws-cdk" in packages


def test_package_json_and_the_lock_name_the_same_node_packages_and_versions():
    declared = PACKAGE["optionalDependencies"]
    locked = {
        path.removeprefix("node_modules/"): entry["version"]
        for path, entry in LOCK["packages"].items()
        if entry.get("optional")
    }
    assert declared == locked
    assert LOCK["packages"][""]["optionalDependencies"] == declared
    assert len(set(declared.values())) == 1  # one Node version on every platform


def test_the_makefile_puts_the_platforms_node_first_on_path():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^NODE_BIN := \$\(CURDIR\)/node_modules/\.bin$", makefile, re.M)
    assert re.search(r"^export PATH := \$\(NODE_BIN\):", makefile, re.M)


def test_the_installed_node_is_22_and_jsii_runs_on_it_without_the_end_of_life_banner():
    node = ROOT / "node_modules" / ".bin" / "node"
    if not node.exists():
        pytest.skip("node_modules is not installed (make install); the lock-file tests above still ran")
    version = subprocess.run([str(node), "--version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith("v22.")
    env = {**os.environ, "PATH": f"{node.parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        [sys.executable, "-c", "import aws_cdk; aws_cdk.App()"], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "end-of-life" not in result.stderr and "not supported" not in result.stderr


@pytest.mark.parametrize("target", ["deploy", "destroy"])
def test_make_deploy_and_destroy_without_env_fail_at_once_before_install_or_synth(target, tmp_path):
    # Given a make that inherits nothing from an outer make (make test may be running this)
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "ENV")}
    started = time.monotonic()
    result = subprocess.run(["make", "-s", target], cwd=ROOT, capture_output=True, text=True, env=env, timeout=60)
    # Then it exits 2 with the usage line and the environments there are, and runs nothing else
    assert result.returncode == 2
    assert result.stderr.startswith(f"usage: make {target} ENV=<environment>, one of: ")
    assert time.monotonic() - started < 5
    dry = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True, env=env, timeout=60)
    assert dry.stdout.splitlines()[0].startswith('test -n ""')  # the check is the recipe's first command
