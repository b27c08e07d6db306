"""The product's CPU paths under `ONEDNN_MAX_CPU_ISA=AVX2`, at the tiny widths where oneDNN's
AVX2 1x1 stride-2 backward-weights kernel corrupts the heap (tests/repro/onednn_avx2_abort.py,
search_space/strided_pointwise.py).

The variable is read when oneDNN starts, so the paths run in a child process (this file, run
as a script) with it set and with oneDNN's verbose log on. The child runs the search step in
first and second order under every activation-checkpointing mode, `alphadarts bench` (its
gradient check `compare_gradients` of every mode against the plain step, and the
straightforward reference supernet) and the retrain loop in channels_last. Before
`strided_pointwise` the child aborted ("corrupted double-linked list") in the second-order
step and in bench; the log check also catches a run of the kernel that happened not to
corrupt anything the allocator noticed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

#: a oneDNN verbose line of the failing kernel: AVX2 1x1 backward weights, NHWC source,
#: stride 2, fewer than 8 input channels
FAILING_KERNEL = re.compile(
    r"jit_1x1:avx2,backward_weights,src:f32::blocked:acdb.*,mb\d+_ic[1-7]oc\d+_ih\d+oh\d+kh1sh2"
)
STAGE = re.compile(r"^stage (\S+): (\d+) narrow strided 1x1 convs$", re.MULTILINE)


def test_cpu_paths_stay_off_the_failing_avx2_kernel():
    env = dict(os.environ, ONEDNN_MAX_CPU_ISA="AVX2", ONEDNN_VERBOSE="1", OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, __file__], env=env, capture_output=True, text=True, timeout=300)
    log = done.stdout + done.stderr
    assert done.returncode == 0, f"child ended with {done.returncode}: {done.stderr[-2000:]}"
    stages = dict(STAGE.findall(done.stdout))
    expected = {f"search_{order}_{mode}" for order in ("first", "second")
                for mode in ("none", "cells", "first_stage", "mixed_ops")} | {"bench", "train"}
    assert set(stages) == expected
    assert all(int(n) > 0 for n in stages.values()), stages  # each path had narrow convs to keep off it
    assert "isa:Intel AVX2" in log  # the variable took effect (oneDNN's own report)
    assert "jit_1x1:avx2,backward_weights" in log  # the kernel itself still runs, at safe shapes
    bad = FAILING_KERNEL.findall(log)
    assert not bad, f"{len(bad)} runs of the failing kernel, e.g. {FAILING_KERNEL.search(log).group(0)}"


def _search_steps() -> None:
    """One α step and one weight step of a C=2, 2-cell DARTS supernet (input channels 4 and
    6 at stride 2) with MIM, in both orders and every checkpointing mode."""
    import torch

    from search_space import CHECKPOINT_MODES, build_supernet, narrow_strided_convs
    from trainables.config import MimConfig, OptimConfig
    from trainables.objective import SearchObjective
    from trainables.search_step import SearchStep, build_optimisers

    for order in ("first", "second"):
        for mode in CHECKPOINT_MODES:
            torch.manual_seed(0)
            supernet = build_supernet("darts", 3, 2, 2)
            supernet.set_activation_checkpointing(mode)
            objective = SearchObjective(supernet, MimConfig(patch_size=2, decoder_width=4), seed=0)
            optim = OptimConfig()
            w_opt, a_opt, _ = build_optimisers(objective, optim, epochs=1)
            step = SearchStep(objective, w_opt, a_opt, optim, order)
            x, y = torch.randn(2, 3, 8, 8), torch.randint(0, 3, (2,))
            masks = step.sample_masks(x, x)
            step.alpha_step(x, y, masks[0], x, y, masks[1])
            step.weights_step(x, y, masks[1])
            print(f"stage search_{order}_{mode}: {narrow_strided_convs(supernet)} narrow strided 1x1 convs", flush=True)


def _bench() -> None:
    """`alphadarts bench` on the same supernet: the checkpointed variants' gradient check,
    the reference supernet, the timed steps."""
    from orchestrator.cli import main
    from search_space import build_supernet, narrow_strided_convs

    code = main(["bench", "--json", "--channels", "2", "--layers", "2", "--batch-size", "2", "--image-size", "8",
                 "--steps", "1", "--warmup", "0", "--set", "search.mim.patch_size=2", "--compare-reference",
                 "--checkpointing", "cells,first_stage,mixed_ops"])
    assert code == 0
    narrow = narrow_strided_convs(build_supernet("darts", 10, 2, 2))
    print(f"stage bench: {narrow} narrow strided 1x1 convs", flush=True)


def _train() -> None:
    """The retrain loop on a C=2, 2-cell DARTS_V2 network in channels_last (runtime.channels_last)."""
    from search_space import build_network, narrow_strided_convs, parse_genotype
    from trainables.reporters import MemoryReporter
    from trainables.train_config import TrainConfig
    from trainables.train_loop import run_train

    genotype = parse_genotype("darts", "DARTS_V2")
    config = TrainConfig.model_validate({
        "seed": 1, "epochs": 1, "cutout_length": 3,
        "data": {"dataset": "synthetic", "image_size": 8, "batch_size": 8, "synthetic_samples": 32,
                 "synthetic_classes": 3},
        "model": {"channels": 2, "layers": 2, "auxiliary": False, "drop_path_prob": 0.2},
        "runtime": {"channels_last": True},
    })
    run_train(config, genotype, MemoryReporter())
    network = build_network("darts", genotype, 3, 2, 2, auxiliary=False, family=config.data.network)
    print(f"stage train: {narrow_strided_convs(network)} narrow strided 1x1 convs", flush=True)


if __name__ == "__main__":
    import torch

    torch.set_num_threads(1)  # the failing kernel aborts with one thread (two: wrong results)
    _search_steps()
    _bench()
    _train()
