"""The search loop called directly (no Ray): determinism, resume, the DARTS baseline, MIM,
second order, divergence.

Runs are tiny (8 px digits, C=4, 64 images: 2 weight and 2 α steps an epoch). What the loop
does whatever the space (determinism, resume, mask ratio 0, second order, ranks, splits,
checkpointing) runs on the NB201 supernet with one cell a stage (`tiny()`, ~0.1 s an epoch);
the DARTS supernet (3 cells, ~1 s an epoch) runs once (`darts_run`), for the collapse metrics
of its 8 operations. The 2-epoch run of `tiny()` is made once per module (`baseline`): the
determinism, resume, mask-ratio and checkpointing tests all compare against that one run
(under -n 2 possibly once per worker: it is cheap; `darts_run` has one reader)."""

import copy

import pytest
import torch
from torch.utils.data import TensorDataset

from helpers import assert_bitwise_equal, run_on_two_ranks, with_changes
from trainables.config import SearchConfig
from trainables.errors import NonFiniteLossError
from trainables.metrics import SEARCH_EPOCH_METRICS
from trainables.reporters import MemoryReporter, StopSearch
from trainables.search_loop import run_search


def tiny(**changes) -> SearchConfig:
    raw = {
        "seed": 3,
        "epochs": 2,
        "data": {"dataset": "digits", "image_size": 8, "batch_size": 16, "subset": 64},
        "model": {"space": "nb201", "channels": 4, "layers": 1},
        "mim": {"mask_ratio": 0.5, "patch_size": 2, "decoder_depth": 1, "decoder_width": 8},
    }
    return SearchConfig.model_validate(with_changes(raw, **changes))


def tiny_darts(**changes) -> SearchConfig:
    """`tiny()` in the DARTS space: normal, reduction, reduction cells."""
    return tiny(model__space="darts", model__layers=3, **changes)


def alphas_of(outcome):
    return {k: torch.tensor(v) for k, v in outcome.alphas.items()}


@pytest.fixture(scope="module")
def baseline():
    """`run_search(tiny())` once: (outcome, reporter). Read it, never mutate it."""
    reporter = MemoryReporter()
    return run_search(tiny(), reporter), reporter


@pytest.fixture(scope="module")
def darts_run():
    """A 2-epoch DARTS search of 32 images (1 weight and 1 α step an epoch): (outcome, reporter)."""
    reporter = MemoryReporter()
    return run_search(tiny_darts(data__subset=32), reporter), reporter


def test_same_seed_same_alphas_to_the_last_bit(baseline):
    first, _ = baseline
    second = run_search(tiny(), MemoryReporter())
    assert_bitwise_equal(alphas_of(first), alphas_of(second))
    # another seed: other α already after one epoch (the baseline's first epoch reports its α)
    other_seed = run_search(tiny(seed=4, epochs=1), MemoryReporter())
    _, reporter = baseline
    assert not torch.equal(torch.tensor(reporter.metrics[0]["alphas"]["cell"]), alphas_of(other_seed)["cell"])


def test_resumed_run_ends_with_the_same_alphas(baseline):
    full, _ = baseline  # 2 epochs, uninterrupted
    config = tiny()
    interrupted = MemoryReporter(stop_after_epochs=1)
    with pytest.raises(StopSearch):
        run_search(config, interrupted)
    assert interrupted.states[-1]["epoch"] == 1
    resumed_reporter = MemoryReporter(resume_state=copy.deepcopy(interrupted.states[-1]))
    resumed = run_search(config, resumed_reporter)
    assert [m["epoch"] for m in resumed_reporter.metrics] == [2]
    assert_bitwise_equal(alphas_of(full), alphas_of(resumed))
    assert len(resumed.history) == 2


def test_mask_ratio_zero_is_plain_darts(baseline):
    # one epoch each (2 α and 2 weight steps): α after it equal to the last bit, or not
    plain_reporter, zero_reporter = MemoryReporter(), MemoryReporter()
    plain = run_search(tiny(epochs=1, mim__enabled=False), plain_reporter)
    zero = run_search(tiny(epochs=1, mim__mask_ratio=0.0), zero_reporter)
    weight_zero = run_search(tiny(epochs=1, mim__mim_weight=0.0), MemoryReporter())
    assert_bitwise_equal(alphas_of(plain), alphas_of(zero))
    assert_bitwise_equal(alphas_of(plain), alphas_of(weight_zero))
    assert all(m["mim_loss"] == 0.0 and not m["mim_active"] for m in zero_reporter.metrics)
    # no decoder step: the decoder's weights are exactly as built
    state = zero_reporter.states[-1]["objective"]
    fresh = zero_reporter.states[0]["objective"]
    decoder_keys = [k for k in state if k.startswith("mim.decoder") and "weight" in k]
    assert decoder_keys
    from trainables.objective import SearchObjective
    from search_space import build_supernet

    torch.manual_seed(0)
    built = SearchObjective(build_supernet("nb201", 10, 4, 1), tiny(mim__mask_ratio=0.0).mim, seed=3)
    for k in decoder_keys:
        assert torch.equal(state[k], built.state_dict()[k]), k
        assert torch.equal(fresh[k], state[k])
    # with MIM on, the α differ after the same epoch: the objective really changes the search
    _, mim = baseline
    assert not torch.equal(alphas_of(plain)["cell"], torch.tensor(mim.metrics[0]["alphas"]["cell"]))


