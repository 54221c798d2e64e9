"""Cold start of each function from its real asset, against an empty interpreter's start timed in the same run.

Each sample is a fresh `python -I -S -B` (no site-packages, no bytecode cache: what a cold Lambda worker pays
the first time) that puts the built asset first on sys.path, imports one handler module and creates the Bedrock
client the handler will use. The floor is the same interpreter doing nothing. Reported: median of --runs,
the handler's import + client time above the floor, and the asset's size zipped (what Lambda downloads).

    .venv/bin/python benchmarks/cold_start.py [--runs 15] [--asset DIR] [--lambda-env]

--asset measures another build (e.g. a copy of an older .build/lambda/<hash>) instead of this checkout's;
--compare DIR measures DIR too, each sample right after this build's, so both see the same load on the machine;
--lambda-env sets the variables Lambda sets (LAMBDA_TASK_ROOT, the function name, a trace header), which switch
Powertools' Tracer on: the X-Ray SDK then patches botocore at import, as it does in a deployed function.
"""

from __future__ import annotations

import argparse
import io
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cdk_constructs import lambda_bundle  # noqa: E402

HANDLERS = ("functions.job_resource", "functions.job_completion", "functions.serving_resource", "functions.teardown")
ENV = {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}


def sample(code: str, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-I", "-S", "-B", "-c", code], check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--asset", type=Path, help="an asset directory to measure instead of this checkout's build")
    parser.add_argument("--compare", type=Path, help="a second asset, sampled alternately with the first")
    parser.add_argument("--lambda-env", action="store_true", help="as in Lambda: Powertools' Tracer switched on")
    args = parser.parse_args()
    asset = args.asset.resolve() if args.asset else lambda_bundle.build()[0]
    env = dict(ENV)
    if args.lambda_env:
        env |= {
            "LAMBDA_TASK_ROOT": str(asset),
            "AWS_LAMBDA_FUNCTION_NAME": "tailor-bench",
            "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        }
    assets = [asset] + ([args.compare.resolve()] if args.compare else [])
    rows = []
    for handler in HANDLERS:
        floor: list[float] = []
        cold: list[list[float]] = [[] for _ in assets]
        for _ in range(args.runs):  # interleaved, so load on the machine hits all alike
            floor.append(sample("pass", env))
            for i, directory in enumerate(assets):
                prefix = f"import sys; sys.path.insert(0, {str(directory)!r}); "
                run_env = env | ({"LAMBDA_TASK_ROOT": str(directory)} if args.lambda_env else {})
                cold[i].append(sample(prefix + f"import {handler}; import boto3; boto3.client('bedrock')", run_env))
        for i, directory in enumerate(assets):
            rows.append((f"{handler} [{directory.name[:12]}]", statistics.median(floor), statistics.median(cold[i])))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(asset.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(asset).as_posix())
    files = sum(1 for p in asset.rglob("*") if p.is_file())
    size = sum(p.stat().st_size for p in asset.rglob("*") if p.is_file())
    print(f"asset: {files} files, {size / 1e6:.1f} MB unpacked, {len(buffer.getvalue()) / 1e6:.1f} MB zipped")
    print(f"{asset}: python {sys.version.split()[0]}, median of {args.runs}, Lambda variables: {args.lambda_env}")
    print(f"{'handler [asset]':48} {'floor':>8} {'cold':>8} {'above floor':>12} {'ratio':>6}")
    for handler, floor_s, cold_s in rows:
        print(
            f"{handler:48} {floor_s * 1000:7.0f}ms {cold_s * 1000:7.0f}ms {(cold_s - floor_s) * 1000:11.0f}ms "
            f"{cold_s / floor_s:6.2f}"
        )


if __name__ == "__main__":
    main()
