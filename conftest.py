"""Root conftest: shared fixtures live in tests/support/fixtures.py."""
import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

pytest_plugins = ["tests.support.fixtures"]