def test_reconstruction_loss_falls_on_digits():
    """32 steps on 8 px digits in the NB201 space (`tiny()`, N=1: a cheap encoder; the MIM
    head and its loss are the same code for both spaces). Checked by mutation: with the decoder
    left out of the weight optimiser the last epoch's loss stays at ~0.89 of the first, so this
    fails."""
    reporter = MemoryReporter()
    run_search(
        tiny(epochs=4, data__subset=128, data__batch_size=8, mim__decoder_width=16),
        reporter,
    )
    losses = [m["mim_loss"] for m in reporter.metrics]
    assert all(m["mim_active"] for m in reporter.metrics)
    assert losses[-1] < 0.8 * losses[0], losses


def test_metrics_cover_the_collapse_signals(darts_run):
    outcome, reporter = darts_run
    assert len(reporter.metrics) == 2
    for m in reporter.metrics:
        assert set(m) == {metric.name for metric in SEARCH_EPOCH_METRICS}  # declared once
        assert 0 <= m["param_free_ops"] <= 8
        assert 0 < m["alpha_entropy"] <= torch.log(torch.tensor(8.0)).item() + 1e-6
        assert 1 / 8 <= m["alpha_top_weight"] <= 1
        assert m["alpha_rank_digests"] == [m["alpha_rank_digests"][0]]
    # structured, not a string to parse
    assert reporter.metrics[-1]["genotype"] == outcome.genotype.to_dict()


@pytest.fixture(scope="module")
def second_order_run():
    """One second-order epoch (2 steps) of `tiny()`, recording the patch mask each virtual
    step got and the masks the weight steps' forwards got (recording only; nothing changed).
    Returns (outcome, virtual_masks, weight_masks)."""
    import trainables.search_step as search_step
    from trainables.objective import SearchObjective

    virtual_masks, weight_masks, inside = [], [], []
    unrolled, forward = search_step.unrolled_alpha_gradients, SearchObjective.forward

    def recording_unrolled(objective, train_batch, *args, **kwargs):
        virtual_masks.append(train_batch[2])
        inside.append(True)
        try:
            return unrolled(objective, train_batch, *args, **kwargs)
        finally:
            inside.pop()

    def recording_forward(self, x, y, patch_mask=None):
        if not inside:
            weight_masks.append(patch_mask)
        return forward(self, x, y, patch_mask)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(search_step, "unrolled_alpha_gradients", recording_unrolled)
        patch.setattr(SearchObjective, "forward", recording_forward)
        torch.manual_seed(0)
        outcome = run_search(tiny(order="second", epochs=1), MemoryReporter())
    return outcome, virtual_masks, weight_masks


def test_second_order_search_runs_and_moves_alpha(second_order_run):
    outcome, _, _ = second_order_run
    first = run_search(tiny(order="first", epochs=1), MemoryReporter())
    a2, a1 = alphas_of(outcome)["cell"], alphas_of(first)["cell"]
    assert torch.isfinite(a2).all()
    assert not torch.equal(a1, a2)


def test_non_finite_loss_names_epoch_and_step(monkeypatch):
    def poisoned(config, train=True, augment=True):
        x = torch.randn(64, 3, 8, 8)
        x[40:] = float("nan")
        return TensorDataset(x, torch.randint(0, 10, (64,)))

    monkeypatch.setattr("trainables.search_loop.load_images", poisoned)
    with pytest.raises(NonFiniteLossError) as info:
        run_search(tiny(data__train_portion=0.5, data__batch_size=8), MemoryReporter())
    assert "epoch 1, step" in str(info.value)


def test_mim_on_nb201_space(baseline):
    outcome, reporter = baseline
    assert str(outcome.genotype).startswith("|")
    assert reporter.metrics[0]["mim_loss"] > 0


# --- what the search measures and trains ---------------------------------------------------

