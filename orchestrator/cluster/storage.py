"""Reading and writing result files next to Ray's, on a local disk (atomically) or an object
store (`s3://`, `gs://`, `file://`: whatever `pyarrow.fs` opens).

On a cluster of several nodes the experiment directory is a URI every node reaches, and the
laptop reads the same URI afterwards (`alphadarts results s3://...`): every reader and writer
of the project's tables goes through here, so both kinds of path take the same code.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

from orchestrator.errors import UsageError
from trainables.atomic_files import atomic_write_bytes


def is_uri(target: str) -> bool:
    return "://" in str(target)


def join(base: str, *parts: str) -> str:
    return "/".join([base.rstrip("/"), *parts]) if is_uri(base) else str(Path(base, *parts))


def _fs(target: str):
    """(filesystem, path) of a URI; UsageError (one line) when pyarrow cannot parse it or
    knows no filesystem of its scheme."""
    import pyarrow.fs

    try:
        return pyarrow.fs.FileSystem.from_uri(target)
    except ValueError as exc:  # pyarrow's ArrowInvalid: '://', 'foo://x', 'file://'
        raise UsageError(f"{target!r} is not a URI pyarrow.fs can open, such as s3://BUCKET/PATH, "
                         f"gs://BUCKET/PATH or file:///ABSOLUTE/PATH ({str(exc).splitlines()[0][:120]})"
                         ) from None


def write_bytes(target: str, data: bytes) -> None:
    """Local paths: temp file + rename. URIs (s3://, gs://): one object put, atomic by nature."""
    if not is_uri(target):
        atomic_write_bytes(Path(target), data)
        return
    fs, path = _fs(target)
    parent = path.rsplit("/", 1)[0]
    if parent:
        fs.create_dir(parent, recursive=True)  # object stores: a no-op; file://: the folder
    with fs.open_output_stream(path) as out:
        out.write(data)


def write_json(target: str, obj) -> None:
    write_bytes(target, (json.dumps(obj, indent=2) + "\n").encode())


def write_jsonl(target: str, rows: list[dict]) -> None:
    write_bytes(target, "".join(json.dumps(r) + "\n" for r in rows).encode())


def is_file(target: str) -> bool:
    if not is_uri(target):
        return Path(target).expanduser().is_file()
    import pyarrow.fs

    fs, path = _fs(target)
    return fs.get_file_info(path).type == pyarrow.fs.FileType.File


def is_dir(target: str) -> bool:
    """A local folder, or a URI prefix that holds at least one object (object stores have
    no empty folders)."""
    if not is_uri(target):
        return Path(target).expanduser().is_dir()
    import pyarrow.fs

    fs, path = _fs(target)
    info = fs.get_file_info(path)
    if info.type == pyarrow.fs.FileType.Directory:
        return True
    return bool(fs.get_file_info(pyarrow.fs.FileSelector(path, allow_not_found=True, recursive=False)))


def read_bytes(target: str) -> bytes:
    if not is_uri(target):
        return Path(target).expanduser().read_bytes()
    fs, path = _fs(target)
    with fs.open_input_stream(path) as stream:
        return stream.read()


def read_parquet(target: str, what: str = "a Parquet table"):
    """A Parquet file (local or URI) as a pyarrow Table, or None where there is none;
    UsageError (one line) when the file is there but is not `what` (truncated, not Parquet)."""
    if not is_file(target):
        return None
    import pyarrow.parquet as pq

    try:
        return pq.read_table(io.BytesIO(read_bytes(target)))
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid: truncated, not parquet
        raise UsageError(f"{target} cannot be read as {what} ({str(exc).splitlines()[0][:200]})") from None


def list_files(target: str) -> list[str]:
    """Every file under a folder or URI prefix, as paths relative to it."""
    if not is_uri(target):
        root = Path(target).expanduser()
        return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    import pyarrow.fs

    fs, path = _fs(target)
    infos = fs.get_file_info(pyarrow.fs.FileSelector(path, allow_not_found=True, recursive=True))
    prefix = path.rstrip("/") + "/"
    return sorted(i.path[len(prefix):] for i in infos if i.type == pyarrow.fs.FileType.File)
