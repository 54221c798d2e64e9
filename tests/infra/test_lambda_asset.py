"""The functions' asset carries the SDK they were tested with, and the deployed code imports it, not the runtime's.

Each check runs the built asset in an isolated interpreter (`-I -S`: no site-packages, no user paths), which is
what a Lambda worker sees of it: only the asset directory on sys.path before the standard library.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

from cdk_constructs import lambda_bundle
from tests.conftest import ROOT

HANDLERS = ("functions.job_resource", "functions.job_completion", "functions.serving_resource", "functions.teardown")


def _pinned(name: str) -> str:
    text = (ROOT / "requirements.txt").read_text()
    match = re.search(rf"^{name}(\[[a-z,]+\])?==(\S+)$", text, re.M)
    assert match, f"{name} is not pinned in requirements.txt"
    return match.group(2)


def _isolated(asset, code: str, *, extra_env: dict[str, str] | None = None) -> str:
    script = f"import sys; sys.path.insert(0, {str(asset)!r}); " + code
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-B", "-c", script],  # -B: no bytecode written into the asset
        capture_output=True,
        text=True,
        timeout=120,
        env={
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "x",
            "AWS_SECRET_ACCESS_KEY": "x",
            **(extra_env or {}),
        },
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_asset_imports_its_own_pinned_botocore_and_boto3():
    # Given the built asset
    asset, _ = lambda_bundle.build()
    # When a bare interpreter imports the SDK from it
    out = json.loads(
        _isolated(
            asset,
            "import json, boto3, botocore; print(json.dumps([boto3.__version__, botocore.__version__, "
            "botocore.__file__, boto3.__file__]))",
        )
    )
    # Then it is the pinned version, loaded from the asset
    assert out[:2] == [_pinned("boto3"), _pinned("botocore")]
    assert out[2].startswith(str(asset)) and out[3].startswith(str(asset))


def test_every_handler_imports_and_every_client_a_handler_makes_can_be_built_from_the_asset():
    asset, _ = lambda_bundle.build()
    services = ", ".join(repr(s) for s in lambda_bundle.SERVICES)
    modules = "; ".join(f"import {m}" for m in HANDLERS)
    built = "[boto3.client(s).meta.service_model.service_name for s in (" + services + ",)]"
    out = _isolated(asset, f"{modules}; import boto3, json; print(json.dumps({built}))")
    assert set(json.loads(out)) >= {"bedrock", "s3", "ssm", "sns", "scheduler", "cloudwatch", "budgets", "xray"}


def test_the_clients_the_domain_package_makes_are_all_shipped():
    # Every `client("...")` in tailor/ names a service whose model is in the asset
    named = set(
        re.findall(r'client\("([a-z0-9-]+)"\)', "\n".join(p.read_text() for p in (ROOT / "tailor").rglob("*.py")))
    )
    assert named and named <= set(lambda_bundle.SERVICES)


def test_the_asset_ships_handlers_domain_and_sdk_only():
    asset, _ = lambda_bundle.build()
    top = sorted(p.name for p in asset.iterdir() if not p.name.startswith("."))
    assert {"functions", "tailor", "boto3", "botocore"} <= set(top)
    assert not (asset / "tailor" / "cli").exists() and not (asset / "tests").exists()
    assert not (asset / "rehearsal").exists() and not list(asset.rglob("__pycache__"))
    models = {p.name for p in (asset / "botocore" / "data").iterdir() if p.is_dir()}
    assert models == set(lambda_bundle.SERVICES)


def test_the_asset_is_built_once_per_content():
    first = lambda_bundle.build()
    second = lambda_bundle.build()
    assert first == second and first[0].name == first[1][:20]


def test_every_handler_loads_powertools_and_the_xray_sdk_from_the_asset_with_tracing_on_as_in_lambda():
    # Given the built asset, and the variables Lambda sets (LAMBDA_TASK_ROOT switches Powertools' Tracer on)
    asset, _ = lambda_bundle.build()
    lambda_env = {"LAMBDA_TASK_ROOT": str(asset), "AWS_LAMBDA_FUNCTION_NAME": "tailor-dev-teardown"}
    modules = "; ".join(f"import {m}" for m in HANDLERS)
    code = (
        f"{modules}; import json, aws_lambda_powertools as p, aws_xray_sdk as x, wrapt, functions.observability as o; "
        "print(json.dumps([p.__file__, x.__file__, wrapt.__file__, o.tracer.disabled]))"
    )
    # When a bare interpreter imports every handler from it
    powertools, xray, wrapt, disabled = json.loads(_isolated(asset, code, extra_env=lambda_env))
    # Then Powertools, the X-Ray SDK and wrapt all come from the asset, and tracing is on
    assert all(path.startswith(str(asset)) for path in (powertools, xray, wrapt))
    assert disabled is False


def test_the_asset_ships_no_compiled_extension_and_pins_what_it_ships():
    # Compiled code was built for this machine (x86_64, this Python), not for the arm64 Python 3.14 runtime
    asset, _ = lambda_bundle.build()
    assert not [p for p in asset.rglob("*") if p.suffix in (".so", ".pyd", ".dylib")]
    shipped = {lambda_bundle._canonical(d.metadata["Name"]): d.version for d in lambda_bundle.sdk_distributions()}
    for name in ("aws-lambda-powertools", "aws-xray-sdk", "wrapt"):
        assert shipped[name] == _pinned(name)
