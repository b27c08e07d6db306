"""Selecting the genotypes a sweep hands to the retrain stage (no Ray)."""

import pandas as pd
import pytest

from orchestrator.errors import UsageError
from orchestrator.pipeline_config import SelectConfig
from orchestrator.selection import select_genotypes
from search_space import parse_genotype

META = {"metric": "alpha_acc", "mode": "max", "knobs": ["mask_ratio", "seed"]}
V1, V2, PC = (parse_genotype("darts", n) for n in ("DARTS_V1", "DARTS_V2", "PC_DARTS"))


def _trials(rows):
    frame = pd.DataFrame([
        {"trial_id": t, "mask_ratio": m, "seed": s, "status": st, "objective": o,
         "genotype": str(g), "genotype_json": g.to_json(), "genotype_hash": g.key}
        for t, m, s, st, o, g in rows
    ])
    return frame


TRIALS = _trials([
    ("a", 0.0, 0, "TERMINATED", 0.90, V1),   # best single trial, but its setting is weak
    ("b", 0.0, 1, "TERMINATED", 0.30, V1),
    ("c", 0.5, 0, "TERMINATED", 0.80, V2),
    ("d", 0.5, 1, "TERMINATED", 0.85, PC),
    ("e", 0.5, 2, "TERMINATED", 0.70, V2),
    ("f", 0.25, 0, "STOPPED", 0.99, PC),     # stopped early: its value is an early epoch's
])


def test_top_k_distinct_genotypes_by_their_best_trial():
    chosen = select_genotypes(TRIALS, META, SelectConfig(top_k=2, by="trial"))
    assert [c.genotype_hash for c in chosen] == [V1.key, PC.key]
    assert chosen[0].source_trials == ("a", "b") and chosen[0].knobs == {"mask_ratio": 0.0, "seed": 0}
    assert chosen[0].genotype_json == V1.to_json()
    everything = select_genotypes(TRIALS, META, SelectConfig(top_k=10))
    assert len(everything) == 3  # distinct: V1, PC, V2 once each


def test_by_setting_prefers_the_best_mean_over_seeds():
    chosen = select_genotypes(TRIALS, META, SelectConfig(top_k=2, by="setting"))
    # mask 0.5 averages 0.783 over three seeds, mask 0.0 averages 0.60: 0.5's genotypes first
    assert [c.genotype_hash for c in chosen] == [PC.key, V2.key]
    assert chosen[1].source_trials == ("c", "e")


def test_minimised_objectives_rank_lowest_first():
    chosen = select_genotypes(TRIALS, {**META, "mode": "min"}, SelectConfig(top_k=1))
    assert chosen[0].genotype_hash == V1.key and chosen[0].source_trials == ("b", "a")


def test_only_stopped_trials_are_still_usable():
    stopped = TRIALS.assign(status="STOPPED")
    assert select_genotypes(stopped, META, SelectConfig(top_k=1))[0].genotype_hash == PC.key


def test_a_sweep_without_results_is_refused():
    empty = TRIALS.assign(objective=float("nan"))
    with pytest.raises(UsageError, match="no finished trial"):
        select_genotypes(empty, META, SelectConfig())
