"""`alphadarts report EXPERIMENT_DIR`: (re)write report.html from the tables on disk and
print its path."""

from __future__ import annotations


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("report", help="write report.html of a sweep (and its retrain)")
    parser.add_argument("experiment_dir", help="a sweep's directory, e.g. runs/quickstart-sweep")
    parser.add_argument("--retrain-dir", default=None,
                        help="where retrain.parquet lies (default: EXPERIMENT_DIR)")
    parser.set_defaults(run=run)


def run(args) -> int:
    # Imported here: the CLI imports every command module to build its parser, and the other
    # commands need not pay for matplotlib.
    from orchestrator.report import write_report

    print(write_report(args.experiment_dir, retrain_dir=args.retrain_dir))
    return 0
