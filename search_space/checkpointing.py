"""Activation checkpointing for the search supernets: keep a segment's inputs, recompute the
rest of its activations in backward (`torch.utils.checkpoint`, non-reentrant).

Why: a supernet saves every op's activations on every edge for backward, which is what
keeps the paper's batch off smaller GPUs. Recomputing a segment costs one more forward of
it, and frees all it saved. The modes, and what each keeps, are listed in
`search_space.catalog.CHECKPOINT_MODES`.

Why the step stays exact to the last bit (tests/unit/test_activation_checkpointing.py):

* The recomputation sees the same inputs, the same RNG state (`preserve_rng_state`) and the
  same autocast state as the forward (both handled by `torch.utils.checkpoint`).
* It uses the same parameter tensors. The second-order step substitutes virtual weights with
  `torch.func.functional_call`, which puts the real ones back before backward runs; the
  tensors the forward used are captured and substituted again for the recomputation.
* BatchNorm in training mode normalises with batch statistics (the recomputation gets the
  same), but would fold them into its running statistics a second time: the recomputation
  runs on copies of the segment's buffers, so the running statistics and
  `num_batches_tracked` are updated once, by the forward (and the recomputation saves the
  same tensors for backward as the forward did, which the checkpoint checks).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.func import functional_call
from torch.utils.checkpoint import checkpoint


def call_maybe_recomputed(recompute: bool, module: nn.Module, *args: torch.Tensor) -> torch.Tensor:
    """`module(*args)`, checkpointed where `recompute` (and only where gradients are
    being recorded: under `no_grad` there is nothing to save)."""
    if not recompute or not torch.is_grad_enabled():
        return module(*args)
    if torch.compiler.is_compiling():
        # Under torch.compile the traced region is recomputed by AOTAutograd, not by calling
        # `_Segment` again, so the plain checkpoint is the one to trace. Equal to the eager
        # step on CPU with aot_eager (tests/unit/test_compile.py) and inductor
        # (tests/integration/test_compile_inductor.py); `alphadarts doctor` checks it on a GPU.
        return checkpoint(module, *args, use_reentrant=False)
    return checkpoint(_Segment(module), *args, use_reentrant=False, preserve_rng_state=True)


class _Segment:
    """The first call is the forward; any later one is a recomputation in backward, run
    with the forward's parameter tensors and on copies of the buffers."""

    def __init__(self, module: nn.Module):
        self.module = module
        # The tensors in use now: also the virtual weights of a functional_call.
        self.params = dict(module.named_parameters())
        self.calls = 0

    def __call__(self, *args: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        if self.calls == 1:
            return self.module(*args)
        # Buffers as throwaway copies: BatchNorm's running statistics are updated once, by
        # the forward; the recomputation still passes them to batch_norm (which then saves
        # the same tensors for backward), and in training mode they do not change the output.
        scratch = {name: b.clone() for name, b in self.module.named_buffers()}
        return functional_call(self.module, {**self.params, **scratch}, args, strict=False)
