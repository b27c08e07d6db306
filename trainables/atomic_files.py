"""Files written whole or not at all: every file the project writes (checkpoints, result
tables, reports) goes through here, so a reader never sees half of one, also after a crash
or a full disk in the middle of a write."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from trainables.errors import ResultWriteError


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temp file in the same directory, then rename: never a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a result file is shared
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and not isinstance(exc, ResultWriteError):
            kept = "its previous version is kept" if path.exists() else "no partial file was left"
            error = ResultWriteError(f"could not write {path} ({exc.strerror or exc}); {kept}; "
                                     "run the command again once that is fixed")
            error.errno = exc.errno
            raise error from exc
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
