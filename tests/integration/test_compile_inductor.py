"""`search.runtime.compile` with activation checkpointing under inductor, the backend a
search compiles with, on this CPU (a C++ compiler builds the kernels): the compiled step
equals the eager one (tests/unit/test_compile.py runs the same with aot_eager, in seconds).
Here not a unit test: inductor's first compile of this one-cell supernet took 170 s on the
project's loaded 2-core machine (7 s with its on-disk cache warm)."""

import torch
from helpers import assert_compiled_step_equals_eager, compiled_and_eager_steps


def test_inductor_compiled_step_with_checkpointing_equals_the_eager_step():
    torch._dynamo.reset()
    try:
        eager, compiled = compiled_and_eager_steps("inductor", "cells")
    finally:
        torch._dynamo.reset()
    # inductor fuses and reorders fp32 sums: the doctor's fp32 bound (orchestrator.doctor.tolerances)
    assert_compiled_step_equals_eager(eager, compiled, tol=1e-4)
