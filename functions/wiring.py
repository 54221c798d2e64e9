"""Reads the deployment wiring CDK put into a function's environment; handlers read os.environ only here."""

import logging
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


def configure_logging() -> None:
    """INFO and above to the function's log. The Lambda runtime installs a root handler; a local worker (the
    rehearsal's emulator runs functions as plain processes) has none, and would drop everything below WARNING."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(format="%(levelname)s %(name)s %(message)s")
    root.setLevel(logging.INFO)
