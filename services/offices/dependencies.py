"""Offices' nameko dependencies: seeding the table from the config on first start."""
from nameko.extensions import DependencyProvider


class Seeder(DependencyProvider):
    """Seeds at start-up, before the service takes requests (`repository.seed_offices`)."""

    def __init__(self, db_attr: str = "db"):
        self.db_attr = db_attr

    def start(self) -> None:
        from obcommon.config import load_config
        from obcommon.service import Db

        from .repository import seed_offices

        db_provider = next(d for d in self.container.dependencies if getattr(d, "attr_name", None) == self.db_attr)
        seed_offices(Db(db_provider), load_config())
