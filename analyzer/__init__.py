"""ccstats: 5-hour windows, fallback events and who paid, from LiteLLM proxy logs, in a DuckDB store.

The library is the product; the `ccstats` command, the HTML report and the notebooks all call it.
Importing this package is cheap: analytics and charts load on first use.
"""

from .db import connect, default_db_path
from .errors import UserError
from .ingest import IngestOptions, SourceSummary, ingest_file, ingest_files, ingest_paths

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
