"""Shared pytest configuration: hypothesis profiles and the heavy-run switch."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

# "ci" keeps the suite inside its time budget on two cores; "full" explores more.
settings.register_profile(
    "ci", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "full", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

FULL = os.environ.get("RIDGETHEORY_FULL", "") == "1"


def pytest_collection_modifyitems(config, items):
    if FULL:
        return
    skip = pytest.mark.skip(reason="heavy run: set RIDGETHEORY_FULL=1 to include it")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
