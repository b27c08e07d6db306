"""The search step reads one value on the host per step (both losses' finiteness check),
whatever the order and with MIM in both steps: counted by patching the Tensor methods that
read (orchestrator.doctor.host_syncs). Before, a first-order step read four (two `float(loss)`
and MIM's `if count == 0` twice) and a second-order one more (`norm.item()`)."""

import pytest
import torch

from orchestrator.doctor.host_syncs import count_host_reads, optimiser_step_counters
from search_space import build_supernet
from trainables.config import MimConfig, OptimConfig
from trainables.objective import SearchObjective
from trainables.search_step import SearchStep, build_optimisers

STEPS = 3


@pytest.mark.parametrize("order", ["first", "second"])
def test_a_search_step_reads_the_host_once(order):
    torch.manual_seed(0)
    mim = MimConfig(mask_ratio=0.5, patch_size=2, decoder_depth=1, decoder_width=4, phases=("weights", "alpha"))
    objective = SearchObjective(build_supernet("darts", 3, 2, 3), mim, seed=0)
    w_opt, a_opt, _ = build_optimisers(objective, OptimConfig(), epochs=1)
    step = SearchStep(objective, w_opt, a_opt, OptimConfig(), order)
    x, y = torch.randn(4, 3, 8, 8), torch.randint(0, 3, (4,))
    with count_host_reads(torch.device("cpu"), ignore=optimiser_step_counters([w_opt, a_opt])) as reads:
        for i in range(STEPS):
            mask_a, mask_w = step.sample_masks(x, x)
            step.alpha_step(x, y, mask_a, x, y, mask_w, where=(0, i))
            step.weights_step(x, y, mask_w, where=(0, i))
    assert len(reads) == STEPS, reads.where()
    assert {method for method, _ in reads.seen} == {"tolist"}


def test_the_counter_sees_each_kind_of_read_and_skips_optimiser_counters():
    t = torch.ones(2)
    opt = torch.optim.Adam([torch.nn.Parameter(torch.ones(1))])
    opt.param_groups[0]["params"][0].grad = torch.ones(1)
    with count_host_reads(torch.device("cpu"), ignore=optimiser_step_counters([opt])) as reads:
        t[0].item(), t.tolist(), float(t[0]), int(t[0]), bool(t[0])
        opt.step()  # Adam reads its own step counter (a host tensor on a GPU)
    assert [method for method, _ in reads.seen] == ["item", "tolist", "__float__", "__int__", "__bool__"]
    assert all("test_host_syncs.py" in place for _, place in reads.seen)
    assert float(t[0]) == 1.0  # the methods are put back
