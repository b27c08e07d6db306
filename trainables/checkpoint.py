"""Checkpoint files: plain state dicts, written atomically, loaded with `weights_only=True`.

A checkpoint holds everything a resumed run needs to continue bit for bit: weights, α,
decoder, both optimisers, the schedule, every rank's RNG states, the epoch and the metric
history so far.
"""

from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path

import numpy as np
import torch

from trainables.errors import InputError

STATE_FILE = "state.pt"


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
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_state(path: Path, state: dict) -> None:
    import io

    buf = io.BytesIO()
    torch.save(state, buf)
    atomic_write_bytes(path, buf.getvalue())


def load_state(path: Path) -> dict:
    path = Path(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError as exc:
        raise InputError(f"checkpoint {path} does not exist") from exc
    except Exception as exc:  # truncated, not a torch file, or unsafe content
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise InputError(f"checkpoint {path} is corrupt or not an alphadarts checkpoint ({reason})") from exc
    if not isinstance(state, dict) or "epoch" not in state:
        raise InputError(f"checkpoint {path} is not an alphadarts checkpoint (no 'epoch' entry)")
    return state


def capture_rng() -> dict:
    """Python, NumPy and torch RNG states, as tensors and plain types (weights_only-safe)."""
    np_state = np.random.get_state()
    state = {
        "python": random.getstate(),
        "numpy_key": torch.from_numpy(np_state[1].astype(np.int64)),
        "numpy_pos": int(np_state[2]),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state()
    return state


def restore_rng(state: dict) -> None:
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    np.random.set_state(("MT19937", state["numpy_key"].numpy().astype(np.uint32), state["numpy_pos"], 0, 0.0))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(state["cuda"])


def seed_everything(seed: int) -> None:
    """One seed sets Python, NumPy and torch (and, through the samplers, the data order)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def rank_seed(seed: int, rank: int) -> int:
    """The seed of rank `rank`'s data-side randomness (masks, crops, flips): distinct per
    rank, and the same for the same (seed, rank) in every run."""
    return int(np.random.SeedSequence([seed, rank]).generate_state(1)[0])
