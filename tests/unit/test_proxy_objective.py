"""The proxy objective without Ray: the search's last epoch is held back until the derived
genotype's proxy training has run, then reported with `proxy_acc` (and its checkpoint)."""

import math

import pytest

from orchestrator.config import load_config
from orchestrator.errors import UsageError
from trainables.reporters import LastReportHeld, MemoryReporter
from trainables.search_loop import run_search
from trainables.train_loop import proxy_accuracy

TINY = ["search.epochs=2", "search.data.subset=64", "search.model.channels=4", "search.model.layers=1",
        "search.mim.decoder_width=8", "proxy.epochs=1", "proxy.data.subset=128",
        "proxy.data.test_subset=64", "proxy.model.channels=4", "proxy.model.layers=2",
        "sweep.objective.metric=proxy_acc"]


def test_proxy_accuracy_arrives_with_the_last_epoch_and_its_checkpoint():
    config = load_config("quickstart", TINY)
    inner = MemoryReporter()
    held = LastReportHeld(inner, last_epoch=config.search.epochs, pending=("proxy_acc",))
    outcome = run_search(config.search, held)
    assert [m["epoch"] for m in inner.metrics] == [1] and len(inner.states) == 1  # epoch 2 held
    assert math.isnan(inner.metrics[0]["proxy_acc"])  # every report has the key: not known yet
    accuracy = proxy_accuracy(config.proxy, outcome.genotype)
    assert 0.0 <= accuracy <= 1.0
    held.release({"proxy_acc": accuracy}, outcome.history[-1])
    last = inner.metrics[-1]
    assert (last["epoch"], last["proxy_acc"]) == (2, accuracy)
    assert len(inner.states) == 2 and inner.states[-1]["epoch"] == 2
    assert proxy_accuracy(config.proxy, outcome.genotype) == accuracy  # fixed proxy seed


def test_a_finished_search_reports_its_last_epoch_with_the_proxy():
    inner = MemoryReporter()
    held = LastReportHeld(inner, last_epoch=3)  # nothing was held: the search had finished
    held.release({"proxy_acc": 0.5}, {"epoch": 3, "alpha_acc": 0.4})
    assert inner.metrics == [{"epoch": 3, "alpha_acc": 0.4, "proxy_acc": 0.5}] and inner.states == []


def test_proxy_objective_needs_a_proxy_section_and_prunes_on_alpha_acc():
    config = load_config("quickstart", ["sweep.objective.metric=proxy_acc"])
    assert config.sweep.objective.pruning_metric == "alpha_acc" and config.sweep.objective.mode == "max"
    assert load_config("quickstart").sweep.objective.pruning_metric == "alpha_acc"
    with pytest.raises(UsageError, match="needs a proxy section"):
        load_config("quickstart", ["sweep.objective.metric=proxy_acc", "proxy=null"])
    with pytest.raises(UsageError, match="proxy.space='nb201' must be the search's space"):
        load_config("quickstart", ["sweep.objective.metric=proxy_acc", "proxy.space=nb201"])
