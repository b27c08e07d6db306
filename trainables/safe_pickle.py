"""Reading a bzip2-compressed pickle a user hands us without letting it run code.

A pickle names the callables that rebuild its objects, and a plain `pickle.load` calls
whatever it names (`os.system` included). NAS-Bench-201's files (`*.pickle.pbz2`) name three:
`collections.OrderedDict`, `numpy.dtype` and numpy's scalar constructor. The unpickler here
looks up those and nothing else; a file that names anything more is refused before any of
its objects is built, so nothing it names ever runs.
"""

from __future__ import annotations

import bz2
import importlib
import pickle
from pathlib import Path

from trainables.errors import InputError

#: (module, name) a NAS-Bench-201 file may name. numpy's scalar constructor lives in
#: `numpy.core.multiarray` in pickles written by numpy 1 and `numpy._core.multiarray` in
#: those written by numpy 2; either is looked up where this numpy has it.
ALLOWED_GLOBALS: frozenset[tuple[str, str]] = frozenset({
    ("collections", "OrderedDict"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
})


class UnsafePickleError(InputError):
    """The file names a callable outside `ALLOWED_GLOBALS`: refused, nothing of it built."""


class UnreadablePickleError(InputError):
    """The file is not a bzip2-compressed pickle (truncated, another format, empty)."""


class _Refused(pickle.UnpicklingError):
    def __init__(self, what: str):
        super().__init__(what)
        self.what = what


class _AllowListUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) not in ALLOWED_GLOBALS:
            raise _Refused(f"{module}.{name}")
        if name == "scalar":
            import numpy

            core = numpy._core if hasattr(numpy, "_core") else numpy.core  # numpy 2 / numpy 1
            return core.multiarray.scalar
        return getattr(importlib.import_module(module), name)

    def persistent_load(self, pid):
        raise _Refused(f"persistent id {pid!r}")


def load_bz2_pickle(path: str | Path) -> object:
    """The object in the bzip2-compressed pickle at `path`, built from plain Python values and
    the allowed classes only; UnsafePickleError or UnreadablePickleError (both exit 2)."""
    allowed = ", ".join(f"{m}.{n}" for m, n in sorted(ALLOWED_GLOBALS))
    try:
        with bz2.open(path, "rb") as stream:
            return _AllowListUnpickler(stream).load()
    except _Refused as refused:
        raise UnsafePickleError(
            f"{path} names {refused.what}, which a NAS-Bench-201 file never does; refused "
            f"without running it (allowed: {allowed}); replace the file with the benchmark's own"
        ) from None
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError,
            IndexError, KeyError, MemoryError) as exc:
        raise UnreadablePickleError(
            f"{path} is not a bzip2-compressed pickle ({type(exc).__name__}: {exc})"
        ) from None
