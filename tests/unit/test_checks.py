"""The format, lint and type checks `make test` runs first: they are configured to fail on a violation."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def run(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / tool), *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_ruff_check_fails_on_a_line_over_120_characters_and_an_unused_import(tmp_path):
    # Given a module with a 121-character line and an unused import
    bad = tmp_path / "bad.py"
    bad.write_text("import os\n\nX = '" + "x" * 115 + "'\n")
    # When ruff checks it with the project's settings
    result = run("ruff", "check", "--config", str(ROOT / "pyproject.toml"), "--no-cache", str(bad))
    # Then it fails and names both rules
    assert result.returncode != 0
    assert "E501" in result.stdout and "F401" in result.stdout


def test_ruff_format_check_fails_on_unformatted_code(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("x = {  'a':1 }\n")
    result = run("ruff", "format", "--check", "--config", str(ROOT / "pyproject.toml"), "--no-cache", str(bad))
    assert result.returncode != 0


def test_mypy_strict_fails_on_an_untyped_function(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def double(x):\n    return x * 2\n")
    result = run("mypy", "--config-file", str(ROOT / "pyproject.toml"), "--no-incremental", str(bad))
    assert result.returncode != 0 and "no-untyped-def" in result.stdout


def test_make_test_runs_format_lint_and_types_before_the_suite():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^test: check\b", makefile, re.M), "make test must depend on the check target"
    check = re.search(r"^check:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert check is not None
    recipe = check.group(1)
    for command in ("ruff format --check", "ruff check", "mypy"):
        assert command in recipe


def test_every_source_line_fits_in_120_characters():
    tracked = subprocess.run(["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True, check=True)
    long = [
        f"{name}:{number}"
        for name in tracked.stdout.split()
        if (ROOT / name).is_file()
        for number, line in enumerate((ROOT / name).read_text(encoding="utf-8").splitlines(), 1)
        if len(line) > 120
    ]
    assert long == []
