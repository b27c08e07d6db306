"""`alphadarts inspect`: parameters and multiply-adds of a genotype's network or a supernet.

Params exclude the auxiliary head and α, as the DARTS papers count them; MACs are one
eval-mode forward pass at the dataset's input size (batch 1). A genotype named by an
experiment (DIR:HASH, DIR:TRIAL_ID) is built as that experiment retrains it: its space, data,
channels and layers (flags still override), so the counts match its retrain leaderboard.
"""

from __future__ import annotations

import argparse
import json

from orchestrator.errors import UsageError
from search_space.catalog import published_names, space_names
from trainables.config import DataConfig
from trainables.datasets import DATASETS


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "inspect",
        help="parameters and MACs of a genotype's network or of a supernet",
        description=__doc__,
        epilog="published genotypes: " + "; ".join(
            f"{name}: {', '.join(published_names(name))}" for name in space_names()),
    )
    parser.add_argument("--space", choices=space_names(),
                        help="default: the genotype's own (needed with --supernet)")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument(
        "--genotype",
        metavar="NAME|STRING|FILE|DIR:TRIAL|DIR:HASH",
        help="published name, genotype string, JSON or .json file, or DIR:TRIAL_ID / DIR:HASH (a hash "
             "or a unique prefix) of a sweep's, retrain's or pipeline's directory: then the network is "
             "the one that experiment retrains (its retrain section's data, channels and layers)",
    )
    what.add_argument("--supernet", action="store_true", help="inspect the search supernet instead")
    parser.add_argument(
        "--dataset", help=f"one of {', '.join(DATASETS)} (default: the experiment's, else cifar10)"
    )
    parser.add_argument(
        "--channels",
        type=int,
        help="initial channels C (default: the experiment's, else the space's own for the network "
             "family or supernet)",
    )
    parser.add_argument(
        "--layers",
        type=int,
        help="cells (darts) or cells per stage (nb201) (default: the experiment's, else the space's own)",
    )
    parser.add_argument(
        "--auxiliary", action="store_true", help="build the auxiliary head (not counted)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(run=run)


def inspect(args: argparse.Namespace) -> dict[str, object]:
    """The report as a dict (JSON-able)."""
    from search_space import (  # torch: imported by the command, not by its parser
        build_network,
        build_supernet,
        count_macs,
        count_parameters,
        get_space,
    )

    ref = training = None
    space_name = args.space
    if args.supernet:
        if space_name is None:
            raise UsageError("--supernet needs --space (darts or nb201): which supernet to build")
    else:
        from orchestrator.tables.genotype_ref import resolve, retrain_config

        ref = resolve(args.genotype, args.space, space_rule=f"--space is {args.space!r}")
        space_name = ref.genotype.space
        training = retrain_config(ref) if ref.experiment is not None else None
    dataset = args.dataset or (training.data.dataset if training is not None else "cifar10")
    if dataset not in DATASETS:
        raise UsageError(
            f"--dataset {dataset!r} is not known; allowed: {', '.join(DATASETS)}."
        )
    data = DATASETS[dataset]
    if training is not None and args.dataset is None:  # the experiment's own data: its size, its classes
        image_size, num_classes = training.data.resolved_image_size, training.data.num_classes
    else:  # offline datasets have no native size or class count: the config's defaults stand in
        defaults = DataConfig()
        image_size = data.image_size or defaults.image_size
        num_classes = data.num_classes or defaults.synthetic_classes
    space = get_space(space_name)
    sizes = space.supernet_size if args.supernet else space.network_sizes.get(data.network)
    if sizes is None:
        raise UsageError(
            f"--dataset {dataset!r} needs a {data.network} network, which the "
            f"{space_name} space does not build; its kinds: {', '.join(space.network_sizes)}."
        )
    if training is not None:
        sizes = (training.model.channels, training.model.layers)
    default_channels, default_layers = sizes
    channels = default_channels if args.channels is None else args.channels
    layers = default_layers if args.layers is None else args.layers
    input_shape = [1, 3, image_size, image_size]
    genotype = None
    if args.supernet:
        if args.auxiliary:
            raise UsageError(
                "--auxiliary is not allowed with --supernet; supernets have no auxiliary head."
            )
        model = build_supernet(space_name, num_classes, channels, layers)
    else:
        genotype = ref.genotype
        model = build_network(
            space_name,
            genotype,
            num_classes,
            channels,
            layers,
            auxiliary=args.auxiliary,
            family=data.network,
        )
    return {
        "space": space_name,
        "model": "supernet" if args.supernet else "network",
        "genotype": None if genotype is None else str(genotype),
        "genotype_hash": None if genotype is None else genotype.key,
        "experiment": None if ref is None or ref.experiment is None else ref.experiment.asked,
        "dataset": dataset,
        "num_classes": num_classes,
        "input_shape": input_shape,
        "channels": channels,
        "layers": layers,
        "auxiliary": bool(args.auxiliary),
        "params": count_parameters(model),
        "macs": count_macs(model, input_shape),
    }


def _human(report: dict[str, object]) -> str:
    params, macs = int(report["params"]), int(report["macs"])  # type: ignore[call-overload]
    rows = [
        ("space", report["space"]),
        ("model", report["model"]),
        ("genotype", report["genotype"] or "-"),
        *([("hash", report["genotype_hash"])] if report["genotype_hash"] else []),
        *([("sizes from", f"{report['experiment']} (its retrain section)")] if report["experiment"] else []),
        ("dataset", f"{report['dataset']} ({report['num_classes']} classes)"),
        ("input", "x".join(str(d) for d in report["input_shape"])),  # type: ignore[attr-defined]
        ("channels", report["channels"]),
        ("layers", report["layers"]),
        ("auxiliary", "yes (not counted)" if report["auxiliary"] else "no"),
        ("params", f"{params:,} ({params / 1e6:.2f} M)"),
        ("macs", f"{macs:,} ({macs / 1e6:.1f} M)"),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def run(args: argparse.Namespace) -> int:
    report = inspect(args)
    print(json.dumps(report) if args.json else _human(report))
    return 0
