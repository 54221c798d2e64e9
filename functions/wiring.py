"""Reads the deployment wiring CDK put into a function's environment; handlers read os.environ only here."""

import logging
import os

from tailor.observability import ACCOUNT_VARIABLE, BUDGET_VARIABLE
from tailor.serving.reconciler import SweepPolicy
from tailor.serving.schedules import SERVE_JOBS_VARIABLE, SWEEP_POLICY_VARIABLE, Wiring


def from_environment() -> Wiring:
    return Wiring.from_environment(os.environ)


def job_serving_wiring() -> Wiring | None:
    """Wiring for starting job serving, or None where no job has a serve block (that role has no such rights)."""
    return from_environment() if os.environ.get(SERVE_JOBS_VARIABLE) else None


def sweep_policy() -> SweepPolicy:
    return SweepPolicy.from_json(os.environ[SWEEP_POLICY_VARIABLE])


def budget() -> tuple[str, str] | None:
    """(account, budget name) of the environment's budget, or None where it has none."""
    name, account = os.environ.get(BUDGET_VARIABLE), os.environ.get(ACCOUNT_VARIABLE)
    return (account, name) if name and account else None


def configure_logging() -> None:
    """Structured JSON lines for Tailor's own loggers (functions/observability.py sets them up on import), and
    INFO and above to the function's log for everything else. The Lambda runtime installs a root handler; a local
    worker (the rehearsal's emulator runs functions as plain processes) has none, and would drop everything below
    WARNING."""
    import functions.observability  # noqa: F401  (the import is the setup)

    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(format="%(levelname)s %(name)s %(message)s")
    root.setLevel(logging.INFO)
