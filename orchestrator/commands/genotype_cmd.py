"""`alphadarts genotype`: derive the genotype an α file selects (METHOD.md's rules).

The α file is JSON: {"normal": [[...]], "reduce": [[...]]} for darts (14 x 8 each),
{"cell": [[...]]} for nb201 (6 x 5), ops in METHOD.md order.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from orchestrator.errors import UsageError
from search_space import ALPHA_SHAPES, alpha_entropy, derive_genotype, validate_alphas


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "genotype", help="derive the genotype from an α JSON file", description=__doc__
    )
    parser.add_argument("--space", required=True, choices=("darts", "nb201"))
    parser.add_argument("--alphas", required=True, metavar="FILE.json", help="α as JSON matrices")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(run=run)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def read_alphas(space: str, path: str) -> dict[str, list[list[float]]]:
    """Load and check an α file: keys of `space`, each a matrix of finite numbers."""
    file = Path(path)
    if not file.is_file():
        raise UsageError(f"--alphas file {path!r} does not exist.")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"--alphas file {path!r} is not valid JSON: {exc}.") from None
    expected = ALPHA_SHAPES[space]
    if not isinstance(data, dict):
        raise UsageError(
            f"--alphas file {path!r} holds a {type(data).__name__}; expected an object with keys "
            f"{sorted(expected)}."
        )
    for key, value in data.items():
        if not (
            isinstance(value, list)
            and all(isinstance(row, list) and all(_is_number(v) for v in row) for row in value)
        ):
            raise UsageError(
                f"--alphas file {path!r}: {key!r} is not a list of lists of numbers "
                f"(expected shape {expected.get(key, '(edges, ops)')})."
            )
        if any(not math.isfinite(v) for row in value for v in row):
            raise UsageError(f"--alphas file {path!r}: {key!r} contains non-finite numbers.")
    return data


def run(args: argparse.Namespace) -> int:
    raw = read_alphas(args.space, args.alphas)
    alphas = validate_alphas(args.space, raw)  # keys and shapes: SearchSpaceError -> exit 2
    genotype = derive_genotype(args.space, alphas)
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
