"""`alphadarts results EXPERIMENT_DIR`: everything an experiment has measured, from any of its
directories (a sweep's, a retrain's or a pipeline's): the sweep's leaderboard, its knob
settings with the objective's spread across seeds and which knob matters (Optuna's parameter
importance, fANOVA, over the sweep's finished trials); the answer per mask ratio; the
retrain's leaderboard (final test accuracy, mean ± std over finished seeds). Ends with the
commands to run next."""

from __future__ import annotations

import json


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("results", help="leaderboards of an experiment: sweep, retrain, answer",
                                   description=__doc__)
    parser.add_argument("experiment_dir",
                        help="a sweep's, a retrain's or a pipeline's directory, e.g. runs/quickstart-pipeline "
                             "or s3://BUCKET/alphadarts/NAME-sweep")
    parser.add_argument("--json", action="store_true", help="end with one JSON line of results")
    parser.add_argument("--csv", action="store_true",
                        help="also write each table shown as a .csv file into EXPERIMENT_DIR")
    parser.set_defaults(run=run)


def run(args) -> int:
    from orchestrator.errors import UsageError
    from orchestrator.tables.experiment_dirs import find_experiment
    from orchestrator.tables.experiment_tables import load_tables, next_commands
    from orchestrator.commands.next_steps import print_next
    from orchestrator.tables.results_view import parts
    from orchestrator.cluster.storage import join, write_bytes

    experiment = find_experiment(args.experiment_dir)
    tables = load_tables(experiment)
    if tables.empty:
        raise UsageError(f"EXPERIMENT_DIR {args.experiment_dir!r}: {experiment.describe()} has no results "
                         "yet (no trial of its sweep has reported, no retrain run has finished)")
    print(f"experiment: {experiment.describe()}\n")
    shown = parts(tables)
    for part in shown:
        print("\n".join(part.lines))
    if args.csv:
        for part in shown:
            for name, frame in part.tables.items():
                target = join(args.experiment_dir, name)
                write_bytes(target, frame.to_csv(index=False).encode())
                print(f"wrote {target}")
    commands = next_commands(tables, skip=("results",))
    print()
    print_next(commands)
    if args.json:
        found = {"experiment": {k: getattr(experiment, k) for k in ("asked", "kind", "sweep", "retrain", "pipeline")}}
        for part in shown:
            found.update(part.json)
        print(json.dumps({**found, "next": commands}))
    return 0
