"""Benchmark the dataset validator against the floor: stdlib json.loads on every line.

    python benchmarks/validator_bench.py [--size-mb N] [--format converse] [--keep] [--dir /tmp]

Generates a deterministic, valid synthetic dataset, then times, each in a fresh child process so
neither's memory mixes into the other's: (a) the floor, reading the file line by line and calling
json.loads on each line, and (b) tailor.datasets.validate_path. Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BUCKET = "tailor-bench-datasets"
NOVA_RESERVED = ("User:", "Bot:", "Assistant:", "System:", "<image>", "<video>", "[EOS]")
NOVA_DISCOURAGED = ("SYSTEM:", "USER:", "BOT:", "ASSISTANT:", "Thought:", "<unk>")
NOVA_WORDS = {"reserved_words": NOVA_RESERVED, "discouraged_words": NOVA_DISCOURAGED}

# Rules a real model would get (catalog/models.yaml), so the word scan, the media rules and the token limits
# with their conservative warning are all on the timed path.
RULES: dict[str, dict[str, Any]] = {
    "converse": {
        "max_tokens_per_record": 32000,
        "conservative_chars_per_token": 4,
        **NOVA_WORDS,
        "images": {"formats": ["png", "jpeg", "gif", "webp"], "max_per_message": 10},
        "videos": {"formats": ["mov", "mkv", "mp4", "webm"], "max_per_record": 1},
        "tool_use": "warning",
    },
    "converse_prompts": {
        "max_tokens_per_record": 32000,
        "discouraged_words": NOVA_RESERVED + NOVA_DISCOURAGED,
        "schema_version_required": True,
    },
    "prompt_completion": {"max_tokens_per_record": 16000, "conservative_chars_per_token": 4},
    "claude_messages": {
        "max_tokens_per_record": 32000,
        "conservative_chars_per_token": 3,
        "discouraged_words": ("\nHuman:", "\nAssistant:"),
    },
    "text_input": {"max_tokens_per_record": 4096},
    "rft_chat": {"max_tokens_per_record": 32000, "discouraged_words": NOVA_RESERVED + NOVA_DISCOURAGED},
}

_WORDS = tuple(
    [
        "the",
        "of",
        "and",
        "to",
        "in",
        "is",
        "that",
        "it",
        "for",
        "on",
        "with",
        "as",
        "was",
        "be",
        "by",
        "this",
        "are",
        "at",
        "from",
        "or",
        "an",
        "have",
        "not",
        "which",
        "but",
        "model",
        "data",
        "training",
        "answer",
        "question",
        "customer",
        "order",
        "invoice",
        "refund",
        "shipping",
        "account",
        "password",
        "reset",
        "please",
        "thanks",
        "could",
        "would",
        "should",
        "because",
        "however",
        "therefore",
        "example",
        "result",
        "value",
        "error",
        "request",
        "response",
        "system",
        "service",
        "region",
        "bucket",
        "token",
        "record",
        "dataset",
        "café",
        "naïve",
        "über",
        "東京",
        "データ",
        "résumé",
        "42",
        "3.14",
        "2024",
        "v1",
        "API",
        "JSON",
        "S3",
        "Lambda",
        "Bedrock",
    ]
)


def _pool(rng: random.Random) -> list[str]:
    """Paragraphs of 5 to 400 words: records of a few hundred bytes to a few KB."""
    pool = []
    for _ in range(4000):
        n = int(rng.triangular(5, 400, 40))
        words = rng.choices(_WORDS, k=n)
        pool.append((" ".join(words).capitalize() + ".").replace(" the ", "\nthe ", 1))
    return pool


def _records(fmt: str, rng: random.Random) -> Iterator[dict[str, Any]]:
    pool = _pool(rng)
    text: Callable[[], str] = lambda: rng.choice(pool)  # noqa: E731
    while True:
        turns = rng.choice((1, 1, 1, 2, 3))
        if fmt in ("converse", "converse_prompts"):
            messages = []
            for t in range(turns):
                user: list[dict[str, Any]] = [{"text": text()}]
                if fmt == "converse" and t == 0 and rng.random() < 0.05:
                    uri = f"s3://{BUCKET}/images/{rng.randrange(10**6)}.png"
                    user.insert(0, {"image": {"format": "png", "source": {"s3Location": {"uri": uri}}}})
                messages.append({"role": "user", "content": user})
                if fmt == "converse" or t < turns - 1 or rng.random() < 0.5:
                    messages.append({"role": "assistant", "content": [{"text": text()}]})
            yield {"schemaVersion": "bedrock-conversation-2024", "system": [{"text": text()}], "messages": messages}
        elif fmt == "claude_messages":
            msgs = [{"role": r, "content": text()} for _ in range(turns) for r in ("user", "assistant")]
            yield {"system": text(), "messages": msgs}
        elif fmt == "rft_chat":
            msgs = [{"role": "system", "content": text()}, {"role": "user", "content": text()}]
            answer = {"answer": rng.randrange(1000)}
            yield {"messages": msgs, "reference_answer": answer, "task_id": rng.randrange(10**9)}
        elif fmt == "prompt_completion":
            yield {"prompt": text(), "completion": text()}
        else:
            yield {"input": " ".join(text() for _ in range(turns))}


def generate(path: Path, fmt: str, size_mb: float, seed: int) -> int:
    target = int(size_mb * 1024 * 1024)
    written = 0
    rng = random.Random(seed)
    with path.open("wb") as f:
        batch = []
        for rec in _records(fmt, rng):
            line = (json.dumps(rec, ensure_ascii=False) + "\n").encode()
            batch.append(line)
            written += len(line)
            if written >= target or len(batch) == 4096:
                f.write(b"".join(batch))
                batch = []
            if written >= target:
                return written
    return written


_CHILD = {
    "floor": """
