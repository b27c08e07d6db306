"""Checkpoint files: plain state dicts, written atomically, loaded with `weights_only=True`.

A checkpoint holds everything a resumed run needs to continue bit for bit: weights, α,
decoder, both optimisers, the schedule, every rank's RNG states (`trainables.seeding`), the
epoch and the metric history so far.
"""

from __future__ import annotations

from pathlib import Path

import torch

from trainables.atomic_files import atomic_write_bytes
from trainables.errors import InputError

STATE_FILE = "state.pt"


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
