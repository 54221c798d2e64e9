"""Cold start of each function from its real asset, against an empty interpreter's start timed in the same run.

Each sample is a fresh `python -I -S -B` (no site-packages, no bytecode cache: what a cold Lambda worker pays
the first time) that puts the built asset first on sys.path, imports one handler module and creates the Bedrock
client the handler will use. The floor is the same interpreter doing nothing. Reported: median of --runs,
the handler's import + client time above the floor, and the asset's size zipped (what Lambda downloads).

    .venv/bin/python benchmarks/cold_start.py [--runs 15]
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


def sample(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-I", "-S", "-B", "-c", code], check=True, env=ENV)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    asset, _ = lambda_bundle.build()
    prefix = f"import sys; sys.path.insert(0, {str(asset)!r}); "
    rows = []
    for handler in HANDLERS:
        floor, cold = [], []
        for _ in range(args.runs):  # interleaved, so load on the machine hits both alike
            floor.append(sample("pass"))
            cold.append(sample(prefix + f"import {handler}; import boto3; boto3.client('bedrock')"))
        rows.append((handler, statistics.median(floor), statistics.median(cold)))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(asset.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(asset).as_posix())
    files = sum(1 for p in asset.rglob("*") if p.is_file())
    size = sum(p.stat().st_size for p in asset.rglob("*") if p.is_file())
    print(f"asset: {files} files, {size / 1e6:.1f} MB unpacked, {len(buffer.getvalue()) / 1e6:.1f} MB zipped")
    print(f"python {sys.version.split()[0]}, median of {args.runs}")
    print(f"{'handler':32} {'floor':>8} {'cold':>8} {'above floor':>12} {'ratio':>6}")
    for handler, floor_s, cold_s in rows:
        print(
            f"{handler:32} {floor_s * 1000:7.0f}ms {cold_s * 1000:7.0f}ms {(cold_s - floor_s) * 1000:11.0f}ms "
            f"{cold_s / floor_s:6.2f}"
        )


if __name__ == "__main__":
    main()
