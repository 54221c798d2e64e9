"""Teardown overrun under injected faults: how long past its expires-at does managed serving stay alive?

    .venv/bin/python benchmarks/teardown_overrun.py [--runs N] [--only TEXT] [--json]

Plays every scenario of tests/simulation/scenarios.py (the ones tests/simulation/test_lifecycle.py asserts),
each in a fresh moto world with the Bedrock double on a fake clock, several times: run k puts the reconciler's
5-minute passes at another phase relative to the expiry ((97 s x k) mod 5 min) and fires the one-time schedule at
another second of its minute (seed k). Everything runs through the real entry points (the serving custom resource,
job completion, functions/teardown.py) against emulated EventBridge Scheduler, Lambda async retries, the
reconciler rule and the CDK Provider (tests/simulation/harness.py).

Prints one row per fault: runs, worst overrun (m:ss; for a resource busy at expiry, counted from when Bedrock
would first accept its delete, with the overrun from expiry alongside), its bound, pass/fail; then how many
faults were tried. Exits 1 if any bound is broken (or a managed resource was deleted before its expiry).
`--runs N` plays every scenario N times; `--only TEXT` keeps the rows whose name contains TEXT.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.simulation.harness import RECONCILE_EVERY, minutes, standalone  # noqa: E402  (needs ROOT on the path)
from tests.simulation.scenarios import SCENARIOS, Result, Scenario, measure  # noqa: E402

PHASE_STEP = timedelta(seconds=97)  # coprime with 300 s: successive runs spread the passes across the period


def play(scenario: Scenario, runs: int) -> list[Result]:
    results = []
    for k in range(runs):
        phase = timedelta(seconds=(PHASE_STEP.total_seconds() * k) % RECONCILE_EVERY.total_seconds())
        with standalone(seed=k, reconcile_phase=phase, **scenario.options) as sim:
            results.append(measure(scenario, sim))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, help="runs per scenario (default: each scenario's own, 2-6)")
    parser.add_argument("--only", default="", help="only the scenarios whose name contains this text")
    parser.add_argument("--json", action="store_true", help="also print one JSON line per scenario")
    args = parser.parse_args(argv)
    logging.disable(logging.CRITICAL)  # the handlers log every deferral and sweep; the table is the output

    chosen = [s for s in SCENARIOS if args.only in s.name]
    header = f"{'fault':<55} {'faults':>6} {'runs':>4} {'worst':>7} {'from expiry':>11} {'bound':>6}  result"
    print(header)
    print("-" * len(header))
    broken, runs_total, faults_total, started = 0, 0, 0, time.perf_counter()
    for scenario in chosen:
        results = play(scenario, args.runs or scenario.runs)
        worst = None if any(r.worst is None for r in results) else max(r.worst for r in results)
        from_expiry = None if worst is None else max(r.worst_from_expiry for r in results)
        passed = all(r.passed for r in results)
        broken += not passed
        runs_total += len(results)
        faults_total += len(results) * scenario.faults
        early = sum(len(r.early) for r in results)
        verdict = (
            "pass" if passed else ("FAIL: still alive" if worst is None else "FAIL: deleted early" if early else "FAIL")
        )
        shown_from_expiry = minutes(from_expiry) if scenario.measure == "deletable" else ""
        print(
            f"{scenario.name:<55} {scenario.faults:>6} {len(results):>4} {minutes(worst):>7} "
            f"{shown_from_expiry:>11} {minutes(scenario.bound):>6}  {verdict}"
        )
        if args.json:
            print(
                json.dumps(
                    {
                        "fault": scenario.name,
                        "runs": len(results),
                        "worst_s": None if worst is None else worst.total_seconds(),
                        "worst_from_expiry_s": None if from_expiry is None else from_expiry.total_seconds(),
                        "bound_s": scenario.bound.total_seconds(),
                        "passed": passed,
                    }
                )
            )
    print("-" * len(header))
    print(
        f"{len(chosen)} scenarios ({sum(1 for s in chosen if not s.faults)} without a fault), {runs_total} runs, "
        f"{faults_total} faults injected; {broken} bound(s) broken; {time.perf_counter() - started:.1f} s"
    )
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
