"""Alembic migrations, one history per service in its own schema.

    python -m obcommon.migrate                      # upgrade every service to head
    python -m obcommon.migrate identity offices     # only these
    python -m obcommon.migrate --revision identity -m "add column"   # autogenerate a revision

Each service keeps its revisions in `services/<name>/migrations/versions/` and its version table
in its own schema; `env.py` there calls `run_env()` below.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import text

from .config import ConfigError, Env
from .db import make_engine, sqlalchemy_url
from .procs import SERVICES

REPO_ROOT = Path(__file__).resolve().parent.parent


def alembic_config(service: str, database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(REPO_ROOT / "services" / service / "migrations"))
    cfg.attributes["database_url"] = database_url
    cfg.attributes["service"] = service
    return cfg


def run_env() -> None:
    """Body of every service's migrations/env.py (online mode only)."""
    cfg = context.config
    service = cfg.attributes["service"]
    metadata = importlib.import_module(f"services.{service}.models").Base.metadata
    engine = make_engine(cfg.attributes["database_url"], f"office-booker-migrate-{service}", pool_size=None)
    with engine.connect() as conn:
        # One migrator per service at a time (replicas, hook jobs and tests may race).
        conn.execute(text("SELECT pg_advisory_lock(hashtext(:k))"), {"k": f"migrate:{service}"})
        conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{metadata.schema}"'))
        conn.commit()
        context.configure(
            connection=conn,
            target_metadata=metadata,
            version_table_schema=metadata.schema,
            include_schemas=False,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        conn.commit()
        conn.execute(text("SELECT pg_advisory_unlock(hashtext(:k))"), {"k": f"migrate:{service}"})
        conn.commit()


def upgrade(database_url: str, services=SERVICES) -> None:
    for service in services:
        command.upgrade(alembic_config(service, database_url), "head")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m obcommon.migrate")
    parser.add_argument("services", nargs="*", default=list(SERVICES))
    parser.add_argument("--revision", action="store_true", help="autogenerate a new revision")
    parser.add_argument("-m", "--message", default="change")
    args = parser.parse_args(argv)
    try:
        env = Env.from_environ()
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    if not env.database_url:
        print("DATABASE_URL must be set", file=sys.stderr)
        return 2
    sqlalchemy_url(env.database_url)  # fail early on a malformed URL
    for service in args.services:
        if service not in SERVICES:
            print(f"unknown service {service!r}", file=sys.stderr)
            return 2
        cfg = alembic_config(service, env.database_url)
        if args.revision:
            cfg.set_main_option("revision_environment", "true")
            command.revision(cfg, message=args.message, autogenerate=True)
        else:
            command.upgrade(cfg, "head")
    return 0


if __name__ == "__main__":
    sys.exit(main())
