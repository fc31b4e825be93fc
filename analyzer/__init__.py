"""ccstats: 5-hour windows, fallback events and who paid, from LiteLLM proxy logs, in a DuckDB store.

The library is the product; the `ccstats` command, the HTML report and the notebooks all call it.
Importing this package is cheap: analytics and charts load on first use.
"""

from typing import TYPE_CHECKING, Any

from .db import connect, default_db_path
from .errors import UserError

if TYPE_CHECKING:
    from .ingest import IngestOptions, SourceSummary, ingest_file, ingest_files, ingest_paths

_INGEST_NAMES = {"IngestOptions", "SourceSummary", "ingest_file", "ingest_files", "ingest_paths"}


def __getattr__(name: str) -> Any:
    # the ingest path (numpy, pyarrow, the source parsers) loads on first use: `ccstats report` never needs it
    if name in _INGEST_NAMES:
        from . import ingest

        return getattr(ingest, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "connect",
    "default_db_path",
    "UserError",
    "IngestOptions",
    "SourceSummary",
    "ingest_file",
    "ingest_files",
    "ingest_paths",
]
__version__ = "0.1.0"
