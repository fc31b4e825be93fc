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


def test_large_chunks_reach_duckdb_in_pieces_and_small_ones_whole() -> None:
    """DuckDB parses one Arrow record batch per thread: a chunk of several MB goes as several batches (both cores
    parse it), a watcher-sized one as one batch (splitting it made the watcher slower). Same rows either way."""
    from analyzer.ingest import CHUNK_PIECES, PIECE_MIN_BYTES, _prepare_chunk

    line = b'{"request_id": "r%07d", "pad": "' + b"x" * 2000 + b'"}\n'
    big = b"".join(line.replace(b"%07d", b"%07d" % i) for i in range(3 * PIECE_MIN_BYTES // len(line) + 10))
    small = big[: 20 * len(line)]
    chunk = _prepare_chunk(big, 0, 1, 0)
    assert len(chunk.table.to_batches()) == 3 < CHUNK_PIECES
    assert chunk.table.column("line_no").to_pylist() == list(range(1, chunk.n + 1))
    assert "".join(chunk.table.column("line").to_pylist()).encode() == big
    assert len(_prepare_chunk(small, 0, 1, 0).table.to_batches()) == 1
