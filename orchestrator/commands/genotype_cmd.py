"""`alphadarts genotype`: derive the genotype an α file selects, by the space's own rule
(DARTS: per node the 2 strongest incoming edges, on each its strongest op but `none`;
NAS-Bench-201: per edge the strongest op, `none` included); or, with `--genotype`, print the
genotype any reference names (a published name, a string, JSON, DIR:TRIAL_ID, DIR:HASH of an
experiment's directory) as its string, hash and JSON.

The α file is JSON: {"normal": [[...]], "reduce": [[...]]} for darts (14 x 8 each),
{"cell": [[...]]} for nb201 (6 x 5); one row per edge, one column per op in the order
listed below.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from orchestrator.errors import UsageError
from search_space.catalog import space_facts, space_names


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "genotype", help="derive the genotype from an α JSON file", description=__doc__,
        epilog="op order (the α columns): " + "; ".join(
            f"{name}: {', '.join(space_facts(name).ops)}" for name in space_names()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--space", choices=space_names(),
                        help="the α's space (needed with --alphas); with --genotype, default: its own")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--alphas", metavar="FILE.json", help="α as JSON matrices")
    source.add_argument("--genotype", metavar="NAME|STRING|FILE|DIR:TRIAL|DIR:HASH",
                        help="print the genotype this names: published name, genotype string, JSON or "
                             ".json file, or DIR:TRIAL_ID / DIR:HASH of a sweep's, retrain's or pipeline's directory")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(run=run)


def read_alphas(space: str, path: str) -> dict[str, object]:
    """Load an α file: a JSON object (keys, shapes and values are checked by
    `validate_alphas`, once)."""
    file = Path(path)
    if not file.is_file():
        raise UsageError(f"--alphas file {path!r} does not exist.")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"--alphas file {path!r} is not valid JSON: {exc}.") from None
    if not isinstance(data, dict):
        from search_space import alpha_shapes  # torch

        raise UsageError(
            f"--alphas file {path!r} holds a {type(data).__name__}; expected an object with keys "
            f"{sorted(alpha_shapes(space))}."
        )
    return data


def run(args: argparse.Namespace) -> int:
    if args.genotype is not None:
        return _named(args)
    if args.space is None:
        raise UsageError("--alphas needs --space (darts or nb201): which space's α the file holds")
    raw = read_alphas(args.space, args.alphas)
    from search_space import alpha_entropy, get_space, validate_alphas  # torch: not for --help

    alphas = validate_alphas(args.space, raw)  # keys, shapes, values: SearchSpaceError -> exit 2
    genotype = get_space(args.space).derive(alphas)
    if args.json:
        report = genotype.to_dict()
        report.update(
            str=str(genotype),
            hash=genotype.key,
            alpha_entropy=alpha_entropy(alphas),
            num_parameter_free_ops=genotype.num_parameter_free_ops(),
        )
        print(json.dumps(report))
    else:
        print(genotype)
        print(f"hash {genotype.key}  entropy {alpha_entropy(alphas):.4f} nats  "
              f"parameter-free ops {genotype.num_parameter_free_ops()}")
    return 0


def _named(args: argparse.Namespace) -> int:
    """`--genotype REF`: the genotype as text, hash and JSON, and where it came from."""
    from orchestrator.tables.genotype_ref import resolve
    from orchestrator.commands.next_steps import command, print_next

    ref = resolve(args.genotype, args.space, space_rule=f"--space is {args.space!r}")
    genotype = ref.genotype
    if args.json:
        print(json.dumps({**genotype.to_dict(), "str": str(genotype), "hash": genotype.key,
                          "num_parameter_free_ops": genotype.num_parameter_free_ops(),
                          "source_trials": list(ref.source_trials), "knobs": ref.knobs}))
        return 0
    print(genotype)
    origin = f"  from trials {', '.join(ref.source_trials)} of {ref.experiment.sweep}" if ref.source_trials else ""
    print(f"hash {genotype.key}  parameter-free ops {genotype.num_parameter_free_ops()}{origin}")
    print(f"JSON {genotype.to_json()}")
    print_next([command("inspect", "--genotype", args.genotype)])
    return 0
