"""The sweep's default objective without Ray: a score of the derived genotype alone (trained
from scratch on images held out of the training set), attached to the epochs ASHA compares,
so that trials with different MIM settings are compared by what they found."""

import math

import numpy as np
import pytest
import torch

from orchestrator.config import load_config
from orchestrator.errors import UsageError
from orchestrator.stages.sweep import proxy_objective
from search_space import parse_genotype
from trainables.data import load_images
from trainables.proxy_objective import ProxyObjective, ProxyScoredReporter
from trainables.reporters import MemoryReporter
from trainables.search_job import run_search_job
from trainables.search_loop import run_search
from trainables.distributed import Collective
from trainables.train_loop import proxy_accuracy

TINY = ["search.epochs=2", "search.data.subset=64", "search.model.channels=4", "search.model.layers=1",
        "search.mim.decoder_width=8", "proxy.epochs=1", "proxy.data.subset=128",
        "proxy.model.channels=4", "proxy.model.layers=2"]


def _objective(config, epochs=(1, 2)) -> ProxyObjective:
    return ProxyObjective(config.proxy, tuple(epochs))


def test_the_same_genotype_gets_the_same_score_whatever_the_mask_ratio():
    """Two searches that differ only in the mask ratio (0: plain DARTS; 0.75) and whose α
    barely move (a tiny α learning rate) derive the same cell; their supernets, trained on
    different inputs, do not score the same on the α split, but the objective does."""
    runs = {}
    for ratio in (0.0, 0.75):
        config = load_config("quickstart", TINY + [f"search.mim.mask_ratio={ratio}", "search.optim.alpha_lr=1e-12"])
        inner = MemoryReporter()
        run_search_job(config.sweep_search, _objective(config), inner, Collective.current())
        runs[ratio] = inner.metrics[-1]
    plain, masked = runs[0.0], runs[0.75]
    assert plain["genotype_hash"] == masked["genotype_hash"]
    assert plain["alpha_acc"] != masked["alpha_acc"]
    assert plain["proxy_acc"] == masked["proxy_acc"] and 0.0 < plain["proxy_acc"] <= 1.0


def test_the_score_comes_with_the_objectives_epochs_and_their_checkpoints():
    config = load_config("quickstart", TINY + ["search.epochs=3"])
    inner = MemoryReporter()
    run_search_job(config.sweep_search, _objective(config, epochs=(2, 3)), inner, Collective.current())
    scores = [m["proxy_acc"] for m in inner.metrics]
    assert math.isnan(scores[0]) and not math.isnan(scores[1]) and not math.isnan(scores[2])
    assert [s["epoch"] for s in inner.states] == [1, 2, 3]  # every epoch keeps its checkpoint


def test_scoring_leaves_the_search_exactly_as_it_was():
    """The proxy training seeds the global generators; the search must not notice: with and
    without the objective, the same α to the last bit."""
    config = load_config("quickstart", TINY)
    with_score = run_search(config.sweep_search, ProxyScoredReporter(
        MemoryReporter(), _objective(config, epochs=(1,)), "darts", Collective.current()))
    without = run_search(config.sweep_search, MemoryReporter())
    for key in without.alphas:
        assert torch.equal(torch.tensor(with_score.alphas[key]), torch.tensor(without.alphas[key]))


def test_a_finished_search_started_again_ends_with_its_score():
    """A trial restarted after its last epoch was checkpointed runs no epoch: its last
    epoch is reported again, scored (the sweep would otherwise lose the trial's objective)."""
    config = load_config("quickstart", TINY)
    first = MemoryReporter()
    run_search_job(config.sweep_search, _objective(config), first, Collective.current())
    again = MemoryReporter(resume_state=first.states[-1])
    run_search_job(config.sweep_search, _objective(config), again, Collective.current())
    assert len(again.metrics) == 1 and again.states == []
    assert again.metrics[0]["epoch"] == 2 and again.metrics[0]["proxy_acc"] == first.metrics[-1]["proxy_acc"]


