"""Identity's nameko dependencies: derived secret keys, and the list of office ids."""
import time

from nameko.extensions import DependencyProvider

from obcommon import erasure
from obcommon.config import Env


class _Keys:
    def __init__(self, env: Env):
        self.code_key = env.derive_key("login-codes")
        self.pseudonym_key = env.derive_key(erasure.KEY_PURPOSE)


class Keys(DependencyProvider):
    """Keys derived from SECRET_KEY (never logged, never stored)."""

    def setup(self) -> None:
        self.keys = _Keys(Env.from_environ())

    def get_dependency(self, worker_ctx) -> _Keys:
        return self.keys


class _OfficeIdCache:
    """System Admins manage all offices; their `role.offices` lists them (asked of the offices
    service, cached for a few seconds because it changes rarely)."""

    ttl = 5.0

    def __init__(self):
        self.ids: list[str] = []
        self.at = 0.0

    def get(self, offices_rpc) -> list[str]:
        if time.monotonic() - self.at > self.ttl:
            self.ids = [o["id"] for o in offices_rpc.list_offices(include_retired=False)]
            self.at = time.monotonic()
        return list(self.ids)


class OfficeIds(DependencyProvider):
    def setup(self) -> None:
        self.cache = _OfficeIdCache()

    def get_dependency(self, worker_ctx) -> _OfficeIdCache:
        return self.cache
