"""The `ccstats` command: a thin layer over the analyzer library."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

import click

from .errors import UserError

DB_OPTION = click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="DuckDB file (default: $CCSTATS_DB, else the user data folder).",
)


def _fail(message: str, code: int = 1) -> None:
    click.echo(f"ccstats: error: {message}", err=True)
    sys.exit(code)


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UserError as exc:
            _fail(str(exc))
        except KeyboardInterrupt:
            _fail("interrupted", 130)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ccstats")
def cli() -> None:
    """ccstats: 5-hour windows, fallbacks and who paid, from the logs a LiteLLM proxy writes.

    \b
    Typical use:
      ccstats ingest /var/log/litellm/          # spend logs, callback payloads, proxy JSON logs
      ccstats report                            # windows, fallbacks, billing, checks
      ccstats report --html report.html         # one offline HTML file with charts
    """


@cli.command()
@DB_OPTION
@click.option(
    "--format",
    "kind",
    type=click.Choice(["spend", "callback", "proxy", "transcript"]),
    default=None,
    help="Force the source kind instead of detecting it per file.",
)
@click.option(
    "--log-tz", default=None, help="IANA zone of proxy JSON log timestamps (default: this machine's zone)."
)
@click.option(
    "--litellm-config",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="LiteLLM config.yaml: tells which deployments carry their own api_key (for who-paid).",
)
@click.option("--watch", is_flag=True, help="After catching up, keep following the files and folders.")
@click.option("--poll", is_flag=True, help="With --watch: poll instead of inotify (network mounts).")
@click.option("--interval", type=float, default=1.0, show_default=True, help="Polling interval in seconds.")
@click.option(
    "--claude-code",
    "claude_code",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="[DIR]",
    help="Also read Claude Code transcripts (DIR; default $CLAUDE_CONFIG_DIR, else ~/.config/claude "
    "and ~/.claude), so windows count direct traffic too.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the per-source summary as JSON.")
@click.argument("sources", nargs=-1, required=False)
def ingest(
    db_path: str | None,
    kind: str | None,
    log_tz: str | None,
    litellm_config: str | None,
    watch: bool,
    poll: bool,
    interval: float,
    claude_code: str | None,
    as_json: bool,
    sources: tuple[str, ...],
) -> None:
    """Read LiteLLM logs (files, folders, globs; gzip too; postgresql:// URLs) into the database.

    \b
    Detected per file: spend-log rows (JSONL, /spend/logs JSON, v2/ui pages,
    psql CSV), logging-callback payloads, proxy JSON logs (json_logs: true),
    Claude Code transcripts. A postgresql://user@host/db source reads
    LiteLLM_SpendLogs straight from LiteLLM's database (read-only).
    Re-running is safe: nothing already stored is added twice, and appended
    files are read from where the last run stopped. Bad records go to the
    quarantine table with file, line and reason.
    """
    from . import commands

    commands.ingest_command(
        db_path,
        sources,
        kind=kind,
        log_tz=log_tz,
        litellm_config=litellm_config,
        watch=watch,
        poll=poll,
        interval=interval,
        as_json=as_json,
        claude_code=claude_code,
    )


@cli.command()
@DB_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def status(db_path: str | None, as_json: bool) -> None:
    """Show the sources read, their offsets and counts, and the quarantine."""
    from . import commands

    commands.status_command(db_path, as_json=as_json)


def _report_options(f: Callable[..., Any]) -> Callable[..., Any]:
    for opt in reversed(
        [
            DB_OPTION,
            click.option("--since", default=None, help="Start (ISO date or time, in --tz)."),
            click.option("--until", default=None, help="End, exclusive (ISO date or time, in --tz)."),
            click.option(
                "--tz", default=None, help="Display zone, IANA name (default: this machine's zone)."
            ),
            click.option(
                "--by",
                type=click.Choice(["key", "user", "end_user", "session", "model"]),
                default=None,
                help="Split windows per key, user, end user, session or model.",
            ),
            click.option(
                "--plan",
                type=click.Choice(["pro", "max5", "max20", "max", "p90"]),
                default="p90",
                show_default=True,
                help="Limit to measure windows against (labelled estimate).",
            ),
        ]
    ):
        f = opt(f)
    return f


@cli.command()
@_report_options
@click.option(
    "--json", "as_json", is_flag=True, help="One JSON object: windows, weekly, fallbacks, billing, check."
)
@click.option(
    "--html", "html_path", type=click.Path(dir_okay=False), default=None, help="Write an offline HTML report."
)
@click.option(
    "--png", "png_dir", type=click.Path(file_okay=False), default=None, help="Also write each chart as PNG."
)
@click.option(
    "--svg", "svg_dir", type=click.Path(file_okay=False), default=None, help="Also write each chart as SVG."
)
def report(**kwargs: Any) -> None:
    """Windows, weekly usage, fallbacks and who paid: tables, --json or --html."""
    from . import report_cli  # not commands: the report never loads the ingest path

    report_cli.report_command(**kwargs)


@cli.command()
@_report_options
@click.option("--json", "as_json", is_flag=True, help="Print the answers as JSON.")
def check(**kwargs: Any) -> None:
    """Answer a subscriber's trust questions from the logs; exit 1 if traffic went to API billing."""
    from . import report_cli

    sys.exit(report_cli.check_command(**kwargs))


def main() -> None:
    """The console entry point. Exits without the interpreter's teardown: freeing every loaded module's objects
    took about 50 ms of a 0.7 s report. Every command has closed its database and files when it returns, and
    DuckDB has made each commit durable, so the teardown has nothing left to save."""
    try:
        cli(prog_name="ccstats")
        code = 0
    except SystemExit as exc:
        code = _exit_code(exc.code)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # `ccstats report --json | head`: the reader left; nothing more to say
        code = code or 1
    os._exit(code)


def _exit_code(value: object) -> int:
    """The process exit code of ``sys.exit(value)``: as Python computes it (a message is printed, code 1)."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    print(value, file=sys.stderr)
    return 1


if __name__ == "__main__":
    main()
