"""PostgreSQL access: engines, the unit of work, and the eventlet-friendly psycopg wait.

Each service owns one PostgreSQL schema (named after the service) and touches no other.
A `UnitOfWork` rolls back unless `commit()` is called; events recorded with `uow.emit()` are
written to the service's outbox table in the same transaction (see `obcommon.messaging`).
"""
from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from psycopg.pq import TransactionStatus
from sqlalchemy import (
    BigInteger,
    DateTime,
    Identity,
    MetaData,
    String,
    Text,
    cast,
    create_engine,
    delete,
    event,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import CursorResult, Engine, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.pool import NullPool

from . import tracing

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def service_metadata(schema: str) -> MetaData:
    """The metadata of a service's declarative base: its tables live in `schema`."""
    return MetaData(schema=schema, naming_convention=NAMING)


class OutboxColumns:
    """Mixin of a service's outbox table (`class OutboxMessage(OutboxColumns, Base)` in its
    models): an event waiting to be published; deleted once the broker has confirmed it."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    exchange: Mapped[str] = mapped_column(String(100))
    routing_key: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict] = mapped_column(JSONB)
    # Message headers to publish with it (the W3C trace context of the change), or null.
    headers: Mapped[dict | None] = mapped_column(JSONB, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


def outbox_insert(model: Any) -> str:
    """The INSERT of one outbox row into `model`'s table (a service's `OutboxColumns` model) as SQL
    text, for a statement of a service's own (a CTE of its write: one round trip instead of two).
    Its parameters are the ones `UnitOfWork.emit_values` returns."""
    return (f"INSERT INTO {model.__table__.fullname} (exchange, routing_key, payload, headers, created_at) VALUES (:outbox_exchange,"
            " :outbox_routing_key, CAST(:outbox_payload AS jsonb), CAST(:outbox_headers AS jsonb), :outbox_created_at)")


class CommandColumns:
    """Mixin of a service's table of command answers (`class CommandRecord(CommandColumns, Base)`,
    see `obcommon.service.command`): the answer a command RPC committed, by the call's correlation
    id: a redelivered call gets this answer instead of running again. Written in the command's own
    transaction; `outcome` is `{"result": ...}` or `{"error": <nameko-serialised ServiceError>}`."""

    __tablename__ = "commands"
    call_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    method: Mapped[str] = mapped_column(String(100))
    outcome: Mapped[dict | None] = mapped_column(JSONB, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


M = TypeVar("M")


def mapped_model(base: type[DeclarativeBase], mixin: type[M]) -> type[M] | None:
    """The model of `base` built on `mixin` (`OutboxColumns`, `CommandColumns`), or None."""
    for mapper in base.registry.mappers:
        if issubclass(mapper.class_, mixin):
            return mapper.class_
    return None


def outbox_model(base: type[DeclarativeBase]) -> type[OutboxColumns]:
    model = mapped_model(base, OutboxColumns)
    if model is None:
        raise RuntimeError(f"{base.__module__}: no model built on OutboxColumns (the outbox table)")
    return model


def sqlalchemy_url(database_url: str):
    """Accept `postgresql://…` (also `?host=/socket/dir`) and select the psycopg 3 driver."""
    url = make_url(database_url)
    if url.drivername in ("postgresql", "postgres", "postgresql+psycopg"):
        url = url.set(drivername="postgresql+psycopg")
    return url


def make_engine(database_url: str, application_name: str, pool_size: int | None = 10) -> Engine:
    """A pooled engine; `pool_size=None` opens a connection per use (migrations, scripts)."""
    pooling = (
        {"poolclass": NullPool}
        if pool_size is None
        # No overflow: a process never holds more than `pool_size` connections (PostgreSQL's
        # max_connections is shared by every process of every service).
        else {"pool_size": pool_size, "max_overflow": 0, "pool_timeout": 10, "pool_recycle": 1800}
    )
    engine = create_engine(
        sqlalchemy_url(database_url),
        connect_args={"application_name": application_name, "connect_timeout": 5},
        **pooling,
    )
    if pool_size is not None:
        ping_when_idle(engine)
    return engine


PING_AFTER_IDLE_SECONDS = 1.0


def ping_when_idle(engine: Engine, idle_seconds: float = PING_AFTER_IDLE_SECONDS) -> None:
    """Check a pooled connection at checkout if it sat idle for more than `idle_seconds`, and
    replace it if PostgreSQL dropped it (a restart, a failover, an idle timeout), as `pool_pre_ping`
    does, but without its round trip on every checkout: a busy service reuses its connections
    within milliseconds, and the ping was 5-9 % of booking's and notify's CPU under load. A
    connection that breaks while in use (or within the second) fails that one transaction as it
    would with a ping, and SQLAlchemy then recycles every connection of the pool opened before it
    (its invalidation time), so the next checkouts reconnect."""

    @event.listens_for(engine, "checkin")
    def idle_from(dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def ping_if_idle(dbapi_connection, record, proxy) -> None:
        since = record.info.pop("idle_since", None)
        if since is None or time.monotonic() - since <= idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:  # the pool reconnects (and retries the checkout)
            raise DisconnectionError(f"pooled connection dropped while idle: {exc}") from exc


def make_psycopg_green() -> None:
    """Make psycopg wait through `selectors`, which eventlet patches.

    The binary psycopg waits in C, out of reach of monkey patching: one slow query would stall
    every green thread of the process (measured: 5 x pg_sleep(1) took 5 s). The selector-based
    wait yields to the hub instead; tests/test_eventlet_db.py proves the overlap.
    """
    import psycopg.waiting

    psycopg.waiting.wait = psycopg.waiting.wait_selector


class UnitOfWork:
    """A transaction: `with uow: ...; uow.commit()`. Anything not committed is rolled back.

    Inside a command (`obcommon.service.command`) every unit of work is a savepoint of the
    command's one transaction (`NestedUnitOfWork`): its `commit()` keeps its changes, which
    become durable, with the command's answer, when the command commits."""

    def __init__(self, session_factory: Callable[[], Session], outbox_model: Any,
                 service_name: str, on_commit: Callable[[], None] | None = None):
        self._session_factory = session_factory
        self._outbox_model = outbox_model
        self._service_name = service_name
        self._on_commit = on_commit
        self.session: Session
        self._emitted = 0

    def __enter__(self) -> UnitOfWork:
        self.session = self._session_factory()
        self._emitted = 0
        return self

    def __exit__(self, *exc_info) -> None:
        try:
            end_keeping_prepared(self.session)
            self.session.rollback()
        finally:
            self.session.close()

    def commit(self) -> None:
        self.session.commit()
        if self._emitted and self._on_commit:
            self._on_commit()
        self._emitted = 0

    def emit(self, event, **fields: Any) -> dict:
        """Record `event` (an `EventSpec`) in the outbox, in this transaction.

        The payload is validated against the event's contract now, so a bad event fails the
        change that produced it instead of reaching consumers.
        """
        row = self._outbox_row(event, fields)
        self.session.add(self._outbox_model(**row))
        return row["payload"]

    def emit_values(self, event, **fields: Any) -> tuple[dict, dict[str, Any]]:
        """`emit`, as the parameters of `outbox_insert`'s statement, for the caller to insert the
        row itself in this transaction (e.g. in a CTE of its own write, to save a round trip):
        (payload, parameters)."""
        row = self._outbox_row(event, fields)
        headers = row["headers"]
        return row["payload"], {"outbox_exchange": row["exchange"], "outbox_routing_key": row["routing_key"],
                                "outbox_payload": json.dumps(row["payload"]),
                                "outbox_headers": json.dumps(headers) if headers else None,
                                "outbox_created_at": row["created_at"]}

    def _outbox_row(self, event, fields: dict[str, Any]) -> dict[str, Any]:
        """The outbox row's values for `event`, its payload checked against the contract."""
        payload = event.build(**fields)  # raises before anything is counted as emitted
        self._emitted += 1
        return {"exchange": f"{self._service_name}.events", "routing_key": event.name,
                "payload": payload, "headers": tracing.current_context(), "created_at": utcnow()}


