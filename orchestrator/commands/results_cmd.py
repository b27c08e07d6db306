"""`alphadarts results EXPERIMENT_DIR`: a sweep's leaderboard, its knob settings with the
objective's spread across seeds, and which knob matters (Optuna's parameter importance,
fANOVA, over the finished trials of the sweep's study)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from orchestrator.importance import importance_lines, importance_rows, param_importances
from orchestrator.storage import join, write_bytes

if TYPE_CHECKING:
    import pandas as pd


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("results", help="leaderboard and seed spread of a sweep")
    parser.add_argument("experiment_dir",
                        help="a sweep's directory, e.g. runs/quickstart-sweep or s3://BUCKET/alphadarts/NAME-sweep")
    parser.add_argument("--json", action="store_true", help="end with one JSON line of results")
    parser.add_argument("--csv", action="store_true",
                        help="also write leaderboard.csv, seed_groups.csv and importances.csv into the directory")
    parser.set_defaults(run=run)


def run(args) -> int:
    import pandas as pd  # not for --help

    from orchestrator import results

    trials, meta = results.load_trials(args.experiment_dir)
    board = results.leaderboard(trials, meta)
    groups = results.seed_groups(trials, meta)
    summary = results.summarize(trials, meta, args.experiment_dir)
    direction = "higher" if meta["mode"] == "max" else "lower"
    print(f"{summary['num_trials']} trials; objective: {meta['metric']} ({direction} is better)")
    shown = board.drop(columns=["error"]) if board["error"].isna().all() else board
    print(_table(shown.rename(columns={"objective": meta["metric"]})))
    knobs = [k for k in meta["knobs"] if k != "seed"]
    print(f"\nby {', '.join(knobs) or 'all trials'}, across seeds:")
    print(_table(groups))
    importances = param_importances(args.experiment_dir, meta.get("study_name", ""), meta["knobs"])
    print()
    print("\n".join(importance_lines(importances, meta["metric"])))
    if args.csv:
        imp = pd.DataFrame(importance_rows(importances), columns=["knob", "importance", "evaluator", "note"])
        for name, frame in (("leaderboard.csv", board), ("seed_groups.csv", groups),
                            ("importances.csv", imp)):
            target = join(args.experiment_dir, name)
            write_bytes(target, frame.to_csv(index=False).encode())
            print(f"wrote {target}")
    if args.json:
        print(json.dumps({**summary, "leaderboard": results.records(board),
                          "seed_groups": results.records(groups),
                          "importances": importances}))
    return 0


def _table(frame: pd.DataFrame) -> str:
    return frame.to_string(index=False, float_format=lambda v: f"{v:.4f}", na_rep="-")
