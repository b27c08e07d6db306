"""`alphadarts sweep CONFIG`: the αDARTS knob sweep on Ray Tune (Optuna TPE + ASHA).

Writes the experiment directory `<output_dir>/<name>-sweep/` (see orchestrator/stages/sweep.py and
docs/sweep.md). Rerunning the same name, or `--resume`, continues an interrupted sweep:
finished trials are kept, unfinished ones continue from their last checkpoint.
"""

from __future__ import annotations

import json

from orchestrator.cluster.placement import run_stage
from orchestrator.commands.stage_args import add_stage_arguments
from orchestrator.config import load_config


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("sweep", help="sweep mask ratio, seed, decoder depth... on Ray Tune")
    add_stage_arguments(parser)
    parser.add_argument("--resume", action="store_true",
                        help="continue the interrupted sweep of this name (an error if there is none)")
    parser.set_defaults(run=run)


def run(args) -> int:
    from orchestrator.interrupts import Interrupted

    config = load_config(args.config, args.overrides)  # bad input: exit 2 before Ray loads
    from orchestrator.stages.sweep import experiment_dir, run_sweep, where_sweep_stopped  # imports Ray Tune

    summary = run_stage(run_sweep, config, address=args.address, resume=args.resume, restart=args.restart,
                        resource_wait=args.resource_wait)
    if summary["interrupted"]:  # stopped by SIGINT/SIGTERM: one line, exit 130/143 (cli.py)
        raise Interrupted(where_sweep_stopped(experiment_dir(config), config.sweep.num_samples),
                          ("--resume",))
    counts = ", ".join(f"{n} {status}" for status, n in summary["trials_by_status"].items())
    print(f"experiment directory: {summary['experiment_dir']}")
    print(f"trials: {summary['num_trials']} ({counts or 'none'})")
    best = summary["best"]
    if best:
        knobs = " ".join(f"{k}={v}" for k, v in best["knobs"].items())
        print(f"best: trial {best['trial_id']} {knobs}: {best['metric']} {best['objective']:.4f} "
              f"after {best['epochs']} epochs")
        print(f"genotype: {best['genotype']}")
    from orchestrator.tables.experiment_tables import next_for
    from orchestrator.commands.next_steps import print_next

    print_next(next_for(summary["experiment_dir"]))
    if args.json:
        print(json.dumps(summary))
    return 0