def end_keeping_prepared(session: Session) -> None:
    """Roll back the session's open transaction, if it is healthy, keeping the statements psycopg
    prepared on the connection.

    psycopg's `rollback()` (and any ROLLBACK it sees go through a cursor) also forgets every
    statement it prepared on the connection and sends DEALLOCATE ALL: a round trip, and each
    statement is then planned afresh five times before it is prepared again. It does so because a
    failed transaction may have lost a PREPARE, or dropped an object a statement was prepared
    against. Here a healthy transaction (no error: every PREPARE in it succeeded) created no
    object (no DDL outside migrations, which do not pool), and prepared statements outlive a
    ROLLBACK in PostgreSQL; so the ROLLBACK is sent as psycopg sends its own commands (its
    `_exec_command`, waiting green), without the forgetting. Every read and every refusal ends
    with a rollback: `tools/bench_decisions` measured 0.6-0.7 -> 0.2 ms of PostgreSQL's CPU per
    refusal. A failed transaction, or a connection that breaks (PostgreSQL restarting), is left to
    the session's rollback, so the caller's error stays SQLAlchemy's (a 503, never a 500).
    (`tests/test_uow_prepared.py` fails if a psycopg upgrade changes this.)"""
    transaction = session.get_transaction()
    if transaction is None or not transaction.is_active:  # (none, or failed: SQLAlchemy rolls it back)
        return
    try:
        dbapi_connection: Any = session.connection().connection.dbapi_connection
        info = getattr(dbapi_connection, "info", None)  # (psycopg's; None once the connection is gone)
        if info is not None and info.transaction_status == TransactionStatus.INTRANS:
            with dbapi_connection.lock:
                dbapi_connection.wait(dbapi_connection._exec_command(b"ROLLBACK"))
    except Exception:  # noqa: BLE001 - the connection broke meanwhile: the session's rollback handles
        pass  # that (SQLAlchemy invalidates it), and the error the caller sees stays its own