import json, sys
with open(sys.argv[1], "rb") as f:
    for line in f:
        json.loads(line)
""",
    "validator": """
import json, sys
from tailor.datasets import DatasetRules, validate_path
report = validate_path(sys.argv[1], DatasetRules(sys.argv[2], **json.loads(sys.argv[3])),
                       dataset_bucket=sys.argv[4])
assert report.ok, report.render()
print(json.dumps({"records": report.records, "tokens": report.total_estimated_tokens}), file=sys.stderr)
""",
    "baseline": """
import tailor.datasets
""",
}

# Linux carries ru_maxrss across fork and exec, so a child would report the parent's peak; VmHWM is the
# high-water mark of the child's own address space.
_WRAPPER = """
import json, resource, sys, time
start = time.perf_counter()
exec(compile(sys.argv.pop(1), "<bench>", "exec"), {"__name__": "__bench__"})
elapsed = time.perf_counter() - start
try:
    with open("/proc/self/status") as status:
        peak = next(int(l.split()[1]) for l in status if l.startswith("VmHWM:"))
except OSError:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": elapsed, "maxrss_kb": peak}))
"""


def run_child(mode: str, path: Path, fmt: str) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    args = [sys.executable, "-c", _WRAPPER, _CHILD[mode], str(path), fmt, json.dumps(RULES[fmt]), BUCKET]
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{mode} child failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if done.stderr.strip():
        result.update(json.loads(done.stderr.strip().splitlines()[-1]))
    return result


def _warm(path: Path) -> None:
    with path.open("rb", buffering=0) as f:
        while f.read(8 * 1024 * 1024):
            pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=float, default=200)
    parser.add_argument("--format", default="converse", choices=sorted(RULES))
    parser.add_argument("--keep", action="store_true", help="keep the generated file and print its path")
    parser.add_argument("--dir", default=None, help="where to write the dataset (default: a new temp dir)")
    parser.add_argument("--repeat", type=int, default=3, help="time each side N times, keep the fastest")
    parser.add_argument("--seed", type=int, default=20261125)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="validator-bench-", dir=args.dir))
    path = workdir / f"{args.format}.jsonl"
    try:
        t0 = time.perf_counter()
        size = generate(path, args.format, args.size_mb, args.seed)
        gen_s = time.perf_counter() - t0
        _warm(path)  # both sides then read from the page cache, as a Lambda reading S3 never waits on a disk
        runs: dict[str, list[dict[str, Any]]] = {"floor": [], "validator": []}
        for _ in range(args.repeat):  # interleaved, so a noisy neighbour slows both sides alike
            for mode, results in runs.items():
                results.append(run_child(mode, path, args.format))
        floor, valid = (min(results, key=lambda r: r["seconds"]) for results in runs.values())
        base = run_child("baseline", path, args.format)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    mb = size / 1e6
    result = {
        "format": args.format,
        "bytes": size,
        "records": valid["records"],
        "generate_s": round(gen_s, 1),
        "floor_s": round(floor["seconds"], 2),
        "floor_mb_s": round(mb / floor["seconds"], 1),
        "validator_s": round(valid["seconds"], 2),
        "validator_mb_s": round(mb / valid["seconds"], 1),
        "ratio": round(valid["seconds"] / floor["seconds"], 2),
        "validator_peak_rss_mb": round(valid["maxrss_kb"] / 1024, 1),
        "floor_peak_rss_mb": round(floor["maxrss_kb"] / 1024, 1),
        "interpreter_rss_mb": round(base["maxrss_kb"] / 1024, 1),
        "python": sys.version.split()[0],
        "nproc": os.cpu_count(),
    }
    rows = [
        ("dataset", f"{args.format}, {size / 2**20:,.0f} MiB, {valid['records']:,} records"),
        ("floor (json.loads per line)", f"{result['floor_s']} s  {result['floor_mb_s']} MB/s"),
        ("validate_path", f"{result['validator_s']} s  {result['validator_mb_s']} MB/s"),
        ("ratio validator/floor", f"{result['ratio']}"),
        (
            "validator peak RSS",
            f"{result['validator_peak_rss_mb']} MB (interpreter + import alone: {result['interpreter_rss_mb']} MB)",
        ),
    ]
    for name, value in rows:
        print(f"{name:<30} {value}")
    if args.keep:
        print(f"{'kept':<30} {path}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