def test_evaluation_uses_batchnorm_statistics_of_clean_images():
    """After an epoch the supernet's BN running statistics are those of clean weight-split
    images (cumulative average), not of the masked images the weight step trained on."""
    from trainables.data import load_images, split_for_search

    config = tiny(epochs=1, mim__mask_ratio=0.75, data__subset=64)
    reporter = MemoryReporter()
    run_search(config, reporter)
    state = reporter.states[-1]["objective"]
    weights = split_for_search(load_images(config.data), config.data.train_portion, config.seed).weights
    clean = torch.stack([weights[i][0] for i in range(len(weights))])  # 32 images, 2 full batches
    stem_out = torch.nn.functional.conv2d(clean, state["supernet.stem.0.weight"], padding=1)
    expected = stem_out.mean(dim=(0, 2, 3))
    assert torch.allclose(state["supernet.stem.1.running_mean"], expected, atol=1e-4)


def test_decoder_learns_when_only_the_alpha_step_uses_mim():
    from search_space import build_supernet
    from trainables.objective import SearchObjective

    config = tiny(epochs=1, mim__phases=["alpha"], data__subset=64)
    reporter = MemoryReporter()
    run_search(config, reporter)
    state = reporter.states[-1]["objective"]
    built = SearchObjective(build_supernet("nb201", 10, 4, 1), config.mim, seed=config.seed).state_dict()
    decoder_weights = [k for k in state if k.startswith("mim.decoder") and k.endswith("weight")]
    assert decoder_weights
    assert all(not torch.equal(state[k], built[k]) for k in decoder_weights)
    assert reporter.metrics[0]["mim_loss"] > 0


def _first_mask_of_rank(monkeypatch, rank: int, resume_state: dict | None = None) -> torch.Tensor:
    """The first patch mask rank `rank` of 2 draws (collectives replaced by local no-ops),
    in a fresh run or one resumed from `resume_state`."""
    from dataclasses import dataclass

    from trainables.distributed import Collective
    from trainables.mim import MimHead

    @dataclass(frozen=True)
    class PretendRank(Collective):
        def broadcast_module(self, module):
            pass

        def _average_in_place(self, tensors):
            pass

    class FirstMask(Exception):
        pass

    def record(self, x):
        raise FirstMask(original(self, x))

    original = MimHead.sample_mask
    monkeypatch.setattr(MimHead, "sample_mask", record)
    with pytest.raises(FirstMask) as info:
        run_search(tiny(epochs=3), MemoryReporter(resume_state), PretendRank(rank=rank, world_size=2))
    monkeypatch.setattr(MimHead, "sample_mask", original)
    return info.value.args[0]


def test_a_search_resumed_on_more_workers_draws_distinct_masks_per_rank(monkeypatch):
    """A checkpoint of one worker holds one random stream; resumed on two, each rank starts
    a stream of its own (rank 0's copied to both would mask both ranks' images alike)."""
    one_worker = MemoryReporter()
    run_search(tiny(epochs=1), one_worker)
    state = one_worker.states[-1]
    rank0 = _first_mask_of_rank(monkeypatch, 0, state)
    rank1 = _first_mask_of_rank(monkeypatch, 1, state)
    assert not torch.equal(rank0, rank1)
    assert torch.equal(rank1, _first_mask_of_rank(monkeypatch, 1, state))  # reproducibly


def test_each_rank_draws_its_own_masks_reproducibly(monkeypatch):
    rank0 = _first_mask_of_rank(monkeypatch, 0)
    rank1 = _first_mask_of_rank(monkeypatch, 1)
    assert not torch.equal(rank0, rank1)
    assert torch.equal(rank1, _first_mask_of_rank(monkeypatch, 1))


