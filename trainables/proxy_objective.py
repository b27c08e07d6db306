"""The sweep's default objective, `proxy_acc`: the derived genotype trained from scratch,
small and short (the `proxy` config), scored on images held out of the training set.

Why a score of the genotype and not of the supernet: a sweep's trials train their supernets
on different inputs (images masked at different ratios), so a supernet's accuracy compares
the inputs as much as the architectures, and a sweep over the mask ratio would rank plain
DARTS first by construction. `proxy_acc` depends on the genotype and the proxy config alone
(a fixed seed, fixed data, the held-out images): two trials that derive the same cell get the
same value, whatever their MIM settings. It is how the DARTS authors chose among cells.

The score is attached to the search epochs whose reports the scheduler compares (ASHA's
rungs) and to the last one; other epochs carry NaN, so every report has the same keys.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from search_space import genotype_from_dict
from trainables.distributed import Collective
from trainables.reporters import Reporter
from trainables.seeding import capture_rng, restore_rng
from trainables.train_config import TrainConfig
from trainables.train_loop import proxy_accuracy

#: the metric's name in every report (declared in trainables.metrics)
PROXY_METRIC = "proxy_acc"


@dataclass(frozen=True)
class ProxyObjective:
    """How a sweep trial scores its genotype, and after which search epochs."""

    config: TrainConfig
    epochs: tuple[int, ...]


class ProxyScoredReporter(Reporter):
    """Adds `proxy_acc` to the reports of the objective's epochs before passing them on, so
    that the scheduler, the searcher and the checkpoint of such an epoch all see it.

    Scores are kept per genotype (the score depends on nothing else), so an unchanged cell
    is not trained again. The proxy training seeds the global random generators; they are
    restored afterwards, so the search goes on exactly as it would have without it."""

    def __init__(self, inner: Reporter, objective: ProxyObjective, space: str, collective: Collective):
        self.inner, self.objective, self.space, self.collective = inner, objective, space, collective
        self.scores: dict[str, float] = {}
        self.reported = False

    def report(self, metrics: dict, state: dict | None) -> None:
        value = math.nan
        if metrics["epoch"] in self.objective.epochs:
            value = self.score(metrics["genotype"], metrics["genotype_hash"])
        self.inner.report({**metrics, PROXY_METRIC: value}, state)
        self.reported = True

    def latest_state(self) -> dict | None:
        return self.inner.latest_state()

    def phase(self, name: str, **fields) -> None:
        self.inner.phase(name, **fields)

    def score(self, genotype: dict, key: str) -> float:
        if key not in self.scores:
            rng = capture_rng()
            try:
                self.scores[key] = proxy_accuracy(
                    self.objective.config, genotype_from_dict(genotype, self.space), self.collective)
            finally:
                restore_rng(rng)
        return self.scores[key]


def scored(reporter: Reporter, objective: ProxyObjective | None, space: str,
           collective: Collective) -> Reporter:
    """`reporter`, with the proxy score added where the sweep ranks by it."""
    return reporter if objective is None else ProxyScoredReporter(reporter, objective, space, collective)
