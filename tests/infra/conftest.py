"""One synth of the example configs shared by every infra test (synth is the slow part)."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from app import build_app
from tests.conftest import ROOT


def synth(outdir: Path, config_dir: Path | None = None, *, root: Path = ROOT) -> cdk.App:
    context = json.loads((ROOT / "cdk.json").read_text())["context"]  # the feature flags `cdk synth` applies
    app = cdk.App(outdir=str(outdir), context=context)
    build_app(app, root=root, config_dir=config_dir)
    app.synth()  # raises if cdk-nag reports an unacknowledged finding
    return app


@pytest.fixture(scope="session")
def assembly(tmp_path_factory, example_root):
    """The shipped examples (dev and prod) synthesized, whatever else the user keeps in config/."""
    outdir = tmp_path_factory.mktemp("cdk.out")
    app = synth(outdir, root=example_root)
    return outdir, app


def template(assembly, name: str) -> Template:
    outdir, _ = assembly
    return Template.from_json(json.loads((outdir / f"{name}.template.json").read_text()))
