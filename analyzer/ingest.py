"""Ingest: read LiteLLM logs into the store, exactly once.

Design (speed and exactness together):
* A file is read in large chunks of complete lines from the offset stored for it; a trailing partial line waits
  for its newline. Chunk boundaries, line numbers and byte offsets come from numpy; the lines go to DuckDB as one
  Arrow string array without copying, and DuckDB parses the JSON (``json_transform``) in the named normaliser.
* Rows, quarantine and the new offset of a chunk commit in one transaction, and rows are keyed by natural ids
  (request_id, callback event key, proxy line hash), so a crash or a re-read never duplicates anything.
* Credentials are redacted on the raw bytes before DuckDB sees them.
* Bytes that are not UTF-8, or hold NUL, send that chunk through a slow per-line path that quarantines exactly
  the bad lines.

This module must stay light to import: no altair, polars or jupyter here.
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
import hashlib
import itertools
import json
import os
import queue
import stat
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, TypeVar

import duckdb
import numpy as np
import pyarrow as pa

from . import sources
from .db import cursor, local_timezone_name, sql
from .errors import UserError
from .redact import might_contain_secret_sql, redact_bytes, redact_text
from .sources import CALLBACK, CSV, LINES, PROXY, SPEND, TRANSCRIPT, Format, claude_code
from .sources.documents import DocumentError, records_from_csv, records_from_json

CHUNK_BYTES = 16 << 20  # measured: 16 MB chunks keep peak RSS under 1 GB at no real cost in speed
FINGERPRINT_BYTES = 1024
EXCERPT_CHARS = 2048
DETECT_BYTES = 256 << 10
# enough for most files: a complete first JSON line decides (detect_from_prefix)
QUICK_DETECT_BYTES = 16 << 10

ProgressFn = Callable[[int], None]
_T = TypeVar("_T")


@dataclass
class SourceSummary:
    path: str
    format: str = ""
    rows_added: int = 0
    duplicates: int = 0
    quarantined: int = 0
    skipped: int = 0
    lines: int = 0
    bytes_read: int = 0
    note: str = ""
    error: str = ""
    pending_tail: bool = False  # an incomplete last line was left for the next read

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)

    def count(self, counts: tuple[int, int, int, int], lines: int, nbytes: int) -> None:
        """Add one stored batch: (added, duplicates, quarantined, skipped), its lines and bytes read."""
        added, dups, bad, skipped = counts
        self.rows_added += added
        self.duplicates += dups
        self.quarantined += bad
        self.skipped += skipped
        self.lines += lines
        self.bytes_read += nbytes


@dataclass
class _Source:
    source_id: int
    offset: int
    lines_read: int
    size: int
    fingerprint: str
    fingerprint_len: int
    is_new: bool


@dataclass
class IngestOptions:
    kind: str | None = None  # force spend | callback | proxy
    log_tz: str | None = None  # zone of proxy log timestamps; None = this machine's
    final: bool = True  # one-shot: an unterminated last line is read if it is complete JSON
    progress: Callable[[str, int], ProgressFn] | None = None  # (label, total bytes) -> advance(n)
    # False: leave transcript matching (pending_transcripts) to after_ingest, which the caller then runs; a
    # per-file merge costs several scans of the store for each of thousands of small session files.
    merge_transcripts: bool = True
    # Claude Code projects folders (ingest --claude-code): a *.jsonl file under one is a transcript, as ccusage takes
    # it, without reading its format from its first lines (0.7 s of the 1.2 s spent looking at 16.7k files).
    transcript_dirs: tuple[str, ...] = ()
    extra: dict[str, object] = field(default_factory=dict)


# ---------------------------------------------------------------- files


class _FolderFile(type(Path())):  # type: ignore[misc]
    """A path found by walking a folder (not named by the user)."""

    found_in_folder = True
    real: Path | None = None  # its resolved path, when the walk knows it


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(2) == b"\x1f\x8b"


def _open_stream(path: Path, compressed: bool) -> BinaryIO:
    if compressed:
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def _read_head(path: Path, compressed: bool, n: int) -> bytes:
    with _open_stream(path, compressed) as f:
        try:
            return f.read(n)
        except (OSError, EOFError):  # a gzip still being written
            return b""


def _read_and_detect(path: Path, compressed: bool) -> tuple[bytes, Format | None]:
    """The file's head and format. The first QUICK_DETECT_BYTES decide for most files (a complete first JSON line,
    :func:`analyzer.sources.detect_from_prefix`); the others are read to DETECT_BYTES. Raises OSError."""
    head = _read_head(path, compressed, QUICK_DETECT_BYTES)
    fmt = sources.detect(head) if len(head) < QUICK_DETECT_BYTES else sources.detect_from_prefix(head)
    if isinstance(fmt, sources.Undecided):
        head = _read_head(path, compressed, DETECT_BYTES)
        fmt = sources.detect(head)
    return head, fmt


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def expand_paths(paths: Iterable[str]) -> tuple[list[Path], list[str]]:
    """Files named, found in folders, or matched by globs; plus one error line per path that cannot be used.

    Files found inside a folder are marked (``found_in_folder``) so that files which are not LiteLLM logs there are
    skipped quietly, while a file named explicitly must be one."""
    import glob

    files: list[Path] = []
    errors: list[str] = []
    for raw in paths:
        matches = (
            sorted(glob.glob(os.path.expanduser(raw), recursive=True))
            if any(c in raw for c in "*?[")
            else [raw]
        )
        if not matches:
            errors.append(f"{raw}: no file matches")
            continue
        for m in matches:
            p = Path(m).expanduser()
            if p.is_dir():
                files.extend(_files_under(p))
            elif p.exists():
                files.append(p)
            else:
                errors.append(f"{p}: no such file or folder")
    seen: set[Path] = set()
    unique = []
    for f in files:
        r = getattr(f, "real", None) or f.resolve()
        if r not in seen:
            seen.add(r)
            unique.append(f)
    return unique, errors


def _files_under(folder: Path) -> list[_FolderFile]:
    """The files in ``folder`` and its subfolders, hidden ones (a part starting with a dot) left out, in Path order:
    what ``sorted(folder.rglob("*"))`` gives, filtered by ``is_file()``, and each with its resolved path (``real``)
    for the de-duplication. Walked with scandir: the pathlib walk and a resolve per file took 0.6 s for the 16.7k
    files of a 1M-entry Claude Code folder. As rglob, symlinked folders are not entered; symlinked files count."""
    real_root = folder.resolve()
    found: list[tuple[list[str], str, bool]] = []  # (relative parts, path, is a symlink)
    stack: list[tuple[str, list[str]]] = [(str(folder), [])]
    while stack:
        where, parts = stack.pop()
        try:
            with os.scandir(where) as entries:
                for e in entries:
                    if e.name.startswith("."):
                        continue
                    if e.is_dir(follow_symlinks=False):
                        stack.append((e.path, [*parts, e.name]))
                    elif e.is_file():
                        found.append(([*parts, e.name], e.path, e.is_symlink()))
        except OSError:  # unreadable: skipped, as rglob does
            continue
    found.sort(key=lambda f: f[0])
    out = []
    for parts, path, is_link in found:
        f = _FolderFile(path)
        f.real = Path(path).resolve() if is_link else real_root.joinpath(*parts)
        out.append(f)
    return out


# ---------------------------------------------------------------- sources table


def _find_source(
    con: duckdb.DuckDBPyConnection, path: Path, head: bytes, st: os.stat_result
) -> _Source | None:
    """The stored source this file continues, by fingerprint of its first bytes (survives rename and gzip)."""
    # Only rows whose fingerprint matches (one hash per distinct fingerprint length): scanning every source in
    # Python made a folder of thousands of session files quadratic.
    lengths = [
        int(r[0])
        for r in con.execute(
            "select distinct fingerprint_len from sources where fingerprint_len <= ?", [len(head)]
        ).fetchall()
    ]
    if not lengths:
        return None
    rows = con.execute(
        "select source_id, offset_bytes, lines_read, size_bytes, fingerprint, fingerprint_len, path, device, inode "
        "from sources where (fingerprint_len, fingerprint) in (select unnest(?), unnest(?)) "
        "order by last_ingest desc",
        [lengths, [_sha(head[:n]) for n in lengths]],
    ).fetchall()
    for row in rows:
        if _accepts(row, path, head, st):
            sid, off, lines, size, fp, fplen = row[:6]
            return _Source(sid, off, lines, size, fp, fplen, False)
    return None


def _accepts(row: tuple, path: Path, head: bytes, st: os.stat_result) -> bool:
    """Whether a stored source row (source_id, offset_bytes, lines_read, size_bytes, fingerprint,
    fingerprint_len, path, device, inode) is the one this file continues."""
    _sid, _off, _lines, _size, fp, fplen, old_path, dev, ino = row
    if _sha(head[:fplen]) != fp:
        return False
    # Two different live files can share their first bytes (same banner): the stored one is still at its
    # old path under another inode with the same start, so this file is a different source.
    if old_path != str(path) and (dev, ino) != (st.st_dev, st.st_ino):
        try:
            ost = os.stat(old_path)
            if (ost.st_dev, ost.st_ino) == (dev, ino) and _read_head(
                Path(old_path), _is_gzip(Path(old_path)), fplen
            ) == head[:fplen]:
                return False
        except OSError:
            pass
    return True


def _register_source(
    con: duckdb.DuckDBPyConnection, path: Path, head: bytes, st: os.stat_result, compressed: bool, fmt: Format
) -> _Source:
    fplen = min(len(head), FINGERPRINT_BYTES)
    fp = _sha(head[:fplen])
    sid = con.execute("select nextval('source_ids')").fetchall()[0][0]  # type: ignore[index]
    con.execute(
        "insert into sources (source_id, path, device, inode, fingerprint, fingerprint_len, compressed, format, "
        "first_ingest, last_ingest) values (?, ?, ?, ?, ?, ?, ?, ?, now(), now())",
        [sid, str(path), st.st_dev, st.st_ino, fp, fplen, compressed, fmt.name],
    )
    return _Source(sid, 0, 0, 0, fp, fplen, True)


# ---------------------------------------------------------------- writing


_TABLE = {
    SPEND: "request_log",
    CALLBACK: "callback_events",
    PROXY: "proxy_events",
    TRANSCRIPT: "transcript_entries",
}
_KEY = {SPEND: "request_id", CALLBACK: "event_key", PROXY: "event_key", TRANSCRIPT: "entry_key"}
_NORMALIZER = {
    SPEND: "normalize_spend",
    CALLBACK: "normalize_callback",
    PROXY: "normalize_proxy",
    TRANSCRIPT: "normalize_transcript",
}


def _quarantine_rows(
    con: duckdb.DuckDBPyConnection,
    source_id: int | None,
    path: str,
    rows: list[tuple[int | None, int | None, str, str]],
) -> None:
    if rows:
        con.executemany(
            "insert into quarantine values (?, ?, ?, ?, ?, ?, now())",
            [
                (source_id, path, ln, off, reason, redact_text(excerpt[:EXCERPT_CHARS]))
                for ln, off, reason, excerpt in rows
            ],
        )


def _with_source_columns(batch: pa.Table, source_id: int | None, path: str) -> pa.Table:
    """``batch`` plus constant source_id and source_path columns (the source path dictionary-encoded)."""
    n = batch.num_rows
    ids = pa.array(np.full(n, source_id, np.int64)) if source_id is not None else pa.nulls(n, pa.int64())
    paths = pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32)), pa.array([path], pa.string()))
    return batch.append_column("source_id", ids).append_column("source_path", paths)


def write_batch(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    batch: pa.Table,
    source_id: int | None,
    path: str,
    log_tz: str = "UTC",
    offsets: pa.Table | None = None,
) -> tuple[int, int, int, int]:
    """Normalise one batch of (line_no, byte_offset, line) and store it. Returns added, duplicates, quarantined,
    skipped. Runs inside the caller's transaction."""
    params: dict[str, object] | None = {"source_id": source_id}
    if kind == PROXY:
        params = {"source_id": source_id, "log_tz": log_tz}
    if kind == TRANSCRIPT:
        # The transcript normaliser takes its source from the batch's columns (one batch can hold many files).
        params = None
        if "source_id" not in batch.column_names:
            batch = _with_source_columns(batch, source_id, path)
    con.register("batch", batch)
    try:
        con.execute(f"create or replace temp table norm as {sql(_NORMALIZER[kind])}", params)
    finally:
        try:
            con.unregister("batch")
        except (
            duckdb.Error
        ):  # the transaction is already aborted; the caller rolls back and reports the cause
            pass
    total, bad = con.execute("select count(*), count(_reason) from norm").fetchall()[0]  # type: ignore[misc]
    if bad:
        if offsets is not None:
            con.register("batch_offsets", offsets)
        try:
            con.execute(
                "insert into quarantine select ?, ?, n.line_no, "
                + ("b.byte_offset" if offsets is not None else "null")
                + ", n._reason, n._excerpt, now() from norm n "
                + ("left join batch_offsets b on b.line_no = n.line_no " if offsets is not None else "")
                + "where n._reason is not null",
                [source_id, path],
            )
        finally:
            if offsets is not None:
                con.unregister("batch_offsets")
    table, key = _TABLE[kind], _KEY[kind]
    good = total - bad
    added = 0
    if good and kind == TRANSCRIPT:
        # Copies of one response: the one with more tokens wins; then merge into request_log (claude_code.py).
        added = claude_code.store_transcript_batch(con)
        return added, good - added, bad, len(batch) - total
    if good and kind == SPEND:
        # A request first known from callback events alone is replaced by its spend-log row.
        con.execute(
            "delete from request_log where origin = 'callback' and (litellm_call_id in "
            "(select litellm_call_id from norm where _reason is null) or request_id in "
            "(select request_id from norm where _reason is null))"
        )
    if good and kind in (SPEND, CALLBACK):
        claude_code.drop_direct_rows(con, "request_id" if kind == SPEND else "event_id")
    if good:
        before = con.execute(f"select count(*) from {table}").fetchall()[0][0]  # type: ignore[index]
        # request_log has no primary key (m010): ids it already has are skipped by an anti-join (NOT IN is
        # safe: request_id is NOT NULL); the other tables' keys still skip them on conflict
        known = f"and {key} not in (select {key} from {table}) " if table == "request_log" else ""
        conflict = "" if known else "on conflict do nothing"
        con.execute(
            f"insert into {table} by name select * exclude (line_no, _reason, _excerpt) from norm "
            f"where _reason is null {known}"
            f"qualify row_number() over (partition by {key} order by line_no) = 1 {conflict}"
        )
        added = con.execute(f"select count(*) from {table}").fetchall()[0][0] - before  # type: ignore[index]
        if kind in (SPEND, CALLBACK):
            # Record which calls need their callback events merged; spend rows without callback events (the
            # common case) need nothing. The merge itself runs once per file: see merge_pending.
            if kind == CALLBACK or _spend_calls_have_callbacks(con):
                con.execute(
                    "insert into pending_call_merges select distinct litellm_call_id from norm "
                    "where _reason is null and litellm_call_id is not null"
                )
            # Record the keys whose transcript entries must be re-matched (after the callback merge).
            claude_code.merge_after_litellm(con, "request_id" if kind == SPEND else "event_id")
    skipped = len(batch) - total
    return added, good - added, bad, skipped


