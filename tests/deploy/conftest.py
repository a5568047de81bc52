"""Fixtures for the deployment checks: the chart rendered once per values file."""
import pytest

from .chart import VALUES_FILES, load_values, render


@pytest.fixture(scope="session")
def rendered():
    """{"default" | "dev" | "prod": [Manifest]}"""
    return {name: render(load_values(name)) for name in VALUES_FILES}
