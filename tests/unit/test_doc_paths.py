"""Every repository path the documentation and the catalog's comments cite exists: a moved module or a test that
was never written shows up here, not in a newcomer's first hour (the README once cited a parity test that did not
exist, and the catalog's header two files that had moved)."""

from __future__ import annotations

import re
import subprocess

from tests.conftest import ROOT

ROOMS = "docs|tailor|cdk_constructs|functions|stacks|tests|benchmarks|rehearsal|examples|config|catalog"
CITED = re.compile(rf"(?<![\w/.<-])((?:{ROOMS})/[\w./-]*\w\.(?:md|py|yaml|jsonl|json|txt))\b")
# Files the text asks the reader to create: docs/quickstart.md has them copy an example to config/sandbox.yaml.
WRITTEN_BY_THE_READER = {"config/sandbox.yaml"}


def cited_paths() -> dict[str, set[str]]:
    tracked = subprocess.run(
        ["git", "ls-files", "*.md", "catalog/*.yaml"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    found: dict[str, set[str]] = {}
    for name in tracked:
        for match in CITED.finditer((ROOT / name).read_text(errors="replace")):
            found.setdefault(match.group(1), set()).add(name)
    return found


def test_every_path_the_documentation_cites_exists():
    cited = cited_paths()
    assert len(cited) > 50  # the pattern still finds the citations
    missing = {path: sorted(where) for path, where in cited.items() if not (ROOT / path).exists()}
    assert {p: w for p, w in missing.items() if p not in WRITTEN_BY_THE_READER} == {}
