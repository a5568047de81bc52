"""Alembic environment: see obcommon.migrate."""
from obcommon.migrate import run_env

run_env()
