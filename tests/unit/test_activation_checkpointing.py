"""Activation checkpointing (`search.runtime.activation_checkpointing`): one search step with
it equals the plain step to the last bit (float64 on CPU): losses, α and weight gradients,
the updated parameters and BatchNorm running statistics; with MIM, in second order, under
bf16 autocast, for both spaces. Tiny supernets (C=2, 8x8 images); the first-order plain step
is computed once per space and shared by the modes' cases.

The cases: every mode in NB201, first order; in DARTS, whose cell BatchNorm keeps running
statistics (NB201's keeps none), `first_stage` (recomputed and kept cells mixed, on 3 cells;
the cell path `cells` takes too) and `mixed_ops` in first order, and `cells` on one (reduction)
cell in second order and under bf16, where what matters is the recomputation, not which cells
are recomputed; NB201 `mixed_ops` in second order."""

import functools

import pytest
import torch
from pydantic import ValidationError

from search_space import SearchSpaceError, build_supernet
from search_space import checkpointing
from trainables.config import MimConfig, OptimConfig, RuntimeConfig
from trainables.objective import SearchObjective
from trainables.search_step import SearchStep, build_optimisers

MIM = MimConfig(mask_ratio=0.5, patch_size=2, decoder_depth=1, decoder_width=4)
LAYERS = {"darts": 3, "nb201": 1}  # DARTS: normal, reduction, reduction cells


@pytest.fixture
def float64():
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(torch.float32)


def _objective(space: str, mim: MimConfig, dtype=torch.float64, layers: int | None = None) -> SearchObjective:
    torch.manual_seed(0)
    supernet = build_supernet(space, 3, 2, layers or LAYERS[space])
    objective = SearchObjective(supernet, mim, seed=0).to(dtype)
    with torch.no_grad():  # α away from uniform, so that every op's gradient matters
        for a in objective.arch_parameters():
            a.normal_(0, 0.5)
    return objective


def _batches(dtype=torch.float64):
    g = torch.Generator().manual_seed(1)
    return [(torch.randn(4, 3, 8, 8, generator=g, dtype=dtype), torch.randint(0, 3, (4,), generator=g))
            for _ in range(2)]


def _one_step(space: str, mode: str, order: str = "first", bf16: bool = False, dtype=torch.float64,
              layers: int | None = None):
    """One α step + weight step of `_objective(space, MIM, dtype, layers)` (built afresh, the
    same every time; quicker than a deep copy of a DARTS one) with `mode` checkpointing:
    (losses, α and weight gradients of the α step's and weight step's losses, the state after)."""
    objective = _objective(space, MIM, dtype, layers)
    objective.supernet.set_activation_checkpointing(mode)
    w_opt, a_opt, _ = build_optimisers(objective, OptimConfig(), epochs=2)
    step = SearchStep(objective, w_opt, a_opt, OptimConfig(), order, bf16=bf16)
    (xa, ya), (xw, yw) = _batches(next(objective.parameters()).dtype)
    torch.manual_seed(5)
    mask_a, mask_w = step.sample_masks(xa, xw)
    params = objective.arch_parameters() + objective.weight_parameters()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        probe = objective(xa, ya, mask_a).total
    grads = torch.autograd.grad(probe, params, allow_unused=True)
    # the probe's forward updated the BN statistics in every mode alike; the step follows
    loss_a = step.alpha_step(xa, ya, mask_a, xw, yw, mask_w)
    loss_w = step.weights_step(xw, yw, mask_w)
    losses = [probe.detach(), loss_w.total.detach()] + ([] if loss_a is None else [loss_a.total.detach()])
    return losses, grads, {k: v.clone() for k, v in objective.state_dict().items()}


@functools.cache
def _plain_step(space: str):
    """`_one_step(space, "none")`, once per process (read it, never mutate it)."""
    return _one_step(space, "none")


def _assert_identical(plain, other):
    (l1, g1, s1), (l2, g2, s2) = plain, other
    assert all(torch.equal(a, b) for a, b in zip(l1, l2))
    assert len(g1) == len(g2)
    for a, b in zip(g1, g2):
        assert (a is None and b is None) or torch.equal(a, b)
    assert s1.keys() == s2.keys()
    for key in s1:  # α, weights, decoder, BN running stats and num_batches_tracked
        assert torch.equal(s1[key], s2[key]), key