def test_an_unchanged_genotype_is_trained_once(monkeypatch):
    calls = []
    monkeypatch.setattr("trainables.proxy_objective.proxy_accuracy",
                        lambda config, genotype, collective: calls.append(genotype.key) or 0.5)
    config = load_config("quickstart", TINY)
    reporter = ProxyScoredReporter(MemoryReporter(), _objective(config, (1, 2, 3)), "darts", Collective.current())
    cell = parse_genotype("darts", "DARTS_V2")
    for epoch in (1, 2, 3, 4):
        reporter.report({"epoch": epoch, "genotype": cell.to_dict(), "genotype_hash": cell.key}, None)
    assert calls == [cell.key]
    assert [m["proxy_acc"] for m in reporter.inner.metrics][:3] == [0.5] * 3
    assert math.isnan(reporter.inner.metrics[3]["proxy_acc"])  # epoch 4 is not an objective epoch


def test_the_held_out_images_are_not_in_the_test_split_nor_in_training():
    config = load_config("quickstart")
    data = config.proxy.data.loading()
    held = load_images(data, "holdout")
    train = load_images(data, "train")
    test = load_images(data, "test")
    assert len(held) == round(0.2 * 1437) and len(train) == 512 and len(test) == 360

    def rows(dataset):
        return {tuple(np.round(dataset[i][0].numpy().ravel(), 5)) for i in range(len(dataset))}

    held_rows = rows(held)
    assert not held_rows & rows(test)  # the objective never reads a test image
    assert not held_rows & rows(train)  # nor one it trained on
    # the sweep's searches set the same images aside
    assert not held_rows & rows(load_images(config.sweep_search.data, "train"))


def test_the_proxy_is_scored_on_the_holdout_never_on_the_test_split(monkeypatch):
    from trainables import train_data

    splits = []
    real = train_data.load_images
    monkeypatch.setattr(train_data, "load_images", lambda config, split="train", **kw: splits.append(split) or real(config, split, **kw))
    config = load_config("quickstart", TINY)
    proxy_accuracy(config.proxy, parse_genotype("darts", "DARTS_V2"))
    assert "test" not in splits and "holdout" in splits


def test_the_sweeps_objective_scores_at_ashas_rungs_and_the_last_epoch():
    config = load_config("quickstart")
    assert proxy_objective(config).epochs == (1, 2, 4)
    assert config.sweep.objective.pruning_metric == "proxy_acc"
    cifar = load_config("cifar10")
    assert proxy_objective(cifar).epochs == (10, 30, 50)


def test_the_rungs_are_those_of_rays_asha():
    from ray.tune.schedulers import ASHAScheduler

    from orchestrator.sweep_config import AshaConfig

    for grace, rf, max_t in [(1, 2, 4), (10, 3, 50), (2, 2.5, 20), (1, 4, 3), (3, 2, 3)]:
        asha = ASHAScheduler(time_attr="epoch", metric="m", mode="max", max_t=max_t,
                             grace_period=grace, reduction_factor=rf)
        milestones = {math.ceil(m) for m, _ in asha._brackets[0]._rungs}
        expected = tuple(sorted({e for e in milestones if e <= max_t} | {max_t}))
        assert AshaConfig(grace_period=grace, reduction_factor=rf).rung_epochs(max_t) == expected


def test_a_supernet_metric_is_refused_as_the_objective_of_a_mim_sweep():
    with pytest.raises(UsageError, match="alpha_acc.*supernet metric.*mask_ratio.*use proxy_acc"):
        load_config("quickstart", ["sweep.objective.metric=alpha_acc"])
    seed_only = ["sweep.objective.metric=alpha_acc", "sweep.space.mask_ratio=null",
                 "sweep.space.decoder_depth=null", "sweep.num_samples=2"]
    assert load_config("quickstart", seed_only).sweep.objective.metric == "alpha_acc"


def test_the_proxy_section_must_hold_out_images_of_the_searchs_dataset():
    with pytest.raises(UsageError, match="proxy.data.holdout=0.0 must be above 0"):
        load_config("quickstart", ["proxy.data.holdout=0"])
    with pytest.raises(UsageError, match="proxy.data.dataset='synthetic'.*must be the search's"):
        load_config("quickstart", ["proxy.data.dataset=synthetic"])
    with pytest.raises(UsageError, match="proxy.space='nb201' must be the search's space"):
        load_config("quickstart", ["proxy.space=nb201"])


def test_a_sweep_without_a_proxy_section_is_refused_at_its_door():
    from orchestrator.stages.sweep import check_sweep

    config = load_config("quickstart", ["proxy=null"])  # a search needs no proxy
    with pytest.raises(UsageError, match="needs a proxy section"):
        check_sweep(config)
