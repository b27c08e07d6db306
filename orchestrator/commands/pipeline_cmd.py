"""`alphadarts pipeline CONFIG`: sweep -> select the best distinct genotypes -> retrain them
with several seeds -> report. Rerunning the same command continues where it stopped."""

from __future__ import annotations

import json

from orchestrator.commands.retrain_cmd import genotype_line
from orchestrator.cluster.placement import run_stage
from orchestrator.commands.stage_args import add_stage_arguments
from orchestrator.config import load_config

def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "pipeline", help="sweep, select, retrain the best genotypes, write the report",
        description=__doc__,
    )
    add_stage_arguments(parser, json_help="end with one JSON line: directories, report, each genotype's result")
    parser.set_defaults(run=run)


def run(args) -> int:
    config = load_config(args.config, args.overrides)  # bad input: exit 2 before Ray loads
    from orchestrator.stages.pipeline import run_pipeline  # imports Ray Tune

    summary = run_stage(run_pipeline, config, address=args.address, restart=args.restart,
                        resource_wait=args.resource_wait)  # a stop: Interrupted (cli.py)
    print(f"experiment directory: {summary['experiment_dir']}")
    for stage, status in summary["stages"].items():
        print(f"  {stage}: {status}")
    print("retrained genotypes (final test accuracy over seeds), best first:")
    for g in summary["genotypes"]:
        print(f"  {g['genotype_hash']}: {genotype_line(g)}")
    for failure in summary["failed_runs"]:
        print(f"  failed: {failure['genotype_hash']} seed {failure['seed']}: {failure['error']}")
    print(f"report: {summary['report']}")
    from orchestrator.tables.experiment_tables import next_for
    from orchestrator.commands.next_steps import print_next

    summary["next"] = next_for(summary["experiment_dir"])
    print_next(summary["next"])
    if args.json:
        print(json.dumps(summary))
    return 1 if summary["failed_runs"] else 0
