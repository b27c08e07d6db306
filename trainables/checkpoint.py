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
from trainables.seeding import fresh_stream_seed, rank_seed, restore_rank_rng

STATE_FILE = "state.pt"

#: the layout of the state dict; a checkpoint of another layout is refused at load, in one
#: line, instead of failing somewhere inside a resumed run. Files without the entry are
#: format 1 (written before it existed).
FORMAT = 1


def save_state(path: Path, state: dict) -> None:
    import io

    buf = io.BytesIO()
    torch.save({"format": FORMAT, **state}, buf)
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
    if state.get("format", 1) != FORMAT:
        raise InputError(
            f"checkpoint {path} has format {state.get('format')!r}, this alphadarts reads format "
            f"{FORMAT}; resume it with the version that wrote it, or start the run over"
        )
    return state


def check_same_shapes(module: torch.nn.Module, saved: dict, what: str) -> None:
    """Compare a saved state dict with `module`'s before `load_state_dict`, which would list
    every mismatch (thousands of lines for a supernet of another size): InputError naming
    how many entries differ and the first one."""
    if not isinstance(saved, dict):
        raise InputError(f"the checkpoint's {what} is not a state dict")
    own = module.state_dict()
    missing = [k for k in own if k not in saved]
    extra = [k for k in saved if k not in own]
    resized = [k for k in own if k in saved and hasattr(saved[k], "shape")
               and tuple(saved[k].shape) != tuple(own[k].shape)]
    if not (missing or extra or resized):
        return
    if resized:
        k = resized[0]
        example = f"{k} is {tuple(saved[k].shape)} there, {tuple(own[k].shape)} here"
    else:
        example = f"{(missing or extra)[0]} is {'missing there' if missing else 'not in this model'}"
    raise InputError(
        f"the checkpoint's {what} does not fit this config ({len(resized)} tensors of another "
        f"shape, {len(missing)} missing, {len(extra)} unknown; e.g. {example}): it was written "
        "with other model settings; start the run over or use another name"
    )


def restore_run(state: dict, parts: dict, collective, seed: int, what: str) -> tuple[int, list[dict]]:
    """Load a checkpoint into a run, the one way both the search and the train loop resume:
    `parts` maps state-dict keys to what loads them (the network first: its shapes are
    checked before anything loads, then optimisers, schedule), then each rank continues its
    random stream, or starts a fresh per-rank one where the worker count changed. Returns
    (epoch, metric history); a checkpoint of another layout is InputError naming `what`."""
    (net_key, net), *_ = parts.items()
    check_same_shapes(net, state.get(net_key), what)
    try:
        for key, obj in parts.items():
            obj.load_state_dict(state[key])
        rng, epoch, history = state["rng"], int(state["epoch"]), list(state["history"])
    except (KeyError, RuntimeError, ValueError, TypeError) as exc:
        raise InputError(f"checkpoint does not match this {what} ({exc})") from exc
    restore_rank_rng(rng, collective, rank_seed(fresh_stream_seed(seed, epoch), collective.rank))
    return epoch, history
