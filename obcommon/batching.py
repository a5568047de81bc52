"""Group commit for event handlers: what concurrent workers of one process store, stored together.

nameko runs each message in a worker of its own and acknowledges it once the worker returns, so a
handler that stores one row per message pays a transaction (its round trips, a commit and its WAL
flush) per message. `GroupCommit.submit(item)` instead waits while the items of the workers
running meanwhile join it, stores them in one call of `store(items)` (one transaction), and
returns this item's own outcome; only then does the worker return and its message get
acknowledged, so nothing is acknowledged before it is stored.

The first submitter leads: it yields once to the hub, so the other workers' items queue, then
stores what is waiting (up to `max_batch`). Items submitted while a batch is being stored wait for
the next one, which the first of them leads. An item's outcome is `store`'s result for it; an
exception (one `store` raised for the batch, or returned for that item) is raised in its worker.
With `alone` (store one item) and `isolate` (exception types, e.g. a value the database refuses),
a batch of several whose `store` raises one of `isolate` is stored item by item instead, so the
failure reaches only the worker whose item caused it.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import eventlet
from eventlet.queue import LightQueue

T = TypeVar("T")

_LEAD = object()  # sent to the first waiting submitter: store the next batch


class _Slot:
    __slots__ = ("item", "inbox")

    def __init__(self, item: Any):
        self.item = item
        self.inbox: LightQueue = LightQueue()


class GroupCommit(Generic[T]):
    def __init__(self, store: Callable[[list[T]], Sequence[Any]], max_batch: int = 64,
                 alone: Callable[[T], Any] | None = None, isolate: tuple[type[Exception], ...] = ()):
        self._store = store
        self._max = max_batch
        self._alone = alone
        self._isolate = isolate
        self._waiting: list[_Slot] = []
        self._leading = False

    def submit(self, item: T) -> Any:
        slot = _Slot(item)
        self._waiting.append(slot)
        if not self._leading:
            self._leading = True
            eventlet.sleep(0)  # the other workers' items join this batch
            self._store_batch()
        while True:
            outcome = slot.inbox.get()
            if outcome is _LEAD:
                self._store_batch()
                continue
            if isinstance(outcome, BaseException):
                raise outcome
            return outcome

    def _store_batch(self) -> None:
        batch, self._waiting = self._waiting[:self._max], self._waiting[self._max:]
        outcomes: Sequence[Any] | None = None
        items = [slot.item for slot in batch]
        try:
            outcomes = self._store(items)
            if len(outcomes) != len(batch):
                raise RuntimeError(f"stored {len(batch)} items, got {len(outcomes)} outcomes")
        except Exception as exc:
            if self._alone is not None and len(items) > 1 and isinstance(exc, self._isolate):
                outcomes = [self._one(item) for item in items]  # only the culprit's worker fails
            else:  # the whole batch failed: every item's worker raises it
                outcomes = [exc] * len(batch)
        finally:
            if outcomes is None:  # the leader was killed while storing: its batch is not known to be stored
                outcomes = [RuntimeError("storing was interrupted")] * len(batch)
            for slot, outcome in zip(batch, outcomes, strict=True):
                slot.inbox.put(outcome)
            if self._waiting:
                self._waiting[0].inbox.put(_LEAD)
            else:
                self._leading = False

    def _one(self, item: T) -> Any:
        assert self._alone is not None
        try:
            return self._alone(item)
        except Exception as exc:  # noqa: BLE001 - this item's outcome, raised in its own worker
            return exc
