"""The DARTS macro layout, shared by its supernet and its discrete networks."""

from __future__ import annotations

STEM_MULTIPLIER = 3  #: the CIFAR stem has 3C channels


def reduction_layers(layers: int) -> tuple[int, ...]:
    """Indices of the DARTS reduction cells: `layers // 3` and `2 * layers // 3` (one cell
    when they coincide, for layers < 3)."""
    return tuple(sorted({layers // 3, 2 * layers // 3}))