def _spend_calls_have_callbacks(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether callback events exist for the call ids of the spend rows in ``norm``, read from
    :data:`analyzer.fallbacks.HOP_SKEW` before the earliest of them on (all, when one has no start time)."""
    from .fallbacks import hops_since

    lo, undated = con.execute(
        "select min(started_at), count(*) filter (where started_at is null) from norm where _reason is null"
    ).fetchall()[0]
    since = "true" if lo is None or undated else hops_since("lo")
    return bool(
        con.execute(
            f"select exists (select 1 from callback_events where {since} and litellm_call_id in "
            "(select litellm_call_id from norm where _reason is null))",
            {"lo": lo} if since != "true" else {},
        ).fetchall()[0][0]
    )


# ---------------------------------------------------------------- chunks of lines


MERGE_BATCH_CALLS = 20_000


def merge_pending(con: duckdb.DuckDBPyConnection, batch: int | None = None) -> bool:
    """Merge the callback events of pending call ids into request_log, at most ``batch`` call ids at a time
    (all when None), inside the caller's transaction. Returns whether any were merged."""
    if not con.execute("select 1 from pending_call_merges limit 1").fetchall():
        return False
    limit = f" limit {int(batch)}" if batch else ""
    con.execute(
        "create or replace temp table affected_calls as "
        f"select distinct litellm_call_id from pending_call_merges{limit}"
    )
    con.execute(sql("merge_callbacks"))
    con.execute(
        "delete from pending_call_merges where litellm_call_id in (select litellm_call_id from affected_calls)"
    )
    return True


def _merge_pending_now(con: duckdb.DuckDBPyConnection) -> None:
    """Merge everything pending, a bounded batch per transaction so a million call ids fit the memory cap."""
    _until_done(con, functools.partial(merge_pending, con, MERGE_BATCH_CALLS))


def _merge_transcripts_now(con: duckdb.DuckDBPyConnection) -> None:
    """Match pending transcript keys, a bounded batch of sessions per transaction (each batch deletes its pending
    rows, so the loop ends); after the callback merges, which make the request rows matched against."""
    _until_done(con, functools.partial(claude_code.merge_pending_transcripts, con))


def _until_done(con: duckdb.DuckDBPyConnection, batch: Callable[[], bool]) -> None:
    """Run ``batch`` (which returns False when nothing was left to do) one transaction at a time until done."""
    while _transaction(con, batch):
        pass


def _transaction(con: duckdb.DuckDBPyConnection, work: Callable[[], _T]) -> _T:
    """Run ``work`` in one transaction and commit it. Work that needs more than the writer's memory cap (say a
    20 MB line, or a large merge batch) is retried once with a larger cap rather than failing the ingest."""
    con.execute("begin transaction")
    try:
        try:
            out = work()
        except duckdb.OutOfMemoryException:
            con.execute("rollback")
            out = _with_memory(con, "4GB", work)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return out


def _lines_table(data: bytes, first_line_no: int, base_offset: int) -> tuple[pa.Table, np.ndarray]:
    """Arrow table over complete lines in ``data`` (which ends with a newline), without copying the bytes."""
    arr = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(arr == 10)
    n = len(ends)
    offsets = np.empty(n + 1, dtype=np.int64)
    offsets[0] = 0
    offsets[1:] = ends + 1
    lines = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))
    line_nos = np.arange(first_line_no, first_line_no + n, dtype=np.int64)
    return pa.table({"line_no": line_nos, "line": lines}), offsets[:-1] + base_offset


