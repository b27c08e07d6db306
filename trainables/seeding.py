"""Random state: one seed sets Python, NumPy and torch; each rank's data randomness comes from
(seed, rank); the states are captured and restored as plain tensors, so that checkpoints
load with `weights_only=True` and a resumed run continues bit for bit."""

from __future__ import annotations

import random

import numpy as np
import torch


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


def fresh_stream_seed(seed: int, epoch: int) -> int:
    """The seed of a new random stream for a run resumed after `epoch` with another worker
    count: distinct from the run's first streams and from other epochs' restarts."""
    return seed + 1_000_003 * epoch


def restore_rank_rng(rng_per_rank: list[dict], collective, fresh_seed: int) -> None:
    """Each rank continues its own random stream from a checkpoint (masks, crops, flips,
    drop path). A checkpoint of another worker count has no stream for this rank, and one
    rank's stream copied to every rank would give them identical masks again: every rank
    then starts a stream of its own from `fresh_seed` (already distinct per rank)."""
    if len(rng_per_rank) == collective.world_size:
        restore_rng(rng_per_rank[collective.rank])
    else:
        seed_everything(fresh_seed)
