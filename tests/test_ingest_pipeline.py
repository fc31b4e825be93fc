"""The read-ahead thread of the line ingest: items in order, errors re-raised, the thread never left behind."""

import threading
from collections.abc import Iterator

import pytest

from analyzer.ingest import _prefetched


def _readers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "ccstats-read"]


def test_items_arrive_in_order() -> None:
    assert list(_prefetched(iter(range(50)))) == list(range(50))
    assert _readers() == []


def test_producer_error_reaches_the_consumer_after_the_items_before_it() -> None:
    def items() -> Iterator[int]:
        yield 1
        yield 2
        raise OSError("disk gone")

    got: list[int] = []
    with pytest.raises(OSError, match="disk gone"):
        for x in _prefetched(items()):
            got.append(x)
    assert got == [1, 2]
    assert _readers() == []


def test_consumer_failure_stops_the_reader() -> None:
    produced: list[int] = []

    def items() -> Iterator[int]:
        for i in range(1000):
            produced.append(i)
            yield i

    with pytest.raises(RuntimeError):
        for x in _prefetched(items()):
            if x == 3:
                raise RuntimeError("writer failed")
    assert _readers() == []
    assert len(produced) <= 6  # one item ahead (plus the one in hand), not the whole input
