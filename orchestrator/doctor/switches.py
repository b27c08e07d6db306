"""The runtime switches `alphadarts doctor` checks, each against the fp32 eager step of its
kind (search first order, search second order, retrain), and which of them `--quick` runs.

A switch is a set of runtime settings (`search.runtime` / `retrain.runtime` fields) plus,
for the search, the order. `tf32` is not a config field: PyTorch uses TF32 for cuDNN
convolutions by default on GPUs that have it; the doctor's fp32 runs turn it off, so that
"fp32" means fp32, and the tf32 switch measures what the default costs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from orchestrator.doctor.tolerances import BF16, FP32, TF32, Tolerance

#: the combination refused at the config door: the second-order step's finite-difference
#: Hessian-vector product subtracts two gradients ε apart (ε = 0.01 / ‖∇‖), a difference
#: below bf16's resolution (on a CPU its α gradient came out far from the fp32 one)
SECOND_ORDER_BF16 = ("order: second with bf16 is refused at the config door: the finite-difference "
                     "Hessian step is below bf16's resolution")


@dataclass(frozen=True)
class Switch:
    kind: str  # "search" or "retrain"
    name: str  # what the table shows: "fp32 (baseline)", "bf16+channels_last", ...
    runtime: dict = field(default_factory=dict)  # runtime fields set
    order: str = "first"  # search only
    tf32: bool = False
    tolerance: Tolerance = FP32
    quick: bool = False  # part of `--quick`
    cuda_only: bool = False
    refused: str | None = None  # not run: refused at the config door by design

    @property
    def baseline(self) -> bool:
        return not self.runtime and not self.tf32


S, R = "search", "retrain"
CL, BF, CLBF = {"channels_last": True}, {"bf16": True}, {"bf16": True, "channels_last": True}

#: In order of running: each kind's baseline first, the compiled ones last of the first
#: order's (compiling is the slow part of the whole check).
SWITCHES: tuple[Switch, ...] = (
    Switch(S, "fp32 (baseline)", quick=True),
    Switch(S, "tf32", tf32=True, tolerance=TF32, cuda_only=True),
    Switch(S, "channels_last", CL, quick=True),
    Switch(S, "bf16", BF, tolerance=BF16, quick=True),
    Switch(S, "bf16+channels_last", CLBF, tolerance=BF16, quick=True),
    Switch(S, "ckpt first_stage", {"activation_checkpointing": "first_stage"}),
    Switch(S, "ckpt cells", {"activation_checkpointing": "cells"}, quick=True),
    Switch(S, "ckpt mixed_ops", {"activation_checkpointing": "mixed_ops"}),
    Switch(S, "compile", {"compile": True}),
    Switch(S, "compile+ckpt cells", {"compile": True, "activation_checkpointing": "cells"}),
    Switch(S, "fp32 (baseline)", order="second", quick=True),
    Switch(S, "channels_last", CL, order="second"),
    Switch(S, "ckpt cells", {"activation_checkpointing": "cells"}, order="second", quick=True),
    Switch(S, "bf16", BF, order="second", tolerance=BF16, quick=True, refused=SECOND_ORDER_BF16),
    Switch(R, "fp32 (baseline)", quick=True),
    Switch(R, "tf32", tf32=True, tolerance=TF32, cuda_only=True),
    Switch(R, "channels_last", CL),
    Switch(R, "bf16", BF, tolerance=BF16, quick=True),
    Switch(R, "bf16+channels_last", CLBF, tolerance=BF16, quick=True),
)

#: why `--quick` leaves compile out (listed as skipped): inductor's first compilation of even
#: a one-cell supernet takes minutes on a small CPU (docs/benchmarks.md);
#: tests/unit/test_compile.py checks compile + checkpointing with Dynamo's aot_eager backend
QUICK_SKIPS_COMPILE = "--quick: inductor's first compile takes minutes on a CPU; run without --quick"


def selected(quick: bool, cuda: bool) -> list[tuple[Switch, str | None]]:
    """(switch, why it is skipped or None) for every switch, in running order."""
    out = []
    for switch in SWITCHES:
        why = None
        if switch.cuda_only and not cuda:
            why = "CUDA only (no TF32 elsewhere)"
        elif quick and not switch.quick:
            why = QUICK_SKIPS_COMPILE if switch.runtime.get("compile") else "--quick: not in the quick set"
        out.append((switch, why))
    return out