def _chunk_is_clean(data: bytes, table: pa.Table) -> bool:
    if b"\x00" in data:
        return False
    try:
        table.column("line").combine_chunks().validate(full=True)  # checks UTF-8 in C++
    except pa.ArrowInvalid:
        return False
    return True


def _slow_split(
    data: bytes, first_line_no: int, base_offset: int
) -> tuple[list[tuple[int, int, str]], list[tuple[int | None, int | None, str, str]]]:
    """Per-line check of a chunk holding NUL bytes or invalid UTF-8: good lines, and quarantine rows."""
    good: list[tuple[int, int, str]] = []
    bad: list[tuple[int | None, int | None, str, str]] = []
    pos = base_offset
    for i, raw in enumerate(data.split(b"\n")[:-1]):
        line_no = first_line_no + i
        if b"\x00" in raw:
            bad.append(
                (line_no, pos, "NUL byte in line", raw.replace(b"\x00", b"\\0").decode("utf-8", "replace"))
            )
        else:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                bad.append(
                    (line_no, pos, f"invalid UTF-8 at byte {exc.start}", raw.decode("utf-8", "replace"))
                )
            else:
                good.append((line_no, pos, text + "\n"))
        pos += len(raw) + 1
    return good, bad


@dataclass
class _Chunk:
    """A chunk of complete lines, split and redacted, ready to store (prepared off the writer's thread)."""

    data: bytes  # the bytes as read: the stored offset advances by len(data) + consumed_extra
    consumed_extra: int  # -1 when a newline was added to an unterminated last record
    first_line_no: int
    base_offset: int
    table: pa.Table  # line_no, line (redacted)
    offsets: pa.Table  # line_no, byte_offset
    py_bad: list[tuple[int | None, int | None, str, str]]  # quarantine rows found in Python
    n: int  # lines in the chunk


def _prepare_chunk(data: bytes, consumed_extra: int, first_line_no: int, base_offset: int) -> _Chunk:
    """Split and redact one chunk. Pure Python/Arrow work, so it can run while DuckDB stores the previous one."""
    table, offs = _lines_table(data, first_line_no, base_offset)
    n = table.num_rows
    py_bad: list[tuple[int | None, int | None, str, str]] = []
    if _chunk_is_clean(data, table):
        clean = redact_bytes(data)
        if clean is not data:
            table, _ = _lines_table(clean, first_line_no, base_offset)
    else:
        good, py_bad = _slow_split(data, first_line_no, base_offset)
        table = pa.table(
            {
                "line_no": pa.array([g[0] for g in good], pa.int64()),
                "line": pa.array([redact_text(g[2]) for g in good], pa.large_string()),
            }
        )
    offsets = pa.table(
        {"line_no": np.arange(first_line_no, first_line_no + n, dtype=np.int64), "byte_offset": offs}
    )
    table = _in_pieces(table, len(data))
    return _Chunk(data, consumed_extra, first_line_no, base_offset, table, offsets, py_bad, n)


#: record batches per chunk handed to DuckDB: it parses one Arrow record batch per thread, and a 16 MB chunk of
#: spend rows is only about a thousand lines (one batch, one thread). Measured: 1.7x faster normalising on 2 cores.
CHUNK_PIECES = 8
#: ... but only pieces of at least this size: the watcher's small batches got slower split (lag p95 0.5 -> 0.9 s)
PIECE_MIN_BYTES = 1 << 20