class NestedUnitOfWork:
    """A unit of work inside a command's transaction: a savepoint of the same session."""

    def __init__(self, parent: UnitOfWork):
        self._parent = parent
        self.session: Session

    def __enter__(self) -> NestedUnitOfWork:
        self.session = self._parent.session
        self._savepoint = self.session.begin_nested()
        return self

    def __exit__(self, *exc_info) -> None:
        if self._savepoint.is_active:
            self._savepoint.rollback()

    def commit(self) -> None:
        self._savepoint.commit()

    def emit(self, event, **fields: Any) -> dict:
        return self._parent.emit(event, **fields)

    def emit_values(self, event, **fields: Any) -> tuple[dict, dict[str, Any]]:
        return self._parent.emit_values(event, **fields)


def forget_answers_naming(session: Session, base: Any, text_: str) -> int:
    """Erasure (SPEC §4): delete the stored command answers (`obcommon.service.command`) that
    mention `text_` (an email address), in the erasure's transaction. Returns how many went."""
    record = mapped_model(base, CommandColumns)
    if record is None or not text_:
        return 0
    mentions = func.strpos(func.lower(cast(record.outcome, Text)), text_.lower()) > 0
    result = session.execute(delete(record).where(mentions))
    return result.rowcount if isinstance(result, CursorResult) else 0


def new_id() -> str:
    return uuid.uuid4().hex


def delete_rows(session: Session, model: type[DeclarativeBase], *where: Any) -> int:
    """`DELETE FROM <model's table> WHERE <where>` as a Core statement (no ORM synchronisation of the
    session); returns the row count."""
    from sqlalchemy import Table
    from sqlalchemy.engine import CursorResult

    table = model.__table__
    assert isinstance(table, Table)
    result = session.execute(table.delete().where(*where))
    return result.rowcount if isinstance(result, CursorResult) else 0


def ping(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))

