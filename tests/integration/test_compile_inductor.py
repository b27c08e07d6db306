"""`search.runtime.compile` with activation checkpointing under inductor, the backend a
search compiles with, on this CPU (a C++ compiler builds the kernels): the compiled step
equals the eager one (tests/unit/test_compile.py runs the same with aot_eager, in seconds).
Not a unit test: inductor's compile of this one-cell supernet took 170 s the first time on
the project's 2-core machine, 94 s with part of its on-disk cache warm."""

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
