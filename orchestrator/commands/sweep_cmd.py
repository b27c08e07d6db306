"""`alphadarts sweep CONFIG`: the αDARTS knob sweep on Ray Tune (Optuna TPE + ASHA).

Writes the experiment directory `<output_dir>/<name>-sweep/` (see orchestrator/sweep.py and
docs/sweep.md). Rerunning the same name, or `--resume`, continues an interrupted sweep:
finished trials are kept, unfinished ones continue from their last checkpoint.
"""

from __future__ import annotations

import json
import sys

from orchestrator.cluster import run_stage
from orchestrator.config import add_config_arguments, load_config
from orchestrator.ray_runtime import add_address_argument

#: exit code of a sweep that a SIGINT stopped before every trial finished (as for Ctrl+C).
INTERRUPTED = 130


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("sweep", help="sweep mask ratio, seed, decoder depth... on Ray Tune")
    add_config_arguments(parser)
    add_address_argument(parser)
    parser.add_argument("--resume", action="store_true",
                        help="continue the interrupted sweep of this name (an error if there is none)")
    parser.add_argument("--json", action="store_true", help="end with one JSON line of results")
    parser.set_defaults(run=run)


def run(args) -> int:
    from orchestrator.sweep import run_sweep  # imports Ray Tune: only when sweeping

    config = load_config(args.config, args.overrides)
    summary = run_stage(run_sweep, config, address=args.address, resume=args.resume)
    counts = ", ".join(f"{n} {status}" for status, n in summary["trials_by_status"].items())
    print(f"experiment directory: {summary['experiment_dir']}")
    print(f"trials: {summary['num_trials']} ({counts or 'none'})")
    best = summary["best"]
    if best:
        knobs = " ".join(f"{k}={v}" for k, v in best["knobs"].items())
        print(f"best: trial {best['trial_id']} {knobs}: {best['metric']} {best['objective']:.4f} "
              f"after {best['epochs']} epochs")
        print(f"genotype: {best['genotype']}")
    print(f"leaderboard: alphadarts results {summary['experiment_dir']}")
    if summary["interrupted"]:
        print("alphadarts: the sweep was interrupted; rerun the same command with --resume "
              "to finish it", file=sys.stderr)
    if args.json:
        print(json.dumps(summary))
    return INTERRUPTED if summary["interrupted"] else 0
