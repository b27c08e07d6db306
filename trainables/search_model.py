"""The search's objective and step, built as the search loop builds them: one place for the
loop and for what measures it (`alphadarts bench --max-batch`, `alphadarts doctor`), so that
a measurement sees the switches a search runs with (SyncBatchNorm, layout, compile,
activation checkpointing)."""

from __future__ import annotations

import torch
from torch import nn

from search_space import build_supernet
from trainables.config import SearchConfig
from trainables.distributed import Collective
from trainables.objective import SearchObjective
from trainables.search_step import SearchStep


def build_search_objective(config: SearchConfig, device: torch.device) -> SearchObjective:
    """Supernet + MIM head from the global RNG, on `device` in the runtime's layout."""
    rt = config.runtime
    supernet = build_supernet(config.model.space, config.data.num_classes, config.model.channels, config.model.layers)
    supernet.set_activation_checkpointing(rt.activation_checkpointing)
    objective = SearchObjective(supernet, config.mim, config.seed)
    if rt.sync_bn:
        objective = nn.SyncBatchNorm.convert_sync_batchnorm(objective)
    return objective.to(device, memory_format=memory_format(rt.channels_last))


def build_search_step(config: SearchConfig, objective: SearchObjective, w_opt, a_opt,
                      collective: Collective) -> SearchStep:
    """The step of `config.order`, with bf16 autocast and the compiled forward as configured."""
    rt = config.runtime
    return SearchStep(objective, w_opt, a_opt, config.optim, config.order, collective, rt.bf16,
                      forward=torch.compile(objective) if rt.compile else None)


def memory_format(channels_last: bool) -> torch.memory_format:
    return torch.channels_last if channels_last else torch.contiguous_format