@pytest.mark.parametrize("portion, weight_batches", [(0.8, 38 // 8), (0.3, 14 // 8)])
def test_every_epoch_reads_the_whole_weight_split(portion, weight_batches):
    """48 images: at 0.8, 38 in the weight split and 10 (one batch) in the α split."""
    reporter = MemoryReporter()
    config = tiny(epochs=1, data__train_portion=portion, data__subset=48, data__batch_size=8, mim__enabled=False)
    run_search(config, reporter)
    assert reporter.metrics[0]["weight_steps"] == weight_batches


def test_second_order_weight_step_reuses_the_virtual_step_mask(second_order_run):
    _, virtual_masks, weight_masks = second_order_run
    assert len(virtual_masks) == len(weight_masks) == 2
    assert all(v is not None and torch.equal(v, w) for v, w in zip(virtual_masks, weight_masks))


def _search_on_rank(rank: int, init_file: str, out_dir: str) -> None:
    """One rank of a 2-process gloo search; saves its first mask and its final α."""
    import torch.distributed as dist

    from trainables.mim import MimHead

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=2)
    masks, original = [], MimHead.sample_mask
    MimHead.sample_mask = lambda self, x: masks.append(original(self, x)) or masks[-1]
    try:
        outcome = run_search(tiny(epochs=1, data__subset=64, data__batch_size=8), MemoryReporter())
        torch.save({"mask": masks[0], "alphas": alphas_of(outcome)}, f"{out_dir}/rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def test_two_ranks_draw_different_masks_and_keep_identical_alphas(tmp_path):
    run_on_two_ranks(_search_on_rank, str(tmp_path / "rendezvous"), str(tmp_path))
    rank0, rank1 = (torch.load(tmp_path / f"rank{r}.pt") for r in range(2))
    assert not torch.equal(rank0["mask"], rank1["mask"])
    assert_bitwise_equal(rank0["alphas"], rank1["alphas"])


def test_activation_checkpointing_gives_the_same_search(baseline):
    """Recomputing activations in backward (per cell) changes nothing in a MIM search: the
    same α, genotype and epoch losses, bit for bit (tests/unit/test_activation_checkpointing.py
    checks single steps, second order and bf16)."""
    first, _ = baseline
    again = run_search(tiny(runtime__activation_checkpointing="cells"), MemoryReporter())
    assert_bitwise_equal(alphas_of(first), alphas_of(again))
    for a, b in zip(first.history, again.history):
        for key in ("weights_ce", "alpha_ce", "mim_loss", "genotype"):
            assert a[key] == b[key], key


def _checkpointed_search_on_rank(rank: int, init_file: str, out_dir: str) -> None:
    """One rank of a 2-process gloo search, plain then checkpointed per mixed op."""
    import torch.distributed as dist

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=2)
    try:
        out = {}
        for mode in ("none", "mixed_ops"):
            config = tiny(epochs=1, data__batch_size=8, runtime__activation_checkpointing=mode)
            out[mode] = alphas_of(run_search(config, MemoryReporter()))
        torch.save(out, f"{out_dir}/rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def test_two_ranks_with_checkpointing_keep_the_plain_alphas(tmp_path):
    run_on_two_ranks(_checkpointed_search_on_rank, str(tmp_path / "rendezvous"), str(tmp_path))
    for r in range(2):
        out = torch.load(tmp_path / f"rank{r}.pt")
        assert_bitwise_equal(out["none"], out["mixed_ops"])


@pytest.mark.parametrize("order", ["first", "second"])
def test_an_alpha_key_without_a_cell_gets_a_zero_gradient(order):
    """A DARTS supernet of fewer than 3 cells has only reduction cells: the normal α acts
    nowhere. Its gradient is zero in either order (the first-order step used to stop the
    search with autograd's "not used in the graph")."""
    from search_space import build_supernet
    from trainables.config import MimConfig, OptimConfig
    from trainables.objective import SearchObjective
    from trainables.search_step import SearchStep, build_optimisers

    torch.manual_seed(0)
    objective = SearchObjective(build_supernet("darts", 3, 2, 2), MimConfig(patch_size=2, decoder_width=4), seed=0)
    optim = OptimConfig(alpha_weight_decay=0.0)  # a zero gradient then leaves α as it was
    w_opt, a_opt, _ = build_optimisers(objective, optim, epochs=1)
    step = SearchStep(objective, w_opt, a_opt, optim, order)
    x, y = torch.randn(2, 3, 8, 8), torch.randint(0, 3, (2,))
    masks = step.sample_masks(x, x)
    normal, reduce = (a.detach().clone() for a in objective.arch_parameters())
    step.alpha_step(x, y, masks[0], x, y, masks[1])
    after_normal, after_reduce = objective.arch_parameters()
    assert torch.equal(after_normal, normal) and not torch.equal(after_reduce, reduce)


def test_the_bn_re_estimate_restores_momentum_whatever_stops_it():
    """The re-estimate sets every BatchNorm to a cumulative average (momentum None); a
    failure half-way (a bad batch, an interrupt) must leave training's momentum in place."""
    from search_space import build_supernet
    from trainables.search_loop import _estimate_clean_bn_statistics

    supernet = build_supernet("darts", 10, 4, 3)
    norms = [m for m in supernet.modules() if isinstance(m, torch.nn.BatchNorm2d) and m.track_running_stats]
    before = [m.momentum for m in norms]

    def loader():
        yield torch.randn(2, 3, 8, 8), torch.zeros(2, dtype=torch.long)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _estimate_clean_bn_statistics(supernet, loader(), torch.device("cpu"), tiny().runtime, 2)
    assert norms and [m.momentum for m in norms] == before


def test_second_order_under_bf16_is_refused_at_the_door():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="order='second' with runtime.bf16=true is not allowed"):
        tiny(order="second", runtime__bf16=True)
    assert tiny(order="second").order == "second" and tiny(runtime__bf16=True).runtime.bf16
