"""The train loop on two processes (gloo, no Ray): only rank 0 checkpoints, both ranks
report the same metrics, and the test accuracy summed over the two test shards is that of
rank 0's weights on the whole test set (so rank 1 tested the same weights, nothing padded)."""

import pytest
import torch
import torch.distributed as dist
from helpers import run_on_two_ranks

from search_space import build_network, parse_genotype
from trainables.distributed import Collective
from trainables.reporters import MemoryReporter
from trainables.train_config import TrainConfig
from trainables import train_data
from trainables.train_loop import evaluate, run_train

CONFIG = {
    "seed": 5, "epochs": 1,
    # 45 test images: the two shards are unequal (23 + 22)
    "data": {"dataset": "synthetic", "image_size": 8, "batch_size": 8, "synthetic_samples": 180,
             "synthetic_classes": 3},
    "model": {"channels": 4, "layers": 3, "auxiliary": True, "drop_path_prob": 0.2},
    "cutout_length": 2,
}


def _network():
    return build_network("darts", parse_genotype("darts", "DARTS_V2"), 3, 4, 3, auxiliary=True)


def _worker(rank: int, init_file: str, out_dir: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=2)
    try:
        reporter = MemoryReporter()
        run_train(TrainConfig.model_validate(CONFIG), parse_genotype("darts", "DARTS_V2"), reporter)
        saved = {"metrics": reporter.metrics[-1], "states": len(reporter.states)}
        if reporter.states:
            saved["model"] = reporter.states[-1]["model"]
        torch.save(saved, f"{out_dir}/rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def test_two_ranks_agree_and_test_accuracy_is_exact(tmp_path):
    run_on_two_ranks(_worker, str(tmp_path / "init"), str(tmp_path))
    rank0, rank1 = (torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    assert (rank0["states"], rank1["states"]) == (1, 0)
    assert rank0["metrics"]["workers"] == 2
    for key in ("train_loss", "train_acc", "test_ce", "test_acc"):
        assert rank0["metrics"][key] == rank1["metrics"][key], key

    net = _network()
    net.load_state_dict(rank0["model"])
    whole = train_data.test_set_shard(TrainConfig.model_validate(CONFIG).data, rank=0, world_size=1)
    assert len(whole.dataset) == 45
    ce, acc = evaluate(net, whole, torch.device("cpu"), False, torch.contiguous_format, Collective())
    assert acc == rank0["metrics"]["test_acc"]
    assert ce == pytest.approx(rank0["metrics"]["test_ce"], rel=1e-6)  # other batch splits, other float32 rounding
