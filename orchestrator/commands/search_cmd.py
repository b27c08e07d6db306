"""`alphadarts search CONFIG`: one αDARTS supernet search on Ray Train.

Writes the run directory `<output_dir>/<name>/`: Ray's checkpoints, `epochs.jsonl` (one
line per epoch), `genotype.json`, `alphas.json` and `config.json` (the config it ran with).
Rerunning the same name with the same settings resumes from the last checkpoint (or, when
the search had finished, prints its result); with other settings it is refused, unless
`--restart` (the old run is moved aside).
"""

from __future__ import annotations

import json
import logging

from orchestrator.cluster.placement import run_stage
from orchestrator.commands.stage_args import add_stage_arguments
from orchestrator.config import load_config

log = logging.getLogger(__name__)


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("search", help="run one αDARTS supernet search on Ray Train")
    add_stage_arguments(parser)
    parser.set_defaults(run=run)


def run(args) -> int:
    config = load_config(args.config, args.overrides)  # bad input: exit 2 before torch loads
    from orchestrator.stages.search_run import run_search_on_ray

    summary = run_stage(run_search_on_ray, config, address=args.address, restart=args.restart,
                        resource_wait=args.resource_wait)
    if summary.get("finished_before"):
        n = config.search.epochs
        print(f"the search {config.name} finished before ({n} epoch{'s' if n != 1 else ''}); nothing "
              "ran now. Its result (--restart starts it over):")
    print(f"run directory: {summary['run_dir']}")
    print(f"genotype: {summary['genotype']['str']}")
    last = summary["metrics"]
    print(
        f"epoch {last['epoch']}: alpha_acc {last['alpha_acc']:.4f}  weights_acc "
        f"{last['weights_acc']:.4f}  mim_loss {last['mim_loss']:.4f}  "
        f"param-free ops {last['param_free_ops']}"
    )
    from orchestrator.commands.next_steps import command, configured_seeds, print_next
    from orchestrator.cluster.storage import is_uri, join

    if not is_uri(summary["run_dir"]):  # the commands below read local files
        genotype_file = join(summary["run_dir"], "genotype.json")
        print_next([command("inspect", "--genotype", genotype_file),
                    command("retrain", summary["run_dir"], "--genotype", genotype_file,
                            "--seeds", configured_seeds(summary["run_dir"]))])
    if args.json:
        print(json.dumps(summary))
    return 0