def _in_pieces(table: pa.Table, nbytes: int) -> pa.Table:
    """The same rows as up to :data:`CHUNK_PIECES` record batches of about ``nbytes`` / pieces each, none under
    :data:`PIECE_MIN_BYTES` (zero-copy slices)."""
    pieces = min(CHUNK_PIECES, nbytes // PIECE_MIN_BYTES)
    if pieces <= 1:
        return table
    size = max(1, -(-table.num_rows // pieces))
    return pa.Table.from_batches(table.to_batches(max_chunksize=size), schema=table.schema)


def _store_chunk(
    con: duckdb.DuckDBPyConnection, kind: str, chunk: _Chunk, src: _Source, path: str, log_tz: str
) -> tuple[int, int, int, int]:
    """Store one prepared chunk and move the source's offset past it, in the caller's transaction; returns
    added, duplicates, quarantined, skipped."""
    _quarantine_rows(con, src.source_id, path, chunk.py_bad)
    added, dups, bad, skipped = write_batch(
        con, kind, chunk.table, src.source_id, path, log_tz, chunk.offsets
    )
    bad += len(chunk.py_bad)
    offset = chunk.base_offset + len(chunk.data) + chunk.consumed_extra
    con.execute(
        "update sources set offset_bytes = ?, lines_read = ?, size_bytes = greatest(size_bytes, ?), "
        "rows_added = rows_added + ?, duplicates = duplicates + ?, quarantined = quarantined + ?, "
        "skipped_lines = skipped_lines + ?, last_ingest = now(), path = ? where source_id = ?",
        [offset, chunk.first_line_no - 1 + chunk.n, offset, added, dups, bad, skipped, path, src.source_id],
    )
    return added, dups, bad, skipped


def _read_chunks(
    f: BinaryIO,
    budget: int | None,
    offset: int,
    line_no: int,
    fmt: Format,
    opts: IngestOptions,
    summary: SourceSummary,
) -> Iterator[_Chunk]:
    """Chunks of complete lines from ``f``, prepared; a trailing partial line waits (summary.pending_tail)."""
    carry = b""
    while True:
        want = CHUNK_BYTES if budget is None else min(CHUNK_BYTES, budget)
        try:
            buf = f.read(want) if want else b""
        except (EOFError, OSError):  # gzip member still being written: stop at what is complete
            buf = b""
        if budget is not None:
            budget -= len(buf)
        data = carry + buf
        if buf:
            cut = data.rfind(b"\n") + 1
            data, carry = data[:cut], data[cut:]
        else:
            carry = b""
            if data:
                # Unterminated last line: read it now only if it is a complete record.
                if opts.final and _complete_record(data, fmt.kind):
                    data = data + b"\n"  # the added newline is not in the file: see consumed_extra
                else:
                    summary.pending_tail = True
                    return
            else:
                return
        if not data:
            continue
        consumed_extra = 0 if buf else -1
        chunk = _prepare_chunk(data, consumed_extra, line_no + 1, offset)
        offset += len(data) + consumed_extra
        line_no += chunk.n
        yield chunk
        if not buf:
            return


def _prefetched(items: Iterator[_T]) -> Iterator[_T]:
    """Iterate ``items`` on a helper thread, one item ahead: reading, splitting and redacting the next chunk
    (Python, holding the GIL) overlaps DuckDB storing this one (which releases it)."""
    out: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        out.put(("item", item), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            out.put(("end", None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which re-raises it
            out.put(("error", exc))

    worker = threading.Thread(target=produce, name="ccstats-read", daemon=True)
    worker.start()
    try:
        while True:
            tag, value = out.get()
            if tag == "end":
                return
            if tag == "error":
                raise value  # type: ignore[misc]
            yield value  # type: ignore[misc]
    finally:
        stop.set()
        while worker.is_alive():  # let a blocked put() see the stop flag
            try:
                out.get_nowait()
            except queue.Empty:
                worker.join(0.05)


def _ingest_lines(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    compressed: bool,
    fmt: Format,
    src: _Source,
    summary: SourceSummary,
    opts: IngestOptions,
    log_tz: str,
    total_size: int,
) -> None:
    advance = opts.progress(path.name, max(total_size - src.offset, 0)) if opts.progress else None
    with _open_stream(path, compressed) as f:
        if src.offset:
            if compressed:
                remaining = src.offset
                while remaining:
                    got = f.read(min(remaining, CHUNK_BYTES))
                    if not got:
                        break
                    remaining -= len(got)
            else:
                f.seek(src.offset)
        # Read a plain file only up to the size it had when this call began: a file a writer keeps appending to
        # would otherwise keep this loop (and the database lock) busy for as long as the writer writes.
        budget: int | None = None if compressed else max(total_size - src.offset, 0)
        chunks = _read_chunks(f, budget, src.offset, src.lines_read, fmt, opts, summary)
        for chunk in _prefetched(chunks):
            store = functools.partial(_store_chunk, con, fmt.kind, chunk, src, str(path), log_tz)
            summary.count(_transaction(con, store), chunk.n, len(chunk.data))
            if advance:
                advance(len(chunk.data))


def _with_memory(con: duckdb.DuckDBPyConnection, limit: str, work: Callable[[], _T]) -> _T:
    """Run ``work`` in a new transaction with DuckDB's memory cap raised to ``limit``, then restore the cap."""
    before = con.execute("select current_setting('memory_limit')").fetchall()[0][0]
    con.execute(f"set memory_limit = '{limit}'")
    try:
        con.execute("begin transaction")
        return work()
    finally:
        con.execute(f"set memory_limit = '{before}'")


def _complete_record(data: bytes, kind: str) -> bool:
    text = data.strip()
    if not text:
        return True
    if kind == PROXY and not text.startswith(b"{"):
        return True  # a banner line: complete enough, and it is only counted
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------- whole-file documents


def _ingest_document(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    compressed: bool,
    fmt: Format,
    src: _Source,
    summary: SourceSummary,
    opts: IngestOptions,
    log_tz: str,
    total_size: int,
) -> None:
    with _open_stream(path, compressed) as f:
        raw = f.read()
    if not src.is_new and len(raw) == src.offset:
        summary.note = "unchanged"
        return
    bad: list[tuple[int | None, int | None, str, str]] = []
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        text = raw.decode("utf-8", "replace")
        bad.append((None, exc.start, f"invalid UTF-8 at byte {exc.start} (replaced)", ""))
    text = redact_text(text.replace("\x00", ""))
    kind = opts.kind or fmt.kind
    records: list[tuple[int, object]]
    if fmt.shape == CSV:
        records = list(records_from_csv(text))
    else:
        try:
            detected, records = records_from_json(text)
        except DocumentError as exc:
            raise UserError(f"{path}: {exc}") from exc
        kind = opts.kind or detected or kind
    lines: list[str] = []
    line_nos: list[int] = []
    for no, rec in records:
        if isinstance(rec, dict) and "__csv_error__" in rec:
            bad.append((no, None, f"CSV row: {rec['__csv_error__']}", ""))
            continue
        lines.append(json.dumps(rec, default=str, separators=(",", ":")))
        line_nos.append(no)
    table = pa.table({"line_no": pa.array(line_nos, pa.int64()), "line": pa.array(lines, pa.large_string())})
    summary.format = Format(kind, fmt.shape).name

    def store() -> tuple[int, int, int, int]:
        _quarantine_rows(con, src.source_id, str(path), bad)
        added, dups, nbad, skipped = write_batch(con, kind, table, src.source_id, str(path), log_tz)
        con.execute(
            "update sources set offset_bytes = ?, lines_read = ?, size_bytes = ?, format = ?, "
            "rows_added = rows_added + ?, duplicates = duplicates + ?, quarantined = quarantined + ?, "
            "last_ingest = now(), path = ? where source_id = ?",
            [
                len(raw),
                len(records),
                len(raw),
                summary.format,
                added,
                dups,
                nbad + len(bad),
                str(path),
                src.source_id,
            ],
        )
        return added, dups, nbad + len(bad), skipped

    summary.count(_transaction(con, store), len(records), len(raw))


# ---------------------------------------------------------------- entry points


def ingest_file(
    con: duckdb.DuckDBPyConnection, path: str | Path, opts: IngestOptions | None = None
) -> SourceSummary:
    """Ingest one file (any supported format, plain or gzip) from where the last ingest of it stopped."""
    opts = opts or IngestOptions()
    path = path if isinstance(path, Path) else Path(path)
    summary = SourceSummary(str(path))
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):
            summary.error = "not a regular file"
            return summary
        compressed = _is_gzip(path)
        head, fmt = _read_and_detect(path, compressed)
    except PermissionError:
        summary.error = "permission denied"
        return summary
    except OSError as exc:
        summary.error = exc.strerror or str(exc)
        return summary
    if not head.strip():
        summary.note = "empty file"
        return summary
    if opts.kind:
        shape = fmt.shape if fmt else LINES
        fmt = Format(opts.kind, shape)
    if fmt is None and getattr(path, "found_in_folder", False):
        summary.note = "skipped: not a LiteLLM log"
        return summary
    if fmt is None:
        summary.error = (
            "unrecognised format (not a LiteLLM spend log, logging payload or proxy JSON log); use --format"
        )
        return summary
    summary.format = fmt.name
    log_tz = opts.log_tz or local_timezone_name()
    total = st.st_size if not compressed else 0
    src = _find_source(con, path, head[:FINGERPRINT_BYTES], st)
    if src is not None and fmt.shape == LINES and not compressed and st.st_size < src.offset:
        src = None  # truncated in place (copytruncate): a new life of the file, read from the start
    if src is None:
        src = _register_source(con, path, head[:FINGERPRINT_BYTES], st, compressed, fmt)
    elif src.fingerprint_len < min(len(head), FINGERPRINT_BYTES):
        fplen = min(len(head), FINGERPRINT_BYTES)
        con.execute(
            "update sources set fingerprint = ?, fingerprint_len = ? where source_id = ?",
            [_sha(head[:fplen]), fplen, src.source_id],
        )
    if fmt.shape == LINES:
        _ingest_lines(con, path, compressed, fmt, src, summary, opts, log_tz, total)
    else:
        _ingest_document(con, path, compressed, fmt, src, summary, opts, log_tz, total)
    _merge_pending_now(con)
    if opts.merge_transcripts:
        _merge_transcripts_now(con)
    if not summary.bytes_read and not summary.note:
        summary.note = "already up to date"
    return summary


def after_ingest(con: duckdb.DuckDBPyConnection) -> None:
    """Refresh what is derived from the requests: the default 5-hour window bounds behind `windows_5h`, the
    stored fallback events behind `fallback_events` and the report's hourly rollup (incremental: only what the new
    rows touched). Merges any callback events and transcript matches still pending first."""
    _merge_pending_now(con)
    _merge_transcripts_now(con)
    from .fallbacks import refresh_fallback_events

    refresh_fallback_events(con)
    try:
        from .windows import refresh_window_bounds
    except ImportError:  # analytics not installed in this build
        return
    refresh_window_bounds(con)
    from . import rollup

    _transaction(con, functools.partial(rollup.refresh, con))


def ingest_paths(
    con: duckdb.DuckDBPyConnection, paths: Iterable[str], opts: IngestOptions | None = None
) -> tuple[list[SourceSummary], list[str]]:
    """Ingest files, folders and globs. Returns per-file summaries and path errors (one line each)."""
    files, errors = expand_paths(paths)
    opts = dataclasses.replace(opts or IngestOptions(), merge_transcripts=False)  # after_ingest merges them
    summaries = ingest_files(con, files, opts)
    after_ingest(con)
    return summaries, errors


def load_litellm_config(con: duckdb.DuckDBPyConnection, config_path: str | Path) -> int:
    """Read a LiteLLM config.yaml's model_list into litellm_deployments (which deployments carry an api_key)."""
    import yaml  # type: ignore[import-untyped]

    p = Path(config_path)
    try:
        cfg = yaml.safe_load(p.read_text())
    except OSError as exc:
        raise UserError(f"{p}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise UserError(f"{p}: not valid YAML ({exc})") from exc
    rows = []
    for entry in (cfg or {}).get("model_list") or []:
        params = entry.get("litellm_params") or {}
        model = str(params.get("model", ""))
        provider = params.get("custom_llm_provider") or (model.split("/", 1)[0] if "/" in model else None)
        rows.append(
            (
                entry.get("model_name"),
                model,
                (entry.get("model_info") or {}).get("id"),
                provider,
                params.get("api_base"),
                bool(params.get("api_key")),
                str(p),
            )
        )
    con.execute("begin transaction")
    con.execute("delete from litellm_deployments where config_path = ?", [str(p)])
    if rows:
        con.executemany("insert into litellm_deployments values (?, ?, ?, ?, ?, ?, ?, now())", rows)
    con.execute("commit")
    return len(rows)


# ---------------------------------------------------------------- many small transcript files at once
# A file new to the store (nothing read yet) is read by DuckDB itself, many files per statement (_bulk_store):
# measured at 100k lines, the Python reading, redaction and Arrow hand-over of the chunked path cost more than
# DuckDB's parsing. Files with a stored offset (appends, the watcher) are read here in chunks, as before.

GROUP_BYTES = CHUNK_BYTES  # new bytes of small transcript files stored per transaction and normaliser call
GROUP_FILE_BYTES = 8 << 20  # larger transcript files go one by one (ingest_file)
GROUP_LOOKUP_FILES = 20_000  # files whose stored sources are looked up in one query (a run: see ingest_files)


@dataclass
class _GroupFile:
    path: Path
    st: os.stat_result
    head: bytes  # first FINGERPRINT_BYTES bytes
    summary: SourceSummary
    src: _Source | None = None
    chunks: list[_Chunk] = field(default_factory=list)


def _small_transcript(path: Path, opts: IngestOptions) -> _GroupFile | None:
    """The file, when it is a plain (not gzip) Claude Code transcript small enough to be stored with others."""
    fmt: Format | None
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode) or st.st_size >= GROUP_FILE_BYTES:
            return None
        if _in_transcript_dir(path, opts):
            head, fmt = _read_head(path, False, FINGERPRINT_BYTES), Format(TRANSCRIPT, LINES)
        else:
            head, fmt = _read_and_detect(path, False)
    except OSError:
        return None
    if head[:2] == b"\x1f\x8b" or not head.strip():  # gzip (as _is_gzip) or empty: ingest_file
        return None
    if opts.kind:
        fmt = Format(opts.kind, fmt.shape if fmt else LINES)
    if fmt is None or fmt.kind != TRANSCRIPT or fmt.shape != LINES:
        return None
    summary = SourceSummary(str(path), format=fmt.name)
    return _GroupFile(path, st, head[:FINGERPRINT_BYTES], summary)


def _in_transcript_dir(path: Path, opts: IngestOptions) -> bool:
    """Whether ``path`` is a *.jsonl file under one of ``opts.transcript_dirs`` (paths as given to expand_paths,
    which keeps them as prefixes of the files it finds there)."""
    name = str(path)
    return name.endswith(".jsonl") and any(
        name.startswith(d.rstrip(os.sep) + os.sep) for d in opts.transcript_dirs
    )


def ingest_files(
    con: duckdb.DuckDBPyConnection,
    files: Iterable[Path],
    opts: IngestOptions | None = None,
) -> list[SourceSummary]:
    """Ingest files in order, like ``ingest_file`` on each, but runs of small plain transcript files share
    transactions and normaliser calls (a Claude Code folder holds thousands of small session files). On a first
    ingest (no source stored yet) the first batch is read and normalised while the files are looked at
    (:class:`_EarlyRead`)."""
    opts = opts or IngestOptions()
    files = list(files)
    early = None
    if BULK_BYTES and files and not con.execute("select 1 from sources limit 1").fetchall():
        early = _EarlyRead(con, files)  # a first ingest: the first batch is read meanwhile
    summaries: list[SourceSummary] = []
    run: list[_GroupFile] = []
    try:
        for f in files:
            g = _small_transcript(f, opts)
            if g is not None:
                run.append(g)
                if len(run) >= GROUP_LOOKUP_FILES:
                    summaries.extend(_ingest_transcript_run(con, run, opts, early))
                    run = []
                continue
            if run:
                summaries.extend(_ingest_transcript_run(con, run, opts, early))
                run = []
            if early is not None:  # another kind of file first: the early read is not the first batch
                early.close()
                early = None
            summaries.append(ingest_file(con, f, opts))
        if run:
            summaries.extend(_ingest_transcript_run(con, run, opts, early))
    finally:
        if early is not None:
            early.close()
    return summaries


def _candidates(con: duckdb.DuckDBPyConnection, run: list[_GroupFile]) -> list[list[tuple]]:
    """Per file, the stored source rows whose fingerprint matches its head, newest first (as _find_source)."""
    lengths = [int(r[0]) for r in con.execute("select distinct fingerprint_len from sources").fetchall()]
    out: list[list[tuple]] = [[] for _ in run]
    if not lengths:
        return out
    keys: dict[tuple[int, str], list[int]] = {}
    for i, g in enumerate(run):
        for n in lengths:
            if n <= len(g.head):
                keys.setdefault((n, _sha(g.head[:n])), []).append(i)
    if not keys:
        return out
    rows = con.execute(
        "select source_id, offset_bytes, lines_read, size_bytes, fingerprint, fingerprint_len, path, device, inode "
        "from sources where (fingerprint_len, fingerprint) in (select unnest(?), unnest(?)) "
        "order by last_ingest desc",
        [[k[0] for k in keys], [k[1] for k in keys]],
    ).fetchall()
    for row in rows:
        for i in keys.get((int(row[5]), row[4]), []):
            out[i].append(row)
    return out


class _Heads:
    """The heads (first bytes) of files, answering whether one of them starts another head, as a fingerprint of
    that length would match. Bucketed by first line (a head that starts another has the same first line), so a
    lookup compares a few heads instead of hashing a prefix per distinct head length (16k files of a 1M-entry
    corpus had 450k such hashes)."""

    def __init__(self) -> None:
        self._by_first_line: dict[bytes, list[bytes]] = {}
        self._whole: set[bytes] = set()  # FINGERPRINT_BYTES long without a newline: equal or not
        self._short: list[bytes] = []  # shorter, without a newline (a tiny unterminated file): rare

    def add(self, head: bytes) -> None:
        end = head.find(b"\n")
        if end >= 0:
            self._by_first_line.setdefault(head[: end + 1], []).append(head)
        elif len(head) >= FINGERPRINT_BYTES:
            self._whole.add(head[:FINGERPRINT_BYTES])
        else:
            self._short.append(head)

    def one_starts(self, head: bytes) -> bool:
        end = head.find(b"\n")
        if end >= 0 and any(head.startswith(h) for h in self._by_first_line.get(head[: end + 1], ())):
            return True
        return head[:FINGERPRINT_BYTES] in self._whole or any(head.startswith(h) for h in self._short)


def _ingest_transcript_run(
    con: duckdb.DuckDBPyConnection,
    run: list[_GroupFile],
    opts: IngestOptions,
    early: _EarlyRead | None = None,
) -> list[SourceSummary]:
    """Match each file of ``run`` to its stored source, as ingest_file does, then store their new lines in
    batches of GROUP_BYTES. A file whose matching could depend on an earlier file of the run (same first bytes)
    starts a new lookup after what precedes it is stored, so every file sees the state ingest_file would."""
    start = 0
    while start < len(run):
        cands = _candidates(con, run[start:])
        claimed: set[int] = set()
        earlier = _Heads()
        new: list[_GroupFile] = []
        end = start
        for g, rows in zip(run[start:], cands, strict=True):
            ids = {int(r[0]) for r in rows}
            if ids & claimed or earlier.one_starts(g.head):
                break  # depends on an earlier file of this lookup
            claimed |= ids
            src = next(
                (
                    _Source(r[0], r[1], r[2], r[3], r[4], r[5], False)
                    for r in rows
                    if _accepts(r, g.path, g.head, g.st)
                ),
                None,
            )
            if src is not None and g.st.st_size < src.offset:
                src = None  # truncated in place: a new life of the file
            fplen = len(g.head)
            if src is None:
                new.append(g)
            elif src.fingerprint_len < fplen:
                con.execute(
                    "update sources set fingerprint = ?, fingerprint_len = ? where source_id = ?",
                    [_sha(g.head), fplen, src.source_id],
                )
            earlier.add(g.head)
            g.src = src
            end += 1
        _register_sources(con, new)
        _store_run(con, run[start:end], opts, early)
        start = end
    _merge_pending_now(con)
    if opts.merge_transcripts:
        _merge_transcripts_now(con)
    return [g.summary for g in run]


def _register_sources(con: duckdb.DuckDBPyConnection, new: list[_GroupFile]) -> None:
    """One insert for the new sources of a run, ids from the sequence in file order (as _register_source)."""
    if not new:
        return
    ids = sorted(
        int(r[0]) for r in con.execute("select nextval('source_ids') from range(?)", [len(new)]).fetchall()
    )
    table = pa.table(
        {
            "source_id": pa.array(ids, pa.int64()),
            "path": pa.array([str(g.path) for g in new], pa.string()),
            "device": pa.array([g.st.st_dev for g in new], pa.int64()),
            "inode": pa.array([g.st.st_ino for g in new], pa.int64()),
            "fingerprint": pa.array([_sha(g.head) for g in new], pa.string()),
            "fingerprint_len": pa.array([len(g.head) for g in new], pa.int32()),
            "format": pa.array([g.summary.format for g in new], pa.string()),
        }
    )
    con.register("_new_sources", table)
    try:
        con.execute(
            "insert into sources (source_id, path, device, inode, fingerprint, fingerprint_len, compressed, "
            "format, first_ingest, last_ingest) select source_id, path, device, inode, fingerprint, "
            "fingerprint_len, false, format, now(), now() from _new_sources"
        )
    finally:
        con.unregister("_new_sources")
    for g, sid in zip(new, ids, strict=True):
        g.src = _Source(sid, 0, 0, 0, _sha(g.head), len(g.head), True)


def _store_run(
    con: duckdb.DuckDBPyConnection,
    run: list[_GroupFile],
    opts: IngestOptions,
    early: _EarlyRead | None = None,
) -> None:
    """Read the new complete lines of each file (a partial last line waits) and store them in batches. Runs of
    files new to the store go to DuckDB whole (:func:`_bulk_store`); the others are read here in chunks. The
    next bulk batch is read on a second connection while the current one is stored; the first may have been read
    already (``early``)."""
    fmt = Format(TRANSCRIPT, LINES)
    advance = None
    if opts.progress and len(run) > 1:
        advance = opts.progress(
            f"{len(run)} transcript files",
            sum(max(g.st.st_size - (g.src.offset if g.src else 0), 0) for g in run),
        )
    # The plan, in file order: bulk batches (lists of files new to the store) and single files for chunks.
    plan: list[list[_GroupFile] | _GroupFile] = []
    bulk: list[_GroupFile] = []
    bulk_size = 0
    for g in run:
        assert g.src is not None
        if BULK_BYTES and g.src.offset == 0 and g.src.lines_read == 0 and not _GLOB_CHARS & set(str(g.path)):
            if bulk and bulk_size + g.st.st_size > BULK_BYTES:
                plan.append(bulk)
                bulk, bulk_size = [], 0
            bulk.append(g)
            bulk_size += g.st.st_size
            continue
        if bulk:
            plan.append(bulk)
            bulk, bulk_size = [], 0
        plan.append(g)
    if bulk:
        plan.append(bulk)

    batch: list[_GroupFile] = []
    size = 0

    def add(g: _GroupFile) -> None:
        nonlocal batch, size
        assert g.src is not None
        try:
            with g.path.open("rb") as f:
                f.seek(g.src.offset)
                budget = max(g.st.st_size - g.src.offset, 0)
                g.chunks = list(_read_chunks(f, budget, g.src.offset, g.src.lines_read, fmt, opts, g.summary))
        except OSError as exc:  # removed or made unreadable since it was looked at
            g.summary.error = exc.strerror or str(exc)
            return
        n = sum(len(c.data) for c in g.chunks)
        if not n:
            g.summary.note = g.summary.note or "already up to date"
            return
        if batch and size + n > GROUP_BYTES:
            _store_batch(con, batch, advance)
            batch, size = [], 0
        batch.append(g)
        size += n

    bulks = {i: item for i, item in enumerate(plan) if isinstance(item, list)}
    if not bulks:
        for item in plan:
            assert not isinstance(item, list)
            add(item)
    else:
        _attach_scratch(con)
        reader = cursor(con)
        reads: dict[int, Future[_Prepared | None]] = {}
        try:
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ccstats-read") as pool:
                for i, item in enumerate(plan):
                    if not isinstance(item, list):
                        add(item)
                        continue
                    if batch:  # keep file order: what precedes is stored first
                        _store_batch(con, batch, advance)
                        batch, size = [], 0
                    if i not in reads:
                        reads[i] = (early and early.take(item)) or pool.submit(_prepare_files, reader, item)
                    # At most two batches prepared at a time: this one and the next, prepared while this one is
                    # stored.
                    following = next((j for j in bulks if j > i), None)
                    if following is not None:
                        reads[following] = pool.submit(_prepare_files, reader, bulks[following])
                    for g in _bulk_store(con, item, reads.pop(i).result(), opts, advance):
                        add(g)  # files DuckDB cannot take whole: chunked path
        finally:
            for left_over in reads.values():  # an ingest that stopped early
                _drop_when_done(con, left_over)
            reader.close()
    if batch:
        _store_batch(con, batch, advance)


#: new transcript bytes read by DuckDB per statement and transaction (0: never; every file goes in chunks). Measured
#: on a cold 1M-entry corpus: 128 MB (about 110k entries) took 29 s, 256 MB 21 s, at the same peak RSS. Inserts of
#: more than a DuckDB row group (122,880 rows) are written to the database file directly instead of through the
#: WAL and again at the checkpoint.
BULK_BYTES = 256 << 20
_GLOB_CHARS = frozenset("*?[{\\")  # read_blob would expand such a path as a pattern: chunked path


def _bulk_files_table(paths: list[str], sizes: list[int]) -> pa.Table:
    """The file list the bulk read takes as ``_bulk_files``: each file's position in ``paths`` as its source_id."""
    return pa.table(
        {
            "source_id": pa.array(range(len(paths)), pa.int64()),
            "pos": pa.array(range(len(paths)), pa.int64()),
            "path": pa.array(paths, pa.string()),
            "size": pa.array(sizes, pa.int64()),
        }
    )


def _bulk_read_sql(files: str) -> str:
    """transcript_bulk_read.sql over ``files``: "transcript_bulk_text", or "transcript_bulk_blob" (not UTF-8)."""
    return sql("transcript_bulk_read").format(files=sql(files), suspect=might_contain_secret_sql("text"))


def _bulk_read(con: duckdb.DuckDBPyConnection, paths: list[str], sizes: list[int]) -> pa.Table | None:
    """Read files new to the store with DuckDB (transcript_bulk_read.sql) on ``con``, a connection of their own
    (this runs in a worker thread), each cut at its size: one row per file read, with no text for a file that may
    hold a credential, and its position in ``paths`` as source_id and pos. None when a file could not be read at
    all (each file then goes by the chunked path, which reports it). Never inside a transaction: read_text fails
    the whole statement on a file that is not UTF-8, which would abort it. The table comes in several record
    batches, so that DuckDB can split and normalise it on all its threads."""
    con.register("_bulk_files", _bulk_files_table(paths, sizes))
    rows_per_batch = max(_VECTOR_SIZE, -(-len(paths) // 8))
    try:
        params = {"paths": paths}
        try:
            query = con.sql(_bulk_read_sql("transcript_bulk_text"), params=params)
            return query.to_arrow_reader(rows_per_batch).read_all()
        except duckdb.InvalidInputException:  # a file that is not UTF-8
            query = con.sql(_bulk_read_sql("transcript_bulk_blob"), params=params)
            return query.to_arrow_reader(rows_per_batch).read_all()
    except duckdb.IOException:
        return None
    finally:
        con.unregister("_bulk_files")


_VECTOR_SIZE = 2048  # DuckDB's; an Arrow record batch holds a multiple of it
SCRATCH = (
    "ccstats_scratch"  # an in-memory database attached to the store's DuckDB, seen by all its connections
)
_scratch_ids = itertools.count()


def _attach_scratch(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"attach if not exists ':memory:' as {SCRATCH}")


@dataclass
class _Prepared:
    """A bulk batch read and normalised on the reader's connection (:func:`_bulk_prepare`): tables ``{name}_files``,
    ``{name}_norm`` and ``{name}_offsets`` of the scratch database, keyed by the files' positions in the batch.
    The main connection stores from them and drops them (:func:`_drop_prepared`)."""

    name: str


def _bulk_prepare(con: duckdb.DuckDBPyConnection, paths: list[str], sizes: list[int]) -> _Prepared | None:
    """Read the files (:func:`_bulk_read`), split them into lines and normalise the lines (normalize_transcript.sql)
    into the scratch database, on ``con``, the reader's own connection: the main connection, which stores, then
    has only the inserts left to do while the next batch is prepared. None when the files could not be read."""
    raw = _bulk_read(con, paths, sizes)
    if raw is None:
        return None
    name = f"{SCRATCH}.b{next(_scratch_ids)}"
    con.register("_bulk_raw", raw)
    try:
        con.execute(sql("transcript_bulk_prepare").format(t=name))
        con.execute(f"create table {name}_norm as {sql('normalize_transcript')}")
        if con.execute(f"select count(_reason) from {name}_norm").fetchall()[0][0]:
            con.execute(sql("transcript_bulk_prepare_offsets").format(t=name))
        else:
            con.execute(f"create table {name}_offsets (source_id bigint, line_no bigint, byte_offset bigint)")
    except BaseException:
        _drop_prepared(con, _Prepared(name))
        raise
    finally:
        con.execute("drop view if exists batch")
        con.unregister("_bulk_raw")
    return _Prepared(name)


def _drop_prepared(con: duckdb.DuckDBPyConnection, prepared: _Prepared | None) -> None:
    if prepared is not None:
        for part in ("files", "norm", "offsets"):
            con.execute(f"drop table if exists {prepared.name}_{part}")


def _prepare_files(con: duckdb.DuckDBPyConnection, files: list[_GroupFile]) -> _Prepared | None:
    return _bulk_prepare(con, [str(g.path) for g in files], [g.st.st_size for g in files])


def _drop_when_done(con: duckdb.DuckDBPyConnection, read: Future[_Prepared | None]) -> None:
    """Drop the tables of a preparation that will not be stored (an ingest that stopped early), once it ends."""
    try:
        _drop_prepared(con, read.result())
    except Exception:  # noqa: BLE001 - its own error does not matter any more
        pass


#: the least a first bulk batch must hold to be read early (:class:`_EarlyRead`)
EARLY_READ_MIN_BYTES = 16 << 20


class _EarlyRead:
    """The first bulk batch of a first ingest (no source stored yet), read and normalised while the files are
    still being looked at: the files in walk order up to BULK_BYTES, as :func:`_store_run` would batch them if all
    are transcripts new to the store. It is used only for a batch of exactly those files at those sizes."""

    def __init__(self, con: duckdb.DuckDBPyConnection, files: list[Path]) -> None:
        self.key: list[tuple[str, int]] = []
        total = 0
        for f in files:
            try:
                st = f.stat()
            except OSError:
                break
            if (
                not stat.S_ISREG(st.st_mode)
                or st.st_size >= GROUP_FILE_BYTES
                or _GLOB_CHARS & set(str(f))
                or (self.key and total + st.st_size > BULK_BYTES)
            ):
                break
            self.key.append((str(f), st.st_size))
            total += st.st_size
        self.result: Future[_Prepared | None] | None = None
        self._con = con
        self._reader: duckdb.DuckDBPyConnection | None = None
        self._pool: ThreadPoolExecutor | None = None
        if total < EARLY_READ_MIN_BYTES:  # a read that takes milliseconds: not worth a thread
            return
        _attach_scratch(con)
        self._reader = cursor(con)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ccstats-early-read")
        paths, sizes = [k[0] for k in self.key], [k[1] for k in self.key]
        self.result = self._pool.submit(_bulk_prepare, self._reader, paths, sizes)

    def take(self, files: list[_GroupFile]) -> Future[_Prepared | None] | None:
        """The read, if it is of exactly ``files``; asked once (a later batch never matches)."""
        result, self.result = self.result, None
        if result is not None and self.key == [(str(g.path), g.st.st_size) for g in files]:
            return result
        if result is not None:
            _drop_when_done(self._con, result)
        return None

    def close(self) -> None:
        if self.result is not None:  # never asked for: its tables go
            _drop_when_done(self._con, self.result)
            self.result = None
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        if self._reader is not None:
            self._reader.close()
            self._reader = None


def _bulk_store(
    con: duckdb.DuckDBPyConnection,
    files: list[_GroupFile],
    prepared: _Prepared | None,
    opts: IngestOptions,
    advance: ProgressFn | None,
) -> list[_GroupFile]:
    """Store files new to the store (offset 0) in one transaction from their preparation (:func:`_bulk_prepare`):
    redaction in Python of only the files that may hold a credential, the lines the reader normalised for the
    others. Offsets, line counts, pending tails, quarantine and summaries come out as the chunked path gives them.
    Returns the files left for the chunked path (not UTF-8, NUL bytes, gone), in order."""
    if prepared is None:
        return files
    left: list[int] = []
    read: dict[int, tuple[int, int]] = {}  # source id -> lines, bytes read

    def work() -> dict[int, tuple[int, int, int, int]]:
        left.clear()
        read.clear()
        for g in files:
            g.summary.pending_tail = False
        return _bulk_store_tx(con, files, prepared.name, opts, left, read)

    try:
        counts = _transaction(con, work)
    finally:
        _drop_prepared(con, prepared)
        for t in ("_bulk_lines", "_bulk_orig_len", "_bulk_keep", "_grp_offsets"):
            con.execute(f"drop table if exists {t}")
        con.execute("drop view if exists batch")
        try:
            con.unregister("_bulk_clean")
        except duckdb.Error:
            pass
    out = []
    for g in files:
        assert g.src is not None
        sid = g.src.source_id
        if sid in left:
            out.append(g)
            continue
        if sid in counts:
            g.summary.count(counts[sid], *read[sid])
            if advance:
                advance(read[sid][1])
    return out


def _read_utf8(path: Path, nbytes: int) -> str | None:
    """The first ``nbytes`` of a file as text; None when the file is gone, shorter or not UTF-8."""
    try:
        with open(path, "rb") as f:
            data = f.read(nbytes)
        return data.decode("utf-8") if len(data) == nbytes else None
    except (OSError, UnicodeDecodeError):
        return None


def _line_lengths(texts: dict[int, str]) -> dict[str, list[int]]:
    """Per line of each text (split on newlines, the part after the last one included): source id, 1-based line
    number and length in UTF-8 bytes, as columns."""
    out: dict[str, list[int]] = {"sid": [], "line_no": [], "nbytes": []}
    for sid, text in texts.items():
        lengths = [len(part.encode("utf-8")) for part in text.split("\n")]
        out["sid"] += [sid] * len(lengths)
        out["line_no"] += range(1, len(lengths) + 1)
        out["nbytes"] += lengths
    return out


def _bulk_store_tx(
    con: duckdb.DuckDBPyConnection,
    files: list[_GroupFile],
    prepared: str,
    opts: IngestOptions,
    left: list[int],
    read: dict[int, tuple[int, int]],
) -> dict[int, tuple[int, int, int, int]]:
    """The work of :func:`_bulk_store` on the tables ``{prepared}_*`` (:func:`_bulk_prepare`; files by their
    position in ``files``), in its transaction."""
    sid_of = [g.src.source_id if g.src else -1 for g in files]
    ends = con.execute(
        f"select pos, nbytes, suspect, bad, n_parts, tail_bytes, case when tail <> '' then tail end "
        f"from {prepared}_files order by pos"
    ).fetchall()
    # Credentials are redacted before anything is stored; the literal test of might_contain_secret (column
    # suspect) picks the few files the regexes must see. DuckDB kept no text of those: read them here (the cut
    # DuckDB read, nbytes), redact, and only then hand the text over. Redaction keeps every newline.
    orig: dict[int, str] = {}  # by source id
    clean_texts: dict[int, str] = {}
    clean_paths: dict[int, str] = {}
    kept: list[tuple[int, int, int, int, str | None]] = []  # pos, nbytes, n_parts, tail bytes, tail
    found: set[int] = set()
    for pos, nbytes, suspect, bad, n_parts, tail_bytes, tail in ends:
        pos, nbytes = int(pos), int(nbytes)
        found.add(pos)
        if bad:
            continue
        if suspect:
            sid = sid_of[pos]
            text = _read_utf8(files[pos].path, nbytes)
            if text is None or "\0" in text:
                continue  # gone, shorter, not UTF-8 or NUL bytes: the chunked path reports it as it does any file
            clean_texts[sid] = redact_text(text)
            clean_paths[sid] = str(files[pos].path)
            if clean_texts[sid] != text:
                orig[sid] = text
            # the tail as read decides, and its length in bytes as read
            n_parts = text.count("\n") + 1
            tail = text.rsplit("\n", 1)[-1]
            tail_bytes = len(tail.encode("utf-8"))
            tail = tail or None
        kept.append((pos, nbytes, int(n_parts), int(tail_bytes), tail))
    kept_pos = {k[0] for k in kept}
    left.extend(sid_of[pos] for pos in range(len(files)) if pos not in found or pos not in kept_pos)
    meta: dict[str, list[int]] = {k: [] for k in ("source_id", "pos", "n_lines", "offset_bytes")}
    paths: list[str] = []
    for pos, nbytes, nparts, tail_bytes, tail in kept:
        g = files[pos]
        sid = sid_of[pos]
        n = nparts - 1
        offset = nbytes - tail_bytes
        if tail is not None:
            # As _read_chunks: an unterminated last line is read now only if it is a complete record.
            if opts.final and _complete_record(tail.encode("utf-8"), TRANSCRIPT):
                n += 1
                offset = nbytes
            else:
                g.summary.pending_tail = True
        if not n:
            g.summary.note = g.summary.note or "already up to date"
            continue
        # counted into the summary by _bulk_store after the commit; bytes as the chunked path counts them (with
        # the newline it adds to an unterminated last record)
        read[sid] = (n, offset + (offset == nbytes and tail is not None))
        meta["source_id"].append(sid)
        meta["pos"].append(pos)
        meta["n_lines"].append(n)
        meta["offset_bytes"].append(offset)
        paths.append(str(g.path))
    if not paths:
        return {}
    con.execute(
        "create or replace temp table _bulk_keep as select unnest($pos)::bigint as pos, "
        "unnest($sid)::bigint as source_id, unnest($n)::bigint as n_lines",
        {"pos": meta["pos"], "sid": meta["source_id"], "n": meta["n_lines"]},
    )
    # The reader's normalised lines, under their files' source ids: those the store decides on (the complete
    # lines, plus an unterminated last line when it is a complete record and the ingest is final).
    con.execute(
        f"create or replace temp table norm as select n.* replace (k.source_id as source_id) "
        f"from {prepared}_norm n join _bulk_keep k on k.pos = n.source_id and n.line_no <= k.n_lines"
    )
    con.execute(
        f"create or replace temp table _grp_offsets as select k.source_id, o.line_no, o.byte_offset "
        f"from {prepared}_offsets o join _bulk_keep k on k.pos = o.source_id"
    )
    if clean_texts:  # the redacted files: split and normalised here
        con.register(
            "_bulk_clean",
            pa.table(
                {
                    "source_id": pa.array(list(clean_texts), pa.int64()),
                    "path": pa.array(list(clean_paths.values()), pa.string()),
                    "text": pa.array(list(clean_texts.values()), pa.large_string()),
                }
            ),
        )
        con.execute(sql("transcript_bulk_lines"))
        con.execute(sql("transcript_bulk_batch"))
        con.execute(f"insert into norm by name {sql('normalize_transcript')}")
        con.execute("drop view batch")
        # Quarantine offsets count the bytes as read: each redacted file's line lengths, not its text.
        con.execute(
            "create or replace temp table _bulk_orig_len as select unnest($sid)::bigint as source_id, "
            "unnest($line_no)::bigint as line_no, unnest($nbytes)::bigint as nbytes",
            _line_lengths(orig),
        )
        con.execute(f"insert into _grp_offsets {sql('transcript_bulk_offsets')}")
    table = pa.table(
        {
            "source_id": pa.array(meta["source_id"], pa.int64()),
            "pos": pa.array(meta["pos"], pa.int64()),
            "path": pa.array(paths, pa.string()),
            "n_lines": pa.array(meta["n_lines"], pa.int64()),
            "n_py_bad": pa.array([0] * len(paths), pa.int64()),
            "offset_bytes": pa.array(meta["offset_bytes"], pa.int64()),
            "lines_read": pa.array(meta["n_lines"], pa.int64()),
        }
    )
    return _store_norm(con, table)


def _store_batch(con: duckdb.DuckDBPyConnection, batch: list[_GroupFile], advance: ProgressFn | None) -> None:
    tables = []
    offsets = []
    for g in batch:
        assert g.src is not None
        for c in g.chunks:
            tables.append(_with_source_columns(c.table, g.src.source_id, str(g.path)))
            offsets.append(
                c.offsets.append_column(
                    "source_id", pa.array(np.full(c.offsets.num_rows, g.src.source_id, np.int64))
                )
            )
    lines = pa.concat_tables(tables, promote_options="permissive")
    offs = pa.concat_tables(offsets)
    files = pa.table(
        {
            "source_id": pa.array([g.src.source_id for g in batch if g.src], pa.int64()),
            "pos": pa.array(range(len(batch)), pa.int64()),
            "path": pa.array([str(g.path) for g in batch], pa.string()),
            "n_lines": pa.array([sum(c.table.num_rows for c in g.chunks) for g in batch], pa.int64()),
            "n_py_bad": pa.array([sum(len(c.py_bad) for c in g.chunks) for g in batch], pa.int64()),
            "offset_bytes": pa.array(
                [
                    g.chunks[-1].base_offset + len(g.chunks[-1].data) + g.chunks[-1].consumed_extra
                    for g in batch
                ],
                pa.int64(),
            ),
            "lines_read": pa.array(
                [g.chunks[-1].first_line_no - 1 + g.chunks[-1].n for g in batch], pa.int64()
            ),
        }
    )
    counts = _transaction(con, functools.partial(_store_batch_tx, con, batch, lines, offs, files))
    for g in batch:
        assert g.src is not None
        added, dups, bad, skipped = counts[g.src.source_id]
        nbytes = sum(len(c.data) for c in g.chunks)
        g.summary.count((added, dups, bad, skipped), sum(c.n for c in g.chunks), nbytes)
        g.chunks = []
        if advance:
            advance(nbytes)


def _store_batch_tx(
    con: duckdb.DuckDBPyConnection,
    batch: list[_GroupFile],
    lines: pa.Table,
    offs: pa.Table,
    files: pa.Table,
) -> dict[int, tuple[int, int, int, int]]:
    """Store one batch of many files' lines in the caller's transaction; per source id: added, duplicates,
    quarantined, skipped, counted as storing the files one after another would."""
    for g in batch:
        assert g.src is not None
        for c in g.chunks:
            _quarantine_rows(con, g.src.source_id, str(g.path), c.py_bad)
    con.register("batch", lines)
    try:
        con.execute(f"create or replace temp table norm as {sql('normalize_transcript')}")
    finally:
        try:
            con.unregister("batch")
        except duckdb.Error:
            pass
    con.register("_grp_offsets", offs)
    try:
        return _store_norm(con, files)
    finally:
        con.unregister("_grp_offsets")


def _store_norm(con: duckdb.DuckDBPyConnection, files: pa.Table) -> dict[int, tuple[int, int, int, int]]:
    """Store the normalised lines (temp table ``norm``) of the files in ``files`` (source_id, pos, path, n_lines,
    n_py_bad, offset_bytes, lines_read) and move their sources' offsets, in the caller's transaction; relation
    ``_grp_offsets`` (source_id, line_no, byte_offset) places quarantined lines. Returns per source id: added,
    duplicates, quarantined, skipped, counted as storing the files one after another would."""
    con.register("_grp_files", files)
    try:
        con.execute(
            "insert into quarantine select n.source_id, n.source_path, n.line_no, b.byte_offset, n._reason, "
            "n._excerpt, now() from norm n left join _grp_offsets b "
            "on b.source_id = n.source_id and b.line_no = n.line_no where n._reason is not null"
        )
        # New entries are credited to the first file (in order) holding their key, as one-by-one ingest does.
        con.execute(
            "create or replace temp table _grp_keys as select n.entry_key, arg_min(n.source_id, f.pos) as sid "
            "from norm n join _grp_files f using (source_id) where n._reason is null group by n.entry_key"
        )
        known = con.execute(
            "select count(*) from transcript_entries where entry_key in (select entry_key from _grp_keys)"
        ).fetchall()[0][0]
        if known:
            con.execute("delete from _grp_keys where entry_key in (select entry_key from transcript_entries)")
        claude_code.store_transcript_batch(con, fresh=not known)  # same keys as _grp_keys
        rows = con.execute(
            "with c as (select source_id, count(*) as total, count(_reason) as bad, "
            "count(*) filter (where _reason is null) as good from norm group by source_id), "
            "a as (select sid as source_id, count(*) as added from _grp_keys group by sid) "
            "select f.source_id, coalesce(a.added, 0), coalesce(c.good, 0) - coalesce(a.added, 0), "
            "coalesce(c.bad, 0) + f.n_py_bad, f.n_lines - coalesce(c.total, 0) "
            "from _grp_files f left join c using (source_id) left join a using (source_id)"
        ).fetchall()
        counts = {int(r[0]): (int(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in rows}
        upd = files.append_column(
            "added", pa.array([counts[int(s)][0] for s in files.column("source_id").to_pylist()], pa.int64())
        )
        for i, name in enumerate(("dups", "bad", "skipped"), start=1):
            upd = upd.append_column(
                name, pa.array([counts[int(s)][i] for s in files.column("source_id").to_pylist()], pa.int64())
            )
        con.register("_grp_update", upd)
        try:
            con.execute(
                "update sources set offset_bytes = u.offset_bytes, lines_read = u.lines_read, "
                "size_bytes = greatest(sources.size_bytes, u.offset_bytes), "
                "rows_added = sources.rows_added + u.added, duplicates = sources.duplicates + u.dups, "
                "quarantined = sources.quarantined + u.bad, skipped_lines = sources.skipped_lines + u.skipped, "
                "last_ingest = now(), path = u.path from _grp_update u where sources.source_id = u.source_id"
            )
        finally:
            con.unregister("_grp_update")
    finally:
        con.unregister("_grp_files")
    return counts
