"""`alphadarts inspect`: parameters and multiply-adds of a genotype's network or a supernet.

Params exclude the auxiliary head and α, as the DARTS papers count them; MACs are one
eval-mode forward pass at the dataset's input size (batch 1).
"""

from __future__ import annotations

import argparse
import json

from orchestrator.errors import UsageError
from search_space import (
    build_network,
    build_supernet,
    count_macs,
    count_parameters,
    parse_genotype,
)
from trainables.config import DataConfig
from trainables.datasets import DATASETS

#: (space, supernet?) -> (channels, layers) when the flags are not given.
DEFAULT_SIZES: dict[tuple[str, bool], tuple[int, int]] = {
    ("darts", False): (36, 20),
    ("darts", True): (16, 8),
    ("nb201", False): (16, 5),
    ("nb201", True): (16, 5),
}
#: DARTS's ImageNet mobile setting (C=48, 14 cells), the default for --dataset imagenet.
IMAGENET_DARTS_SIZE = (48, 14)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "inspect",
        help="parameters and MACs of a genotype's network or of a supernet",
        description=__doc__,
    )
    parser.add_argument("--space", required=True, choices=("darts", "nb201"))
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument(
        "--genotype",
        metavar="NAME|STRING|FILE",
        help="published name, genotype string or .json file",
    )
    what.add_argument("--supernet", action="store_true", help="inspect the search supernet instead")
    parser.add_argument(
        "--dataset", default="cifar10", help=f"one of {', '.join(DATASETS)} (default cifar10)"
    )
    parser.add_argument(
        "--channels",
        type=int,
        help="initial channels C (darts 36, imagenet 48, supernet 16; nb201 16)",
    )
    parser.add_argument(
        "--layers",
        type=int,
        help="cells (darts 20, imagenet 14, supernet 8); nb201: cells per stage (5)",
    )
    parser.add_argument(
        "--auxiliary", action="store_true", help="build the auxiliary head (not counted)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(run=run)


def inspect(args: argparse.Namespace) -> dict[str, object]:
    """The report as a dict (JSON-able)."""
    if args.dataset not in DATASETS:
        raise UsageError(
            f"--dataset {args.dataset!r} is not known; allowed: {', '.join(DATASETS)}."
        )
    data = DATASETS[args.dataset]
    # Offline datasets have no native size or class count: the config's defaults stand in.
    defaults = DataConfig()
    image_size = data.image_size or defaults.image_size
    num_classes = data.num_classes or defaults.synthetic_classes
    default_channels, default_layers = DEFAULT_SIZES[(args.space, bool(args.supernet))]
    if args.space == "darts" and not args.supernet and data.network == "imagenet":
        default_channels, default_layers = IMAGENET_DARTS_SIZE
    channels = default_channels if args.channels is None else args.channels
    layers = default_layers if args.layers is None else args.layers
    input_shape = [1, 3, image_size, image_size]
    genotype = None
    if args.supernet:
        if args.auxiliary:
            raise UsageError(
                "--auxiliary is not allowed with --supernet; supernets have no auxiliary head."
            )
        model = build_supernet(args.space, num_classes, channels, layers)
    else:
        genotype = parse_genotype(args.space, args.genotype)
        model = build_network(
            args.space,
            genotype,
            num_classes,
            channels,
            layers,
            auxiliary=args.auxiliary,
            dataset=data.network,
        )
    return {
        "space": args.space,
        "model": "supernet" if args.supernet else "network",
        "genotype": None if genotype is None else str(genotype),
        "genotype_hash": None if genotype is None else genotype.key,
        "dataset": args.dataset,
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
