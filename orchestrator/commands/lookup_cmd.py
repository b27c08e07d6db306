"""`alphadarts lookup --genotype G [--benchmark DIR] [--json]`: NAS-Bench-201's ground truth
for a cell: the accuracy its network reached under the benchmark's 200-epoch schedule on
CIFAR-10, CIFAR-100 and ImageNet16-120 (validation and test, mean ± std over the benchmark's
seeds), its parameters and FLOPs.

G is a published name (NB201_RESNET, NB201_ALL_SKIP), a benchmark string, JSON, a .json file,
or DIR:TRIAL_ID or DIR:HASH (a hash or a unique prefix) of an NB-201 experiment's directory
(a sweep's, a retrain's or a pipeline's). DIR is the benchmark users download,
NATS-tss-v1_0-3ffb9-simple/ (or the single file NATS-tss-v1_0-3ffb9.pickle.pbz2); default
$TORCH_HOME/NATS-tss-v1_0-3ffb9-simple, where the official API looks ($TORCH_HOME unset:
~/.torch). Select on the validation accuracy; report the test accuracy, never select on it.
A cell the benchmark copy lacks is reported as not in the benchmark (exit 0).
"""

from __future__ import annotations

import argparse
import contextlib
import json

from orchestrator.errors import UsageError

DATASET_TITLES = {"cifar10": "CIFAR-10", "cifar100": "CIFAR-100", "ImageNet16-120": "ImageNet16-120"}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "lookup", help="NAS-Bench-201's accuracy of a cell (3 datasets, valid and test)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--genotype", required=True, metavar="NAME|STRING|FILE|DIR:TRIAL|DIR:HASH",
                        help="published name, NB-201 string, JSON or .json file, or DIR:TRIAL_ID / DIR:HASH "
                             "of a sweep's, retrain's or pipeline's directory")
    parser.add_argument("--benchmark", metavar="DIR",
                        help="NATS-tss-v1_0-3ffb9-simple/ (default: under $TORCH_HOME, else ~/.torch)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(run=run)


def open_benchmark(path: str | None):
    """The benchmark at `--benchmark`, or at the API's default location; UsageError naming
    the path, what was expected and where to get it."""
    from trainables.nb201_benchmark import WHERE_TO_GET, Nb201Benchmark, default_location

    if path is None and not default_location().exists():
        raise UsageError(f"--benchmark not given and no NAS-Bench-201 benchmark at {default_location()} "
                         "($TORCH_HOME/NATS-tss-v1_0-3ffb9-simple, ~/.torch without $TORCH_HOME); "
                         f"give --benchmark DIR or put it there: {WHERE_TO_GET}")
    with _named(path):
        return Nb201Benchmark.open(default_location() if path is None else path)


@contextlib.contextmanager
def _named(path: str | None):
    """A benchmark file's error (missing, foreign, unsafe) as the line naming the flag."""
    from trainables.errors import InputError
    from trainables.nb201_benchmark import default_location

    try:
        yield
    except InputError as exc:
        field, value = ("the default benchmark", str(default_location())) if path is None else ("--benchmark", path)
        raise UsageError(f"{field} {value!r}: {exc}") from None


def resolve_cell(text: str):
    """The NB-201 genotype `text` names (orchestrator.tables.genotype_ref: any genotype reference)."""
    from orchestrator.tables.genotype_ref import resolve

    return resolve(text, "nb201", space_rule="lookup reads NAS-Bench-201 cells only").genotype


def lookup(args: argparse.Namespace) -> dict:
    """The report as a JSON-able dict."""
    from trainables.nb201_benchmark import SCHEDULE, STATUS_FOUND, STATUS_NOT_IN_BENCHMARK, NotInBenchmark

    benchmark = open_benchmark(args.benchmark)
    genotype = resolve_cell(args.genotype)
    with _named(args.benchmark):
        found = benchmark.lookup(str(genotype))
    report = {"genotype": str(genotype), "genotype_hash": genotype.key, "benchmark": str(benchmark.path),
              "benchmark_form": benchmark.files.form, "schedule_epochs": int(SCHEDULE), "unit": "percent"}
    if isinstance(found, NotInBenchmark):
        return {**report, "status": STATUS_NOT_IN_BENCHMARK, "index": found.index, "reason": found.reason,
                "datasets": None}
    return {**report, "status": STATUS_FOUND, "index": found.index, "reason": None,
            "datasets": {name: result.to_dict() for name, result in found.datasets.items()}}


def _accuracy_text(acc: dict | None) -> str:
    return "-" if acc is None else f"{acc['mean']:.2f} ± {acc['std']:.2f} ({len(acc['seeds'])})"


def _human(report: dict) -> str:
    from trainables.nb201_benchmark.reference import REFERENCE_TEST_ACCURACY

    index = "-" if report["index"] is None else f"{report['index']} of 15,625"
    lines = [f"cell       {report['genotype']}", f"index      {index} in {report['benchmark']}"]
    if report["datasets"] is None:
        lines.append(f"not in the benchmark: {report['reason']}")
        return "\n".join(lines)
    lines += [f"schedule   {report['schedule_epochs']} epochs; top-1 accuracy %, mean ± std over the "
              "benchmark's seeds (how many)", "",
              f"{'dataset':<16} {'valid (select)':<20} {'test (report)':<20} {'params':>9} {'FLOPs':>10}"]
    for name, result in report["datasets"].items():
        params = "-" if result["params_m"] is None else f"{result['params_m']:.3f} M"
        flops = "-" if result["flops_m"] is None else f"{result['flops_m']:.2f} M"
        lines.append(f"{DATASET_TITLES[name]:<16} {_accuracy_text(result['valid']):<20} "
                     f"{_accuracy_text(result['test']):<20} {params:>9} {flops:>10}")
    lines += ["", "CIFAR-10 valid: the network trained on the training half (cifar10-valid/x-valid); "
              "test: trained on train + valid (cifar10/ori-test)."]
    refs = "; ".join(f"{name} " + " / ".join(f"{v:.2f}" for v in values.values())
                     + ("" if len(values) == len(DATASET_TITLES) else f" ({', '.join(DATASET_TITLES[d] for d in values)})")
                     for name, (_, values) in REFERENCE_TEST_ACCURACY.items())
    lines.append(f"reference test accuracies (CIFAR-10 / CIFAR-100 / ImageNet16-120): {refs}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    report = lookup(args)
    print(json.dumps(report) if args.json else _human(report))
    return 0
