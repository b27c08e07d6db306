"""Selecting the genotypes a sweep hands to the retrain stage (no Ray)."""

import pandas as pd
import pytest

from orchestrator.errors import UsageError
from orchestrator.pipeline_config import SelectConfig
from orchestrator.stages.selection import select_genotypes
from search_space import parse_genotype

META = {"metric": "proxy_acc", "mode": "max", "knobs": ["mask_ratio", "seed"], "seeds": [0, 1, 2]}
V1, V2, PC, DR = (parse_genotype("darts", n) for n in ("DARTS_V1", "DARTS_V2", "PC_DARTS", "DrNAS"))


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
    ("g", 0.0, 2, "TERMINATED", 0.60, DR),
    ("c", 0.5, 0, "TERMINATED", 0.80, V2),
    ("d", 0.5, 1, "TERMINATED", 0.85, PC),
    ("e", 0.5, 2, "TERMINATED", 0.70, V2),
    ("f", 0.25, 0, "STOPPED", 0.99, PC),     # stopped by ASHA: its genotype's score counts
    ("h", 0.25, 1, "ERROR", 0.995, DR),      # failed: not a result
])


def test_by_default_the_best_genotype_of_each_mask_ratio():
    chosen = select_genotypes(TRIALS, META, SelectConfig())
    # 0.5's best is PC too (trial d), which 0.25 found first: one retrain for both
    assert [(c.knobs["mask_ratio"], c.genotype_hash) for c in chosen] == [(0.0, V1.key), (0.25, PC.key)]
    assert chosen[1].source_trials == ("f", "d") and chosen[1].objective == 0.99
    two_each = select_genotypes(TRIALS, META, SelectConfig(top_k=2))
    assert [c.genotype_hash for c in two_each] == [V1.key, DR.key, PC.key, V2.key]


def test_a_genotype_found_at_two_mask_ratios_is_retrained_once():
    both = _trials([("a", 0.0, 0, "TERMINATED", 0.7, V1), ("b", 0.5, 0, "TERMINATED", 0.8, V1)])
    chosen = select_genotypes(both, META, SelectConfig())
    assert len(chosen) == 1 and chosen[0].source_trials == ("a", "b") and chosen[0].objective == 0.8
    assert chosen[0].knobs["mask_ratio"] == 0.0


def test_top_k_distinct_genotypes_by_their_best_trial():
    chosen = select_genotypes(TRIALS, META, SelectConfig(top_k=2, by="trial"))
    assert [c.genotype_hash for c in chosen] == [PC.key, V1.key]
    assert chosen[1].source_trials == ("a", "b") and chosen[1].knobs == {"mask_ratio": 0.0, "seed": 0}
    assert chosen[1].genotype_json == V1.to_json()
    everything = select_genotypes(TRIALS, META, SelectConfig(top_k=10, by="trial"))
    assert len(everything) == 4  # distinct: PC, V1, V2, DR once each; the failed trial is not one


def test_by_setting_ranks_only_settings_whose_seeds_all_finished():
    chosen = select_genotypes(TRIALS, META, SelectConfig(top_k=2, by="setting"))
    # mask 0.5 averages 0.783 over its three seeds, mask 0.0 0.60; mask 0.25 (0.99 from one
    # seed: one stopped, one failed, one missing) is not ranked
    assert [c.genotype_hash for c in chosen] == [PC.key, V2.key]
    assert chosen[1].source_trials == ("c", "e")
    with pytest.raises(UsageError, match="no setting of the sweep finished all of its 3 seeds"):
        select_genotypes(TRIALS[TRIALS.seed < 2], META, SelectConfig(by="setting"))


def test_minimised_objectives_rank_lowest_first():
    chosen = select_genotypes(TRIALS, {**META, "mode": "min"}, SelectConfig(top_k=1, by="trial"))
    assert chosen[0].genotype_hash == V1.key and chosen[0].source_trials == ("b", "a")


def test_a_sweep_without_results_is_refused():
    empty = TRIALS.assign(objective=float("nan"))
    with pytest.raises(UsageError, match="no finished trial"):
        select_genotypes(empty, META, SelectConfig())
