"""One command at a time per run or experiment directory.

Two commands writing the same directory at once (the same `name` started twice, a sweep
and a pipeline of the same name) would resume from each other's checkpoints and overwrite
each other's tables. Each command that writes a directory holds an exclusive lock on it
(`filelock`, an OS lock released when the process ends, also when it is killed); a second
command is refused at once, before Ray starts, with exit code 2 and one line.

The lock file lies beside the directory (`<output_dir>/.<dir>.lock`), not in it: a
directory's contents stay what its stage wrote (a sweep refuses a non-empty directory it
cannot resume). Object-store URIs (s3://, gs://) are not locked: there is no lock to take.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from orchestrator.errors import UsageError


def lock_path(directory: str) -> Path:
    path = Path(directory).expanduser()
    return path.parent / f".{path.name}.lock"


@contextmanager
def exclusive(directory: str) -> Iterator[None]:
    """Hold `directory`'s lock while the block runs; UsageError if another command holds it."""
    if "://" in directory:
        yield
        return
    lock_file = lock_path(directory)
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(lock_file), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise UsageError(
            f"{directory} is being written by another alphadarts command (it holds {lock_file}); "
            "wait for that one to end, or choose another name (--set name=...)"
        ) from None
    try:
        yield
    finally:
        lock.release()
