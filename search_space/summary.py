"""Model size as the NAS papers report it: parameters and multiply-accumulates."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


def count_parameters(model: nn.Module) -> int:
    """Parameters, excluding any auxiliary head and α -- the DARTS papers' count."""
    arch = getattr(model, "arch_parameters", None)
    excluded = {id(p) for p in arch()} if callable(arch) else set()
    return sum(
        p.numel()
        for name, p in model.named_parameters()
        if "auxiliary" not in name and id(p) not in excluded
    )


def count_macs(model: nn.Module, input_shape: Sequence[int]) -> int:
    """Multiply-accumulates of one eval-mode forward pass on an input of `input_shape`
    ((C, H, W) means batch 1), counted by torch's FlopCounterMode: MACs = FLOPs / 2.
    In eval mode no auxiliary head runs, so it is excluded like in the papers.

    The pass is a real one (batch 1, no autograd) where the model lives. A pass on a `meta`
    copy, which skips the arithmetic, is slower on a CPU at every size it counts, from a
    tiny supernet to DARTS_V2 at C=36 (its copy and meta dispatch cost more than the
    convolutions it skips).
    """
    shape = tuple(input_shape)
    if len(shape) == 3:
        shape = (1, *shape)
    parameter = next(model.parameters(), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    return _count_macs(model, shape, device)


def _count_macs(model: nn.Module, shape: tuple[int, ...], device: torch.device) -> int:
    was_training = model.training
    model.eval()
    try:
        counter = FlopCounterMode(display=False)
        with torch.no_grad(), counter:
            model(torch.zeros(shape, device=device))
    finally:
        model.train(was_training)
    return int(counter.get_total_flops()) // 2
