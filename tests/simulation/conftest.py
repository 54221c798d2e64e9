"""One Simulation per test, in the moto world of the `aws` fixture."""

from __future__ import annotations

import pytest

from tests.simulation.harness import Simulation, make_world


@pytest.fixture
def simulate(aws):
    """`simulate(**options)` builds the test's Simulation (options as Simulation takes them).

    The world is tests/conftest.py's (the double, moto clients, topic, DLQ, schedule group), made through one
    cached boto3 session: the `clients` fixture's fresh session re-reads every service model, 0.25 s a test.
    """

    def make(**options) -> Simulation:
        return Simulation(*make_world(), **options)

    return make
