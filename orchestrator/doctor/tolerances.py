"""How far a runtime switch may move a step's numbers from the fp32 eager step, and why.

Compared, from the same initial weights, batches and masks (orchestrator.doctor.traces):
the loss of every step run (largest relative difference |l - l_fp32| / |l_fp32|), and the
first step's gradients as the optimisers apply them: ‖g - g_fp32‖ / ‖g_fp32‖ over all α,
and over all weights. The first step's gradients are the purest test (the same weights in);
later losses also carry the drift of the steps before them.

Why the gradients' bounds are wide where rounding is coarse: a convolution followed by
BatchNorm gets an output gradient whose mean BatchNorm has removed, so its weight gradient
is a sum that cancels to a fraction of its terms, and the terms' relative rounding error is
amplified by about that fraction's inverse. Measured on CPU at the `--quick` sizes (DARTS
C=4, 3 cells, batch 8 of 8x8, MIM on): bf16 autocast moved the first-order step's loss by at
most 0.5 % over 4 steps, the α gradient by 14 % and the weight gradient by 29 %, most of it
in the stem and the cells' preprocessing convolutions (C=16, batch 64: 14 % for the weights).
So the gradient check of a coarse format catches gross errors (a sign, a scale, a missing
term: differences near 100 %), not rounding; its loss check is the tighter one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tolerance:
    name: str
    loss: float  # largest relative loss difference over the steps run
    alpha_grad: float  # relative L2 difference of the first step's α gradient
    weight_grad: float  # the same for the weights
    why: str


#: channels_last, compile, activation checkpointing (and their mixes) in fp32: the same
#: arithmetic, only the order of floating-point sums and the kernels differ. fp32 rounds at
#: 6e-8; amplified 40x (above) and summed over a few steps that stays below 1e-5. On CPU the
#: eager ones agree to the last bit (checkpointing: tests/unit/test_activation_checkpointing.py).
FP32 = Tolerance("fp32", loss=1e-4, alpha_grad=1e-3, weight_grad=1e-3,
                 why="fp32 either way: only the order of sums and the kernels differ")

#: TF32 tensor-core convolutions and matmuls (CUDA; PyTorch's default for cuDNN
#: convolutions): inputs rounded to a 10-bit mantissa (2^-11 = 4.9e-4 relative), 8x finer
#: than bf16. Bounds scaled from bf16's measured ones by that factor, with a margin: not yet
#: measured on a GPU, to be confirmed by the first GPU run.
TF32 = Tolerance("tf32", loss=5e-3, alpha_grad=0.2, weight_grad=0.2,
                 why="inputs rounded to 10 mantissa bits (4.9e-4); bounds scaled from bf16's, unmeasured")

#: bf16 autocast: convolution inputs and outputs rounded to an 8-bit mantissa (2^-8 = 3.9e-3
#: relative); losses and BatchNorm statistics stay fp32. Measured (module docstring): loss
#: 0.5 %, α gradient 14 %, weight gradient 29 %.
BF16 = Tolerance("bf16", loss=2e-2, alpha_grad=0.5, weight_grad=0.5,
                 why="8 mantissa bits (3.9e-3); measured loss 0.5 %, gradients 14-29 % (cancellation)")


def relative_difference(value: float, reference: float) -> float:
    return abs(value - reference) / max(abs(reference), 1e-12)
