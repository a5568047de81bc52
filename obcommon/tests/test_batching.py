"""obcommon.batching.GroupCommit: concurrent green threads' items are stored together, each gets
its own outcome, and a failure reaches exactly the workers of its batch."""
import eventlet
import pytest

from obcommon.batching import GroupCommit


def test_concurrent_items_are_stored_in_one_batch_each_with_its_own_outcome():
    batches = []

    def store(items):
        batches.append(list(items))
        eventlet.sleep(0.01)  # a transaction's round trips
        return [item * 10 for item in items]

    group = GroupCommit(store)
    workers = [eventlet.spawn(group.submit, i) for i in range(10)]
    assert [w.wait() for w in workers] == [i * 10 for i in range(10)]
    assert batches == [list(range(10))]


def test_items_arriving_while_a_batch_is_stored_go_in_the_next_one():
    batches = []

    def store(items):
        batches.append(list(items))
        eventlet.sleep(0.02)
        return items

    group = GroupCommit(store, max_batch=4)
    first = [eventlet.spawn(group.submit, i) for i in range(6)]  # 4, then 2 (max_batch)
    eventlet.sleep(0.01)  # the first batch is being stored
    later = [eventlet.spawn(group.submit, i) for i in range(6, 9)]
    assert [w.wait() for w in first + later] == list(range(9))
    assert batches == [[0, 1, 2, 3], [4, 5, 6, 7], [8]]


def test_a_failed_batch_raises_in_each_of_its_workers_and_the_next_batch_is_stored():
    calls = []

    def store(items):
        calls.append(list(items))
        eventlet.sleep(0.01)
        if len(calls) == 1:
            raise ConnectionError("database away")
        return [ValueError("bad") if item == "bad" else "ok" for item in items]

    group = GroupCommit(store)
    failed = [eventlet.spawn(group.submit, i) for i in ("a", "b")]
    for worker in failed:
        with pytest.raises(ConnectionError):
            worker.wait()
    workers = [eventlet.spawn(group.submit, i) for i in ("c", "bad", "d")]
    assert workers[0].wait() == workers[2].wait() == "ok"
    with pytest.raises(ValueError):
        workers[1].wait()
    assert calls == [["a", "b"], ["c", "bad", "d"]]


def test_an_isolated_failure_stores_the_batch_item_by_item_and_fails_only_its_own_worker():
    alone = []

    def store(items):
        eventlet.sleep(0.01)
        if "bad" in items:
            raise ValueError("a value the database refuses")
        return items

    def store_alone(item):
        alone.append(item)
        if item == "bad":
            raise ValueError("refused")
        return item

    group = GroupCommit(store, alone=store_alone, isolate=(ValueError,))
    workers = [eventlet.spawn(group.submit, i) for i in ("a", "bad", "b")]
    assert (workers[0].wait(), workers[2].wait()) == ("a", "b")
    with pytest.raises(ValueError, match="refused"):
        workers[1].wait()
    assert alone == ["a", "bad", "b"]
