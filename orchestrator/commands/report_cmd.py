"""`alphadarts report EXPERIMENT_DIR`: (re)write report.html of an experiment from the tables
on disk, into EXPERIMENT_DIR, and print its path. EXPERIMENT_DIR is any of the experiment's
directories: a sweep's (its retrain is found: the one its pipeline made, or one made from it
with `retrain --genotype SWEEP:...`), a retrain's (from a sweep) or a pipeline's."""

from __future__ import annotations


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("report", help="write report.html of an experiment (sweep and retrain)",
                                   description=__doc__)
    parser.add_argument("experiment_dir",
                        help="a sweep's, a retrain's or a pipeline's directory, e.g. runs/quickstart-pipeline")
    parser.add_argument("--retrain-dir", default=None,
                        help="where retrain.parquet lies (default: the experiment's retrain, as found)")
    parser.set_defaults(run=run)


def run(args) -> int:
    # Imported here: the other commands need not pay for matplotlib.
    from orchestrator.errors import UsageError
    from orchestrator.tables.experiment_dirs import find_experiment
    from orchestrator.tables.experiment_tables import load_tables, next_commands, winner
    from orchestrator.commands.next_steps import print_next
    from orchestrator.report import write_report

    experiment = find_experiment(args.experiment_dir)
    if experiment.sweep is None:
        raise UsageError(f"EXPERIMENT_DIR {args.experiment_dir!r}: {experiment.short()} came from no sweep "
                         "(its genotypes were given by name or string): the report is a sweep's; "
                         f"`alphadarts results {args.experiment_dir}` prints its leaderboard")
    retrain = args.retrain_dir or experiment.retrain
    print(write_report(args.experiment_dir, sweep_dir=experiment.sweep, retrain_dir=retrain))
    tables = load_tables(experiment)
    best, _ = winner(tables)
    if retrain is None:
        made = next_commands(tables, skip=("results", "report", "dashboard", "inspect")) if best else []
        make = f"; this makes one: {made[0]}" if made else ""
        print(f"no retrain made from {experiment.sweep} yet: the report holds the sweep alone{make}")
    print_next(next_commands(tables, skip=("report",) if retrain else ("report", "retrain")))
    return 0
