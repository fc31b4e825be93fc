"""What each CLI command does, on top of the library; kept out of cli.py so `--help` stays instant."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any, NamedTuple

from .db import connect, default_db_path
from .errors import UserError
from .ingest import (
    IngestOptions,
    SourceSummary,
    after_ingest,
    expand_paths,
    ingest_files,
    load_litellm_config,
)

PROGRESS_MIN_BYTES = 8 << 20


def _console(stderr: bool = True, wide: bool = False) -> Any:
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    # Not a terminal (pipes, CI logs): rich would assume 80 columns; tables read better unwrapped.
    width = None if stream.isatty() or not wide else 200
    return Console(stderr=stderr, highlight=False, width=width)


def _progress_factory(stack: ExitStack) -> Callable[[str, int], Callable[[int], None]] | None:
    """A rich progress bar per large file, only when stderr is a terminal."""
    if not sys.stderr.isatty():
        return None
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=_console(),
        transient=True,
    )
    started = False

    def make(label: str, total: int) -> Callable[[int], None]:
        nonlocal started
        if total < PROGRESS_MIN_BYTES:
            return lambda n: None
        if not started:
            stack.enter_context(progress)
            started = True
        task = progress.add_task(label, total=total or None)
        return lambda n: progress.advance(task, n)

    return make


#: more sources than this and the terminal summary shows one row per folder (rich took 8 s for the 16.7k rows of a
#: 1M-entry Claude Code folder); the files with something to say keep their own rows, and --json has them all
SUMMARY_FILE_ROWS = 30


class _Row(NamedTuple):
    source: str
    format: str
    added: int
    duplicates: int
    quarantined: int
    skipped: int
    note: str


def _row(s: SourceSummary) -> _Row:
    note = s.error or s.note
    if s.pending_tail:
        note = (note + "; " if note else "") + "incomplete last line left for the next run"
    return _Row(s.path, s.format, s.rows_added, s.duplicates, s.quarantined, s.skipped, note)


def _summary_rows(summaries: list[SourceSummary]) -> list[_Row]:
    """The rows of the terminal summary: one per source, or, past SUMMARY_FILE_ROWS sources, one per folder (its
    files summed) followed by one per source with an error, quarantined records or a note other than "already up
    to date"."""
    rows = [_row(s) for s in summaries]
    if len(rows) <= SUMMARY_FILE_ROWS:
        return rows
    folders: dict[str, list[_Row]] = {}
    for row in rows:
        folders.setdefault(os.path.dirname(row.source) or ".", []).append(row)
    out = []
    for folder, members in folders.items():
        up_to_date = sum(m.note == "already up to date" for m in members)
        out.append(
            _Row(
                f"{folder}{os.sep} ({len(members):,} files)",
                ", ".join(sorted({m.format for m in members if m.format})),
                sum(m.added for m in members),
                sum(m.duplicates for m in members),
                sum(m.quarantined for m in members),
                sum(m.skipped for m in members),
                f"{up_to_date:,} already up to date" if up_to_date else "",
            )
        )
    return out + [
        row
        for s, row in zip(summaries, rows, strict=True)
        if s.error or s.quarantined or (row.note and row.note != "already up to date")
    ]


def print_summaries(summaries: list[SourceSummary], errors: list[str], as_json: bool) -> None:
    if as_json:
        # One source per line: json's C encoder serves only calls without indent, and indent=2 took 0.19 s for the
        # 16.7k files of a 1M-entry Claude Code folder (0.07 s this way).
        items = ",\n".join("    " + json.dumps(s.as_dict()) for s in summaries)
        click_echo(
            '{\n  "sources": [' + ("\n" + items + "\n  " if items else "") + "],\n"
            f'  "errors": {json.dumps(errors)}\n}}'
        )
        return
    from rich.table import Table

    table = Table(title="ingest", title_justify="left")
    for col in ("source", "format", "added", "duplicates", "quarantined", "skipped", "note"):
        table.add_column(
            col, justify="right" if col in ("added", "duplicates", "quarantined", "skipped") else "left"
        )
    rows = _summary_rows(summaries)
    for r in rows:
        counts = (r.added, r.duplicates, r.quarantined, r.skipped)
        table.add_row(r.source, r.format, *(f"{n:,}" for n in counts), r.note)
    _console(stderr=False, wide=True).print(table)
    if len(rows) != len(summaries):
        click_echo(f"{len(summaries):,} files, summed by folder; `--json` lists each file.", err=True)
    if any(s.quarantined for s in summaries):
        click_echo("quarantined records: `ccstats status` lists them (table `quarantine`).")


def click_echo(text: str, err: bool = False) -> None:
    import click

    click.echo(text, err=err)


