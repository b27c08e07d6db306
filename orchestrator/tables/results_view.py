"""What `alphadarts results` shows of an experiment, part by part: the sweep (leaderboard,
seed spread, which knob matters), the answer per mask ratio (retrained accuracy of the
genotypes each ratio found) and the retrain leaderboard (finished seeds, mean ± std). Each
part is there when the experiment has its tables, whichever of its directories was given.

Each part returns its text, its tables (for --csv) and its JSON, so that the command only
prints and writes."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from orchestrator.tables import results
from orchestrator.tables.experiment_tables import ExperimentTables
from orchestrator.tables.retrain_table import genotype_leaderboard


@dataclass
class Part:
    lines: list[str] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)   # csv name -> table
    json: dict = field(default_factory=dict)


def table_text(frame: pd.DataFrame) -> str:
    return frame.to_string(index=False, float_format=lambda v: f"{v:.4f}", na_rep="-")


def mean_std(mean, std) -> str:
    if pd.isna(mean):
        return "-"
    return f"{mean:.4f}" if pd.isna(std) else f"{mean:.4f} ± {std:.4f}"


def sweep_part(tables: ExperimentTables) -> Part:
    from orchestrator.tables.importance import importance_lines, importance_rows, param_importances

    trials, meta, sweep = tables.trials, tables.meta, tables.experiment.sweep
    board = results.leaderboard(trials, meta)
    groups = results.seed_groups(trials, meta)
    summary = results.summarize(trials, meta, sweep)
    direction = "higher" if meta["mode"] == "max" else "lower"
    shown = board.drop(columns=["error"]) if board["error"].isna().all() else board
    knobs = [k for k in meta["knobs"] if k != "seed"]
    importances = param_importances(sweep, meta.get("study_name", ""), meta["knobs"])
    lines = [f"sweep {sweep}: {summary['num_trials']} trials; objective: {meta['metric']} "
             f"({direction} is better)",
             table_text(shown.rename(columns={"objective": meta["metric"]})),
             f"\nby {', '.join(knobs) or 'all trials'}, across seeds:", table_text(groups), "",
             *importance_lines(importances, meta["metric"])]
    imp = pd.DataFrame(importance_rows(importances), columns=["knob", "importance", "evaluator", "note"])
    return Part(lines, {"leaderboard.csv": board, "seed_groups.csv": groups, "importances.csv": imp},
                {**summary, "leaderboard": results.records(board), "seed_groups": results.records(groups),
                 "importances": importances})


def answer_part(tables: ExperimentTables) -> Part:
    from orchestrator.tables.answer_table import answer_by_mask_ratio

    if "mask_ratio" not in tables.meta["knobs"]:
        return Part(["\nthe mask ratio was not swept: no answer per mask ratio"])
    answer = answer_by_mask_ratio(tables.trials, tables.retrain)
    view = pd.DataFrame({
        "mask_ratio": answer["mask_ratio"], "genotype_hash": answer["genotype_hash"],
        "test_acc": [mean_std(m, s) for m, s in zip(answer["test_acc_mean"], answer["test_acc_std"])],
        "seeds": answer["seeds"], f"sweep_{tables.meta['metric']}": answer["objective"],
        "param_free_ops": answer["param_free_ops"], "alpha_entropy": answer["alpha_entropy"],
        "searches": answer["searches"],
    })
    lines = ["\nthe answer per mask ratio (0: plain DARTS): retrained test accuracy of the genotypes "
             "each ratio found, mean ± std over finished seeds, beside its searches' collapse signals:",
             table_text(view) if len(view) else "(no retrained genotype came from this sweep's trials)"]
    return Part(lines, {"answer_by_mask_ratio.csv": answer}, {"answer_by_mask_ratio": results.records(answer)})


def retrain_part(tables: ExperimentTables) -> Part:
    retrain = tables.retrain
    board = genotype_leaderboard(retrain)
    finished = int((retrain["status"] == "TERMINATED").sum())
    view = pd.DataFrame({
        "rank": board["rank"], "genotype_hash": board["genotype_hash"],
        "test_acc": [mean_std(m, s) for m, s in zip(board["test_acc_mean"], board["test_acc_std"])],
        "seeds": board["seeds"], "unfinished": board["unfinished"], "params": board["params"],
        "macs": board["macs"], "epochs": board["epochs"],
        "from_trials": [",".join(t) or "-" for t in board["source_trials"]],
    })
    lines = [f"retrain {tables.experiment.retrain}: {len(board)} genotype(s), {len(retrain)} run(s), "
             f"{finished} finished; final test accuracy, mean ± std over the finished seeds, best first:",
             table_text(view)]
    csv = board.assign(source_trials=[",".join(t) for t in board["source_trials"]])
    return Part(lines, {"retrain_leaderboard.csv": csv}, {"retrain_leaderboard": results.records(board)})


def parts(tables: ExperimentTables) -> list[Part]:
    """The experiment's parts in reading order: sweep, answer, retrain. A retrain's directory
    shows its own leaderboard first, then the answer; its sweep's leaderboard is that
    directory's `results`."""
    experiment = tables.experiment
    if experiment.kind == "retrain":
        found = [retrain_part(tables)] if tables.retrain is not None else [
            Part([f"retrain {experiment.retrain}: no run has finished yet"])]
        if tables.trials is not None and tables.retrain is not None:
            found.append(answer_part(tables))
        if experiment.sweep is not None:
            found.append(Part([f"\nits genotypes came from the sweep {experiment.sweep}"]))
        return found
    found = []
    if tables.trials is not None:
        found.append(sweep_part(tables))
    elif experiment.sweep is not None:
        found.append(Part([f"sweep {experiment.sweep}: no trial has reported yet"]))
    if tables.trials is not None and tables.retrain is not None:
        found.append(answer_part(tables))
    if tables.retrain is not None:
        found.append(retrain_part(tables))
    elif tables.trials is not None:
        found.append(Part([f"\nno retrain made from {experiment.sweep} yet (the retrain below makes one)"]))
    return found
