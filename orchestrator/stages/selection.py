"""Which genotypes of a sweep go on to the final retraining.

A sweep's trials often find the same cell (several seeds, or settings that agree), so the
candidates are *distinct* genotypes, by genotype hash, each ranked by the best objective
value of the trials that found it. Every trial that ended with a score counts (ASHA's
stopped ones too: the objective scores the genotype a trial held, whatever its epoch).
Three rules:
- `mask_ratio` (the default): the `top_k` best of each mask ratio the sweep ran, so that
  plain DARTS (mask ratio 0) and every MIM setting meet on equal terms in the retrain;
  one group when the mask ratio was not swept;
- `trial`: the `top_k` best overall;
- `setting`: the knob settings (all swept knobs but the seed) whose seeds all finished,
  ranked by the objective's mean over those seeds, and from the best settings on, the
  genotypes their seeds found: the choice that does not reward one lucky seed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pandas as pd

from orchestrator.errors import UsageError
from orchestrator.pipeline_config import SelectConfig
from orchestrator.tables.results import ENDED, plain, seed_groups


@dataclass(frozen=True)
class Candidate:
    """One genotype to retrain, with where it came from."""

    genotype_hash: str
    genotype: str
    genotype_json: str
    objective: float
    source_trials: tuple[str, ...]
    knobs: dict = field(default_factory=dict)  # the knobs of the best trial that found it


def select_genotypes(trials: pd.DataFrame, meta: dict, config: SelectConfig) -> list[Candidate]:
    """The candidates (by mask ratio: grouped, lowest ratio first; else best first);
    UsageError when no trial ended with a genotype and a score."""
    ranked = _ranked(trials, meta)
    if ranked.empty:
        raise UsageError("the sweep has no finished trial with a genotype to retrain; "
                         "run it to completion first (alphadarts sweep CONFIG --resume)")
    if config.by == "setting":
        return _by_setting(ranked, meta, config.top_k)
    if config.by == "mask_ratio" and "mask_ratio" in meta["knobs"]:
        return _merged([_distinct(group, meta, config.top_k)
                        for _, group in ranked.groupby("mask_ratio", sort=True)], meta["mode"])
    return _distinct(ranked, meta, config.top_k)


def _ranked(trials: pd.DataFrame, meta: dict) -> pd.DataFrame:
    """Trials that ended (finished or stopped early) with a score and a genotype, best first."""
    usable = trials[trials["status"].isin(ENDED) & trials["objective"].notna()
                    & trials["genotype_hash"].notna()]
    return usable.sort_values("objective", ascending=meta["mode"] == "min", kind="stable")


def _distinct(ranked: pd.DataFrame, meta: dict, top_k: int) -> list[Candidate]:
    candidates: list[Candidate] = []
    for genotype_hash, group in ranked.groupby("genotype_hash", sort=False):
        best = group.iloc[0]
        candidates.append(Candidate(
            genotype_hash=str(genotype_hash),
            genotype=str(best["genotype"]),
            genotype_json=str(best["genotype_json"]),
            objective=float(best["objective"]),
            source_trials=tuple(str(t) for t in group["trial_id"]),
            knobs={k: plain(best[k]) for k in meta["knobs"] if k in best},
        ))
        if len(candidates) == top_k:
            break
    return candidates


def _merged(groups: list[list[Candidate]], mode: str) -> list[Candidate]:
    """The groups' picks in group order; a genotype two groups found is retrained once, with
    the first group's knobs and every group's source trials."""
    merged: dict[str, Candidate] = {}
    for group in groups:
        for c in group:
            if c.genotype_hash in merged:
                first = merged[c.genotype_hash]
                trials = first.source_trials + tuple(t for t in c.source_trials if t not in first.source_trials)
                merged[c.genotype_hash] = Candidate(first.genotype_hash, first.genotype, first.genotype_json,
                                                    (max if mode == "max" else min)(first.objective, c.objective),
                                                    trials, first.knobs)
            else:
                merged[c.genotype_hash] = c
    return list(merged.values())


def _by_setting(ranked: pd.DataFrame, meta: dict, top_k: int) -> list[Candidate]:
    keys = [k for k in meta["knobs"] if k != "seed"]
    if not keys:  # only the seed is swept: every trial is the same setting
        return _distinct(ranked, meta, top_k)
    settings = seed_groups(ranked, meta)
    seeds = meta.get("seeds")
    if seeds and "seeds" in settings:  # a mean over fewer seeds than every setting ran is not ranked
        settings = settings[settings["seeds"] == len(seeds)]
    if settings.empty:
        raise UsageError(f"no setting of the sweep finished all of its {len(seeds)} seeds; "
                         "run the sweep to completion first (alphadarts sweep CONFIG --resume)")
    ordered = []
    for _, setting in settings.iterrows():
        match = (ranked[keys] == setting[keys]).all(axis=1)
        ordered.append(ranked[match])
    return _distinct(pd.concat(ordered), meta, top_k)


def describe(candidates: list[Candidate]) -> str:
    """One line per candidate, for logs."""
    return "\n".join(f"{c.genotype_hash}  objective {c.objective:.4f}  from {','.join(c.source_trials)}"
                     f"  {json.dumps(c.knobs)}" for c in candidates)