def ingest_command(
    db_path: str | None,
    paths: tuple[str, ...],
    *,
    kind: str | None,
    log_tz: str | None,
    litellm_config: str | None,
    watch: bool,
    poll: bool,
    interval: float,
    as_json: bool,
    claude_code: str | None = None,
) -> None:
    claude_dirs: list[str] = []
    if claude_code is not None:
        from .sources.claude_code import claude_code_paths

        claude_dirs = claude_code_paths(claude_code or None)
        if not claude_dirs:
            raise UserError(
                "no Claude Code projects folder found (pass --claude-code DIR or set CLAUDE_CONFIG_DIR)"
            )
        paths = (*paths, *claude_dirs)
    if not paths:
        raise UserError("nothing to ingest: name files or folders, or pass --claude-code")
    if log_tz:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(log_tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise UserError(f"--log-tz: unknown time zone {log_tz!r}") from exc
    from .sources.postgres import is_postgres_dsn

    dsns = [p for p in paths if is_postgres_dsn(p)]
    paths = tuple(p for p in paths if not is_postgres_dsn(p))
    files, errors = expand_paths(paths) if paths else ([], [])
    if watch and dsns:
        if paths:
            raise UserError(
                "--watch follows either files or one postgresql:// source; run two watchers for both"
            )
        if len(dsns) > 1:
            raise UserError("--watch follows one postgresql:// source at a time")
        from .sources.postgres import watch_postgres

        watch_postgres(db_path or default_db_path(), dsns[0], interval=max(interval, 1.0))
        return
    if watch:
        from .watch import watch as run_watch

        for e in errors:
            click_echo(f"ccstats: error: {e}", err=True)
        run_watch(
            db_path,
            paths,
            IngestOptions(kind=kind, log_tz=log_tz, final=False, transcript_dirs=tuple(claude_dirs)),
            poll=poll,
            interval=interval,
            litellm_config=litellm_config,
        )
        return
    if not files and not dsns and errors:
        raise UserError("; ".join(errors))
    target = db_path or default_db_path()
    summaries: list[SourceSummary] = []
    with ExitStack() as stack:
        con = connect(target)
        stack.callback(con.close)
        if litellm_config:
            n = load_litellm_config(con, litellm_config)
            click_echo(f"read {n} deployments from {litellm_config}", err=True)
        # transcript matching runs once, in after_ingest below
        opts = IngestOptions(
            kind=kind,
            log_tz=log_tz,
            progress=_progress_factory(stack),
            merge_transcripts=False,
            transcript_dirs=tuple(claude_dirs),
        )
        if files:
            from .pricing import load_in_background

            load_in_background()  # needed by after_ingest's prices step
        summaries.extend(ingest_files(con, files, opts))
        if dsns:
            from .sources.postgres import ingest_postgres

            for dsn in dsns:
                summaries.append(ingest_postgres(con, dsn))
        after_ingest(con)
    print_summaries(summaries, errors, as_json)
    if not as_json:
        click_echo(f"database: {target}", err=True)
    failed = [f"{s.path}: {s.error}" for s in summaries if s.error] + errors
    for line in failed:
        click_echo(f"ccstats: error: {line}", err=True)
    if failed:
        sys.exit(1)


def status_command(db_path: str | None, *, as_json: bool) -> None:
    from .queries import status

    target = db_path or default_db_path()
    con = connect(target, read_only=True)
    try:
        st = status(con)
    finally:
        con.close()
    if as_json:
        click_echo(json.dumps(st, indent=2, default=str))
        return
    from rich.table import Table

    console = _console(stderr=False, wide=True)
    console.print(f"database: {target}")
    console.print(
        f"requests: {st['requests']:,}   callback events: {st['callback_events']:,}   "
        f"proxy log events: {st['proxy_events']:,}   quarantined: {st['quarantined']:,}"
    )
    t = Table(title="sources", title_justify="left")
    for col in ("path", "format", "offset", "lines", "added", "dups", "quarantined", "last ingest (UTC)"):
        t.add_column(col)
    for s in st["sources"]:
        t.add_row(
            s["path"],
            s["format"],
            f"{s['offset_bytes']:,}",
            f"{s['lines_read']:,}",
            f"{s['rows_added']:,}",
            f"{s['duplicates']:,}",
            f"{s['quarantined']:,}",
            str(s["last_ingest"])[:19],
        )
    console.print(t)
    if st["quarantine"]:
        q = Table(title="quarantine (latest 20)", title_justify="left")
        for col in ("path", "line", "reason", "excerpt"):
            q.add_column(col)
        for r in st["quarantine"]:
            q.add_row(r["path"], str(r["line_no"]), r["reason"], (r["raw_excerpt"] or "")[:80])
        console.print(q)
