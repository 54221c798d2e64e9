"""Reads the deployment wiring CDK put into a function's environment; handlers read os.environ only here."""

import os

from tailor.serving.reconciler import SweepPolicy
from tailor.serving.schedules import SERVE_JOBS_VARIABLE, SWEEP_POLICY_VARIABLE, Wiring


def from_environment() -> Wiring:
    return Wiring.from_environment(os.environ)


def job_serving_wiring() -> Wiring | None:
    """Wiring for starting job serving, or None where no job has a serve block (that role has no such rights)."""
    return from_environment() if os.environ.get(SERVE_JOBS_VARIABLE) else None


def sweep_policy() -> SweepPolicy:
    return SweepPolicy.from_json(os.environ[SWEEP_POLICY_VARIABLE])
