"""`alphadarts retrain CONFIG --genotype G [--seeds N]`: train one genotype from scratch
with N seeds (the config's `retrain` section), as parallel Ray Tune trials of Ray Train runs.

G is a published name, a genotype string, JSON or a .json file, or DIR:TRIAL_ID or DIR:HASH
(a hash or a unique prefix, as a leaderboard prints it) of a sweep's, a retrain's or a
pipeline's directory. CONFIG may be such a directory too: the config it ran with, writing
beside it. Writes `<output_dir>/<name>-retrain/` with `retrain.parquet` (one row per seed) and
prints the final epoch's test accuracy as mean ± std over the seeds, then what to run next.
"""

from __future__ import annotations

import json
import sys

from orchestrator.cluster.placement import run_stage
from orchestrator.commands.stage_args import add_stage_arguments
from orchestrator.config import load_config


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("retrain", help="train a genotype from scratch over N seeds")
    add_stage_arguments(parser)
    parser.add_argument("--genotype", required=True, metavar="NAME|STRING|FILE|DIR:TRIAL|DIR:HASH",
                        help="published name, genotype string, JSON or .json file, or DIR:TRIAL_ID / DIR:HASH "
                             "of a sweep's, retrain's or pipeline's directory")
    parser.add_argument("--seeds", type=int, default=1,
                        help="how many seeds, from retrain.seed on (default 1)")
    parser.set_defaults(run=run)


def genotype_line(g: dict) -> str:
    """A leaderboard row (`retrain_table.genotype_leaderboard`) as one line."""
    if g["test_acc_mean"] is None:
        return "no seed finished"
    spread = "" if g["test_acc_std"] is None else f" ± {100 * g['test_acc_std']:.2f}"
    return (f"test_acc {100 * g['test_acc_mean']:.2f}{spread} % over {g['seeds']} seed(s), "
            f"{g['params'] / 1e6:.3f} M params, {g['macs'] / 1e6:.1f} M MACs")


def run(args) -> int:
    config = load_config(args.config, args.overrides)  # bad input: exit 2 before Ray loads
    from orchestrator.tables.experiment_tables import next_for
    from orchestrator.commands.next_steps import print_next
    from orchestrator.stages.retrain import resolve_genotype, run_retrain  # imports pyarrow; Ray later

    target = resolve_genotype(config.retrain.space, args.genotype)
    summary = run_stage(run_retrain, config, address=args.address, targets=[target], seeds=args.seeds,
                        restart=args.restart, resource_wait=args.resource_wait)
    print(f"experiment directory: {summary['experiment_dir']}")
    if not summary["runs"]:
        print("every seed asked for was retrained before (retrain.parquet): nothing ran")
    for run_row in summary["runs"]:
        acc = "-" if run_row["test_acc"] is None else f"{100 * run_row['test_acc']:.2f} %"
        print(f"  seed {run_row['seed']}: {run_row['status']}  test_acc {acc}  ({run_row['run_dir']})")
        if run_row["error"]:
            print(f"  seed {run_row['seed']} failed: {run_row['error']}", file=sys.stderr)
    for g in summary["genotypes"]:
        print(f"{g['genotype_hash']}: {genotype_line(g)}\n  {g['genotype']}")
    print_next(next_for(summary["experiment_dir"]))
    if args.json:
        print(json.dumps(summary))
    finished = all(r["status"] == "TERMINATED" for r in summary["runs"])
    return 0 if finished else 1
