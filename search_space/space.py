"""`SearchSpace`: everything the project needs to know about one architecture space, in one
object, so that no module switches on a space's name.

A space package (`search_space.darts`, `search_space.nb201`, or a third one) builds one
`SearchSpace` and registers it (`search_space.registry.register_space`), which also makes
its `facts` known to `search_space.catalog`, the torch-free list of names; the public helpers
(`build_supernet`, `parse_genotype`, `derive_genotype`, ...) look it up by name and call it.

A space's genotype class must offer: a class attribute `space` (the space's name),
`to_dict()` / `from_dict(data)` (a JSON object with a "space" key), `to_json()`, `key` (a
short stable hash), `canonical()`, `num_parameter_free_ops()` and a `__str__` that its
`parse_text` reads back. `search_space.genotype_io` has the shared pieces.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from search_space.catalog import SpaceFacts
from search_space.ops import OpBuilder, SearchOpBuilder, check_op_name, check_stride


@dataclass(frozen=True)
class SearchSpace:
    """One architecture space. Builders receive arguments already checked by the public
    helpers (positive sizes, a genotype of this space, a known network family)."""

    #: the space's names and sizes, as the torch-free catalog lists them
    facts: SpaceFacts
    #: name -> builder(C, stride, affine, track_running_stats), the discrete network's op
    op_table: Mapping[str, OpBuilder]
    #: name -> builder(C, stride), the op as the supernet's mixed op holds it
    search_op_table: Mapping[str, SearchOpBuilder]
    #: α keys and (edges, ops) shapes, as α files and `Supernet.alphas()` hold them
    alpha_shapes: Mapping[str, tuple[int, int]]
    #: the genotype class (see the module docstring for what it must offer)
    genotype_type: type
    #: checked float64 α (keys of `alpha_shapes`) -> genotype, by the space's rules
    derive: Callable[[Mapping[str, torch.Tensor]], Any]
    #: the space's own text form -> genotype, or None when `text` is not in that form
    parse_text: Callable[[str], Any]
    #: that form in words, for error messages
    text_form: str
    #: published genotypes by name: the names `facts.published` lists
    published: Mapping[str, Any]
    #: (num_classes, channels, layers, in_channels) -> Supernet
    supernet: Callable[[int, int, int, int], nn.Module]
    #: (genotype, num_classes, channels, layers, auxiliary, family, drop_path_prob,
    #: in_channels) -> discrete network whose forward returns (logits, logits_aux | None)
    network: Callable[..., nn.Module]

    def __post_init__(self) -> None:
        if tuple(self.published) != tuple(self.facts.published):
            raise ValueError(f"space {self.facts.name!r}: published genotypes {list(self.published)} "
                             f"differ from its facts' {list(self.facts.published)}")

    # the facts, read as the space's own attributes (see SpaceFacts for each)
    name = property(lambda self: self.facts.name)
    ops = property(lambda self: self.facts.ops)
    parameter_free_ops = property(lambda self: self.facts.parameter_free_ops)
    feature_stride = property(lambda self: self.facts.feature_stride)
    supernet_size = property(lambda self: self.facts.supernet_size)
    network_sizes = property(lambda self: self.facts.network_sizes)
    auxiliary_head = property(lambda self: self.facts.auxiliary_head)

    def check_op(self, name: object, field: str = "op") -> str:
        return check_op_name(self.ops, self.name, name, field)

    def build_op(
        self, name: str, channels: int, stride: int, affine: bool = True, track: bool = True
    ) -> nn.Module:
        """One op of a discrete network."""
        return self.op_table[self.check_op(name)](channels, check_stride(stride), affine, track)

    def build_search_op(self, name: str, channels: int, stride: int) -> nn.Module:
        """One op as the supernet holds it."""
        return self.search_op_table[self.check_op(name)](channels, check_stride(stride))
