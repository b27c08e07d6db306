"""`search.runtime.compile` with activation checkpointing: a compiled search step equals the
eager one (losses, α and weight gradients, BatchNorm statistics), and the objective compiles
as one graph, without a break.

The backend is Dynamo's aot_eager: Dynamo's trace and AOTAutograd's split into forward and
backward, where a checkpoint under compile is decided (search_space/checkpointing.py), run
with eager kernels. Inductor, which only generates the kernels, takes minutes to compile
even this one-cell supernet on a 2-core CPU the first time:
tests/integration/test_compile_inductor.py runs it, and `alphadarts doctor` on every switch."""

import pytest
import torch
from helpers import assert_compiled_step_equals_eager, compiled_and_eager_steps

@pytest.fixture
def dynamo():
    from torch._dynamo.utils import counters

    torch._dynamo.reset()
    counters.clear()
    yield counters
    torch._dynamo.reset()


def test_compiled_step_with_checkpointing_equals_the_eager_step(dynamo):
    eager, compiled = compiled_and_eager_steps("aot_eager", "cells")
    assert_compiled_step_equals_eager(eager, compiled, tol=1e-6)
    assert dynamo["stats"]["unique_graphs"] >= 1 and not dynamo["graph_break"], dict(dynamo["graph_break"])
