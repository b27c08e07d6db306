"""What a search epoch reports, declared once: each metric's name, type and meaning.

The search loop builds its per-epoch report from this list and checks it against it, and
everything downstream reads the same list: the sweep's Parquet schemas, which metrics a sweep
may optimise (and in which direction), which ones a sweep keeps per trial, and the CLI's
summaries. A metric added here reaches every table; one reported but not declared is an error,
not a silently dropped column.

Types are plain Python types; `dict` marks a structured value (the genotype, α) that travels
as itself, not as text to parse again, and `list` a list of strings. A `nullable` metric may
be None: a value that does not exist for the epoch (a cell NAS-Bench-201 does not hold).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

Goal = Literal["max", "min"]


@dataclass(frozen=True)
class Metric:
    name: str
    type: type
    doc: str
    #: the direction that is better, for metrics a sweep may optimise
    goal: Goal | None = None
    #: kept as a column of a sweep's per-trial table (its last reported value)
    per_trial: bool = False
    #: None is a value too (the column is null there)
    nullable: bool = False


#: NAS-Bench-201's accuracy of the epoch's derived cell (trainables.nb201_benchmark), percent,
#: 200-epoch schedule, mean over the benchmark's seeds. None where no benchmark was read (another
#: space, none configured or found) or the cell is not in it (bench_status says which). Like
#: proxy_acc, a score of the cell alone: a sweep may select on the validation accuracy; the
#: test accuracy has no goal, so it is reported and never selected on.
BENCHMARK_METRICS: tuple[Metric, ...] = (
    Metric("bench_status", str, "'found', 'not_in_benchmark', 'unreadable' (its file: see the log), "
           "or None without a benchmark",
           per_trial=True, nullable=True),
    *(Metric(f"bench_{key}_{split}", float, f"NAS-Bench-201 {name} {split} accuracy of the derived "
             f"cell, % ({'may select on' if split == 'valid' else 'report, never select on'})",
             goal="max" if split == "valid" else None, per_trial=True, nullable=True)
      for key, name in (("cifar10", "CIFAR-10"), ("cifar100", "CIFAR-100"), ("imagenet16", "ImageNet16-120"))
      for split in ("valid", "test")),
)


SEARCH_EPOCH_METRICS: tuple[Metric, ...] = (
    Metric("epoch", int, "epochs completed (1-based)"),
    Metric("lr", float, "weight learning rate during the epoch"),
    Metric("weights_ce", float, "cross-entropy of the weight steps (masked images when MIM is on)",
           goal="min", per_trial=True),
    Metric("weights_acc", float, "accuracy of the weight steps", goal="max", per_trial=True),
    Metric("alpha_step_ce", float, "cross-entropy of the α steps (0 for second order)"),
    Metric("alpha_ce", float, "clean α-split cross-entropy, eval mode, clean BN statistics",
           goal="min", per_trial=True),
    Metric("alpha_acc", float, "clean α-split accuracy, eval mode, clean BN statistics",
           goal="max", per_trial=True),
    Metric("mim_loss", float, "masked-pixel reconstruction MSE (0 without MIM)", per_trial=True),
    Metric("mim_active", bool, "whether any step added the reconstruction loss"),
    Metric("alpha_entropy", float, "mean entropy of softmax(α) over edges, nats (collapse signal)",
           per_trial=True),
    Metric("alpha_top_weight", float,
           "mean over edges of the strongest op's softmax weight (1/#ops at the start)",
           per_trial=True),
    Metric("param_free_ops", int, "parameter-free ops in the derived normal cell (collapse signal)",
           per_trial=True),
    Metric("genotype", dict, "the derived genotype, as `Genotype.to_dict()`"),
    Metric("genotype_hash", str, "stable 12-hex-digit hash of the derived genotype"),
    Metric("alphas", dict, "α after the epoch: {cell type: [[edge x op]]}, ops in space order"),
    Metric("weight_steps", int, "weight steps in the epoch on this worker (one pass over its weight shard)"),
    Metric("epoch_time_s", float, "wall time of the epoch's steps and evaluation"),
    Metric("images_per_s", float, "images through the search steps per second, all workers"),
    Metric("alpha_rank_digests", list, "every rank's α digest; all equal when ranks agree"),
    *BENCHMARK_METRICS,
)

#: What a sweep's search adds to the reports its scheduler compares (ASHA's rungs) and to its
#: last one, when the sweep ranks by a score of the derived genotype (NaN in other epochs).
PROXY_METRICS: tuple[Metric, ...] = (
    Metric("proxy_acc", float,
           "held-out accuracy of the derived genotype trained from scratch at small size (the "
           "`proxy` section; images set aside from the training set, never the test split): "
           "a score of the genotype alone, comparable across MIM settings",
           goal="max", per_trial=True),
)

#: metrics whose value depends on how the supernet was trained (its inputs, masked or not),
#: not on the derived genotype alone: not comparable across MIM settings
SUPERNET_METRICS: frozenset[str] = frozenset(
    m.name for m in SEARCH_EPOCH_METRICS if m not in BENCHMARK_METRICS)

#: Where an epoch ran, added to each report by the Ray Train reporter (not the loop, which
#: knows no Ray): on a cluster these show which node trained a trial and, after a lost node,
#: that the replacement workers continued from a checkpoint instead of starting over.
PLACEMENT_METRICS: tuple[Metric, ...] = (
    Metric("train_node_id", str, "Ray node id of the rank-0 Train worker that ran the epoch",
           per_trial=True),
    Metric("train_node_ip", str, "IP address of that node", per_trial=True),
    Metric("resumed_from_epoch", int,
           "epoch of the checkpoint this Train worker group started from (0: a fresh start)",
           per_trial=True),
)

_BY_NAME = {m.name: m for m in SEARCH_EPOCH_METRICS}
_NUMBERS = frozenset(m.name for m in SEARCH_EPOCH_METRICS if m.type in (int, float))
_ALL = {m.name: m for m in SEARCH_EPOCH_METRICS + PROXY_METRICS}

#: metrics a sweep may optimise -> the better direction
OBJECTIVE_GOALS: dict[str, Goal] = {
    m.name: m.goal for m in SEARCH_EPOCH_METRICS + PROXY_METRICS if m.goal
}

#: metrics a sweep keeps per trial, in declaration order
PER_TRIAL_METRICS: tuple[Metric, ...] = tuple(
    m for m in SEARCH_EPOCH_METRICS + PROXY_METRICS + PLACEMENT_METRICS if m.per_trial
)


def metric(name: str) -> Metric:
    """The declaration of an epoch or proxy metric."""
    return _ALL[name]


def check_epoch_report(metrics: dict) -> dict:
    """`metrics` if it holds exactly the declared metrics with their types, else TypeError: a
    report and its declaration cannot drift apart unnoticed."""
    missing = [name for name in _BY_NAME if name not in metrics]
    extra = [name for name in metrics if name not in _BY_NAME]
    if missing or extra:
        raise TypeError(f"epoch report differs from trainables.metrics: missing {missing}, "
                        f"undeclared {extra}")
    for name, value in metrics.items():
        if value is None and _BY_NAME[name].nullable:
            continue
        expected = _BY_NAME[name].type
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) if expected is float \
            else isinstance(value, expected) and not (expected is int and isinstance(value, bool))
        if not ok:
            raise TypeError(f"epoch metric {name!r} is {type(value).__name__}, "
                            f"declared {expected.__name__}")
    return metrics


def for_tune(metrics: dict) -> dict:
    """`metrics` as Tune is told them: a declared number that does not exist for the epoch
    (None, a cell NAS-Bench-201 lacks) as NaN, since Tune's schedulers and searchers compare
    numbers and a sweep may rank by such a metric. The loop's own history keeps None."""
    return {k: math.nan if v is None and k in _NUMBERS else v for k, v in metrics.items()}