@pytest.mark.parametrize("space,mode", [  # MIM off: test_bench_cli; DARTS cells: the bf16 test
    ("darts", "first_stage"), ("darts", "mixed_ops"),
    ("nb201", "cells"), ("nb201", "first_stage"), ("nb201", "mixed_ops"),
])
def test_checkpointed_step_equals_the_plain_step_to_the_last_bit(float64, space, mode):
    _assert_identical(_plain_step(space), _one_step(space, mode))


@pytest.mark.parametrize("space,mode,layers", [("darts", "cells", 1), ("nb201", "mixed_ops", 1)])
def test_second_order_step_with_checkpointing_is_exact(float64, space, mode, layers):
    """The virtual weights of `functional_call` are gone when backward recomputes: the
    recomputation must use them, not the real weights."""
    plain = _one_step(space, "none", "second", layers=layers)
    _assert_identical(plain, _one_step(space, mode, "second", layers=layers))


def test_bf16_autocast_step_with_checkpointing_is_exact():
    plain = _one_step("darts", "none", bf16=True, dtype=torch.float32, layers=1)
    _assert_identical(plain, _one_step("darts", "cells", bf16=True, dtype=torch.float32, layers=1))


def test_batchnorm_statistics_are_updated_once(float64):
    """The recomputation must not fold the batch statistics in a second time."""
    objective = _objective("darts", MimConfig(enabled=False))
    objective.supernet.set_activation_checkpointing("cells")
    (x, y), _ = _batches()
    loss = objective(x, y).total
    after_forward = {k: v.clone() for k, v in objective.named_buffers()}
    torch.autograd.grad(loss, objective.weight_parameters())
    after_backward = dict(objective.named_buffers())
    assert any("running_mean" in k for k in after_backward)
    for key, value in after_forward.items():
        assert torch.equal(value, after_backward[key]), key


def test_nothing_is_checkpointed_without_gradients():
    objective = _objective("darts", MimConfig(enabled=False), torch.float32)
    objective.supernet.set_activation_checkpointing("cells")
    calls = []
    original = checkpointing.checkpoint
    checkpointing.checkpoint = lambda *a, **k: calls.append(1) or original(*a, **k)
    try:
        (x, y), _ = _batches(torch.float32)
        with torch.no_grad():
            objective(x, y)
        assert calls == []
        objective(x, y)
        assert len(calls) == LAYERS["darts"]  # one checkpoint per cell
    finally:
        checkpointing.checkpoint = original


@pytest.mark.parametrize("space,first_stage", [("darts", [0, 1]), ("nb201", [0, 1])])
def test_first_stage_recomputes_the_cells_before_the_first_reduction(space, first_stage):
    """DARTS (3 cells: normal, reduction, reduction): the normal cell and the first
    reduction cell; NB201 (2 cells a stage): the cells before the first residual block."""
    supernet = build_supernet(space, 3, 2, 2 if space == "nb201" else 3)
    supernet.set_activation_checkpointing("first_stage")
    marked = [i for i, cell in enumerate(supernet.cells) if getattr(cell, "recompute", False)]
    assert marked == first_stage
    supernet.set_activation_checkpointing("none")
    assert not any(getattr(cell, "recompute", False) for cell in supernet.cells)


def test_checkpointing_saves_less_for_backward():
    saved = {}
    for mode in ("none", "cells", "first_stage", "mixed_ops"):
        objective = _objective("darts", MimConfig(enabled=False), torch.float32)
        objective.supernet.set_activation_checkpointing(mode)
        storages: dict[int, int] = {}

        def pack(t):
            storages[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
            return t

        (x, y), _ = _batches(torch.float32)
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            objective(x, y)
        saved[mode] = sum(storages.values())
    assert saved["cells"] < saved["mixed_ops"] < saved["none"] / 2
    assert saved["cells"] < saved["first_stage"] < saved["none"]


def test_bad_mode_is_refused():
    with pytest.raises(ValidationError, match="activation_checkpointing"):
        RuntimeConfig(activation_checkpointing="layers")
    assert RuntimeConfig().activation_checkpointing == "none"
    supernet = build_supernet("nb201", 3, 2, 1)
    with pytest.raises(SearchSpaceError, match="allowed: none, cells, first_stage, mixed_ops"):
        supernet.set_activation_checkpointing("all")
