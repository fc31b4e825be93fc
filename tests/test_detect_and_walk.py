"""The fast paths in front of every ingest: telling a file's format from its first 16 KB (detect_from_prefix, with
the 256 KB head as the reference) and walking a folder with scandir (with pathlib's rglob as the reference)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from analyzer.ingest import DETECT_BYTES, expand_paths
from analyzer.sources import LINES, TRANSCRIPT, Format, Undecided, detect, detect_from_prefix
from tests.support.ccusage import write_transcripts

from .conftest import SAMPLE_LOGS

ODD_HEADS = [
    b"",
    b"  \n\n",
    b"proxy starting\nlistening\n" + b'{"message": "ready", "level": "INFO", "timestamp": "t"}\n' * 3,
    b'{"request_id": "r", "startTime": "t"}\r\n{"request_id": "s", "startTime": "t"}\r\n',
    b'\xef\xbb\xbf{"sessionId": "s", "uuid": "u", "type": "user"}\n{"x": 1}\n',
    b'{"data": [{"request_id": "r"}]}\n{"x": 1}\n',
    b'{"no": "kind"}\n{"x": 1}\n',
    b'{\n  "request_id": "r"\n}\n',
    b"request_id,spend\nr1,0.5\n",
    b'[{"request_id": "r"}]',
    b'{"sessionId": "s", "uuid": "u", "type": "assistant", "message": {"content": "'
    + b"x" * 20000
    + b'"}}\n',
]


def test_a_prefix_decides_only_what_the_whole_head_decides(tmp_path: Path) -> None:
    write_transcripts(
        tmp_path / "cc",
        [
            {"timestamp": datetime(2026, 11, 27, 10, i, tzinfo=UTC), "session_id": "s1", "project": "-p",
             "message_id": f"msg_{i}", "request_id": f"req_{i}", "model": "claude-sonnet-4-5",
             "input_tokens": 1, "output_tokens": 2, "cache_creation_tokens": 0, "cache_read_tokens": 0}
            for i in range(60)
        ],
    )  # fmt: skip
    paths = sorted(p for p in [*SAMPLE_LOGS.iterdir(), *(tmp_path / "cc").rglob("*.jsonl")] if p.is_file())
    heads = [p.read_bytes()[:DETECT_BYTES] for p in paths] + ODD_HEADS
    decided = 0
    for head in heads:
        whole = detect(head)
        for size in (16, 64, 200, 1024, 16 << 10):
            if len(head) < size:
                continue  # the whole file: detect itself
            got = detect_from_prefix(head[:size])
            if not isinstance(got, Undecided):
                decided += 1
                assert got == whole, (head[:80], size)
    assert decided >= 15
    transcript = (tmp_path / "cc" / "projects" / "-p" / "s1.jsonl").read_bytes()
    assert len(transcript) > 16 << 10  # decided from its first 16 KB, not read to 256 KB
    assert detect_from_prefix(transcript[: 16 << 10]) == Format(TRANSCRIPT, LINES)
    long_first_line = ODD_HEADS[-1]
    assert isinstance(detect_from_prefix(long_first_line[: 16 << 10]), Undecided)
    assert detect(long_first_line) == Format(TRANSCRIPT, LINES)


def _rglob_reference(folder: Path) -> list[Path]:
    """What expand_paths gave before it walked with scandir."""
    return sorted(
        q
        for q in folder.rglob("*")
        if q.is_file() and not any(part.startswith(".") for part in q.relative_to(folder).parts)
    )


def test_folder_walk_gives_rglobs_files_in_its_order(tmp_path: Path) -> None:
    root = tmp_path / "root"
    for d in ("a/c", "a-b", ".hidden", "a/.cache"):
        (root / d).mkdir(parents=True)
    for f in ("a/c/r.jsonl", "a-b/q.jsonl", "a.x", "a/y.jsonl", ".h", ".hidden/z", "a/.cache/w", "a/.dot"):
        (root / f).write_text("{}\n")
    other = tmp_path / "other"
    other.mkdir()
    (other / "x.jsonl").write_text("{}\n")
    os.symlink(other, root / "linked-folder")  # not entered, as rglob
    os.symlink(other / "x.jsonl", root / "a" / "linked.jsonl")  # a file: kept
    os.symlink(tmp_path / "missing", root / "broken")  # no file behind it: left out
    files, errors = expand_paths([str(root)])
    assert errors == []
    assert [str(f) for f in files] == [str(p) for p in _rglob_reference(root)]
    assert [f.relative_to(root).as_posix() for f in files] == [
        "a/c/r.jsonl", "a/linked.jsonl", "a/y.jsonl", "a-b/q.jsonl", "a.x",
    ]  # fmt: skip
    # the same file by another name is read once: the symlink found first, then its target named explicitly
    files, _ = expand_paths([str(root), str(other / "x.jsonl"), str(tmp_path / "root" / "a" / ".." / "a-b")])
    assert [f.relative_to(tmp_path).as_posix() for f in files] == [
        "root/a/c/r.jsonl", "root/a/linked.jsonl", "root/a/y.jsonl", "root/a-b/q.jsonl", "root/a.x",
    ]  # fmt: skip
