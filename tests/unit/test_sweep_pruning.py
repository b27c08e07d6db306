"""ASHA as the sweep builds it, fed scripted trial results (no Ray cluster): it compares the
genotypes' scores at its rungs, never the supernets' accuracies, which differ by MIM setting."""

import math
from types import SimpleNamespace

from ray.tune.schedulers import TrialScheduler

from orchestrator.config import load_config
from orchestrator.stages.sweep import asha_scheduler, proxy_objective


def _report(asha, trial, epoch, alpha_acc, proxy_acc):
    return asha.on_trial_result(None, trial, {"epoch": epoch, "alpha_acc": alpha_acc, "proxy_acc": proxy_acc})


def test_masked_trials_with_lower_supernet_accuracy_but_no_worse_genotypes_go_on():
    config = load_config("quickstart")
    asha = asha_scheduler(config)
    rungs = proxy_objective(config).epochs
    plain = [SimpleNamespace(trial_id=f"plain{i}") for i in range(3)]
    masked = [SimpleNamespace(trial_id=f"masked{i}") for i in range(3)]
    for trial in plain + masked:
        asha.on_trial_add(None, trial)
    stopped = set()
    for epoch in range(1, config.search.epochs):  # at the last epoch every trial ends anyway
        # plain DARTS: high supernet accuracy (clean inputs), genotypes scored 0.80, 0.79, 0.78;
        # masked: low supernet accuracy, genotypes scored 0.85 each
        for group, alpha_acc, best, step in ((plain, 0.97, 0.80, 0.01), (masked, 0.40, 0.85, 0.0)):
            for i, trial in enumerate(group):
                if trial.trial_id in stopped:
                    continue
                score = best - step * i if epoch in rungs else math.nan
                if _report(asha, trial, epoch, alpha_acc, score) == TrialScheduler.STOP:
                    stopped.add(trial.trial_id)
    assert not stopped & {t.trial_id for t in masked}
    assert stopped & {t.trial_id for t in plain}  # it does prune: the lower genotype scores
