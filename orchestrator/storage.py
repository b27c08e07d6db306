"""Writing result files next to Ray's, on a local disk (atomically) or an object store."""

from __future__ import annotations

import json
from pathlib import Path

from trainables.atomic_files import atomic_write_bytes


def join(base: str, *parts: str) -> str:
    return "/".join([base.rstrip("/"), *parts]) if "://" in base else str(Path(base, *parts))


def write_bytes(target: str, data: bytes) -> None:
    """Local paths: temp file + rename. URIs (s3://, gs://): one object put, atomic by nature."""
    if "://" not in target:
        atomic_write_bytes(Path(target), data)
        return
    import pyarrow.fs

    fs, path = pyarrow.fs.FileSystem.from_uri(target)
    with fs.open_output_stream(path) as out:
        out.write(data)


def write_json(target: str, obj) -> None:
    write_bytes(target, (json.dumps(obj, indent=2) + "\n").encode())


def write_jsonl(target: str, rows: list[dict]) -> None:
    write_bytes(target, "".join(json.dumps(r) + "\n" for r in rows).encode())
