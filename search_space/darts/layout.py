"""The DARTS macro layout, shared by its supernet and its discrete networks (where the
reduction cells sit is the catalog's, which derives the feature stride from it)."""

from __future__ import annotations

from search_space.catalog.darts import reduction_layers

STEM_MULTIPLIER = 3  #: the CIFAR stem has 3C channels

__all__ = ["STEM_MULTIPLIER", "reduction_layers"]
