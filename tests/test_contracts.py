"""Each service's contract is the truth: its RPC list matches the service's entrypoints, its
events are unique, its errors are registered for RPC clients, and the gateway maps every one."""
import importlib

import pytest
from nameko.exceptions import registry
from nameko.rpc import Rpc

from gateway.errors import REMOTE_ERRORS
from obcommon.procs import SERVICES


def rpc_methods(service_cls) -> set[str]:
    names = set()
    for name in dir(service_cls):
        fn = getattr(service_cls, name)
        for ext in getattr(fn, "nameko_entrypoints", ()):
            if isinstance(ext, Rpc) or type(ext).__name__ == "Rpc":
                names.add(name)
    return names


@pytest.mark.parametrize("name", SERVICES)
def test_contract_matches_service(name):
    contract = importlib.import_module(f"services.{name}.contract").CONTRACT
    service = importlib.import_module(f"services.{name}.service").Service
    assert contract.service == name == service.name
    assert {m.name for m in contract.rpc} == rpc_methods(service)
    events = [e.name for e in contract.events]
    assert len(events) == len(set(events))
    for error in contract.errors:
        assert f"{error.__module__}.{error.__name__}" in registry, error
        assert error in REMOTE_ERRORS, f"gateway/errors.py does not map {error.__name__}"
