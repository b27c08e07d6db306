"""Does MIM find better cells than plain DARTS? A measured experiment at proxy scale, with the
sweep's own objective and selection, in-process (no Ray).

1. For each mask ratio (0 = plain DARTS, through the same code path) and each seed, one
   search (`run_search`, the sweep's search config: the proxy's held-out images set aside)
   records per epoch the collapse signals: parameter-free ops in the derived normal cell,
   the entropy of softmax(α) and the mean strongest-op weight. Its final genotype is scored
   as a sweep scores it: `proxy_acc`, the genotype trained from scratch by the `proxy`
   section and measured on the held-out images.
2. The pipeline's default selection (`orchestrator.stages.selection`, `by: mask_ratio`) picks the
   best genotype of each mask ratio by that score.
3. Each selected genotype is trained from scratch with the `retrain` section over
   `--retrain-seeds` seeds; its final-epoch test accuracy (the test split, read only here)
   is the answer per mask ratio.

Runs go to a `multiprocessing` pool of `--processes` workers, one torch thread each.

    python -m orchestrator.experiments.collapse --mask-ratios 0,0.5,0.75 --seeds 5 \
        --retrain-seeds 3 --processes 2 --out docs/fidelity.md

writes the page and, next to it, the raw results as JSON (`<out stem>_results.json`),
rewritten after every finished run (`--resume` keeps the finished runs of the same config
and runs the rest). `--from-json FILE` regenerates the page from that JSON without running
anything. The page's tables are generated; the text between the `<!-- reading -->` markers
is written by hand and kept when the page is regenerated.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import platform
import shlex
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

from orchestrator.config import ExperimentConfig, load_config
from orchestrator.errors import UsageError

PROG = "python -m orchestrator.experiments.collapse"
READING_START, READING_END = "<!-- reading -->", "<!-- /reading -->"
NO_READING = "_(no reading written yet: the numbers above are all there is.)_"
EPOCH_SIGNALS = ("epoch", "param_free_ops", "alpha_entropy", "alpha_top_weight", "alpha_acc",
                 "mim_active", "genotype_hash")


class _Parser(argparse.ArgumentParser):
    """Bad flags: one line on stderr, exit code 2."""

    def error(self, message: str) -> None:  # noqa: D401 - argparse API
        self.exit(2, f"{PROG}: error: {message}\n")


def _mask_ratios(text: str) -> list[float]:
    try:
        ratios = [float(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of numbers") from None
    if not all(0.0 <= r < 1.0 for r in ratios) or len(set(ratios)) != len(ratios):
        raise argparse.ArgumentTypeError(f"{text!r}: mask ratios must be distinct and in [0, 1)")
    return ratios


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive integer")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description=__doc__.splitlines()[0])
    p.add_argument("--config", default="quickstart", help="preset name or YAML path (default quickstart)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="config override, as for the CLI (repeatable)")
    p.add_argument("--mask-ratios", type=_mask_ratios, default=[0.0, 0.5, 0.75],
                   help="comma-separated; 0 is plain DARTS (default 0,0.5,0.75)")
    p.add_argument("--seeds", type=_positive, default=5, help="search seeds 0..N-1 per ratio (default 5)")
    p.add_argument("--epochs", type=_positive, default=None, help="search epochs (default: the config's)")
    p.add_argument("--retrain-seeds", type=_positive, default=3,
                   help="retrain seeds per selected genotype (default 3)")
    p.add_argument("--processes", type=_positive, default=2, help="pool workers, 1 torch thread each")
    p.add_argument("--out", type=Path, default=Path("docs/fidelity.md"), help="the page to write")
    p.add_argument("--resume", action="store_true",
                   help="keep the finished runs of the JSON next to --out (same config) and run the rest")
    p.add_argument("--from-json", type=Path, default=None, metavar="FILE",
                   help="regenerate the page from a results JSON; runs nothing")
    return p


def resolve_config(args) -> ExperimentConfig:
    overrides = list(args.overrides)
    if args.epochs is not None:
        overrides.append(f"search.epochs={args.epochs}")
    config = load_config(args.config, overrides)
    if config.proxy is None:
        raise UsageError(f"config {args.config!r} has no proxy section: the experiment scores genotypes with it")
    return config


# ---------------------------------------------------------------- the runs

def search_one(job: dict) -> dict:
    """One search at (mask ratio, seed) and the proxy score of its final genotype."""
    from trainables.reporters import MemoryReporter
    from trainables.search_loop import run_search
    from trainables.train_loop import proxy_accuracy

    config = load_config(job["config"], job["overrides"] + [
        f"search.mim.mask_ratio={job['mask_ratio']}", f"search.seed={job['seed']}"])
    started = time.perf_counter()
    reporter = MemoryReporter()
    outcome = run_search(config.sweep_search, reporter)
    search_s = time.perf_counter() - started
    started = time.perf_counter()
    score = proxy_accuracy(config.proxy, outcome.genotype)
    return {
        "kind": "search", "mask_ratio": job["mask_ratio"], "seed": job["seed"],
        "epochs": [{k: m[k] for k in EPOCH_SIGNALS} for m in reporter.metrics],
        "genotype": outcome.genotype.to_dict(), "genotype_hash": outcome.genotype.key,
        "param_free_ops_reduce": outcome.genotype.num_parameter_free_ops("reduce"),
        "proxy_acc": score, "search_s": search_s, "proxy_s": time.perf_counter() - started,
    }


def retrain_one(job: dict) -> dict:
    """One selected genotype trained from scratch with the retrain section and one seed."""
    from search_space import genotype_from_dict
    from trainables.reporters import MemoryReporter
    from trainables.train_loop import run_train

    config = load_config(job["config"], job["overrides"] + [f"retrain.seed={job['seed']}"])
    started = time.perf_counter()
    outcome = run_train(config.retrain, genotype_from_dict(job["genotype"]), MemoryReporter())
    return {"kind": "retrain", "genotype_hash": job["genotype_hash"], "seed": job["seed"],
            "test_acc": outcome.test_acc, "params": outcome.params,
            "retrain_s": time.perf_counter() - started}


def select(runs: list[dict]) -> list[dict]:
    """The pipeline's default selection over the searches: the best genotype of each mask
    ratio by proxy_acc (a genotype two ratios found is retrained once)."""
    import pandas as pd

    from orchestrator.pipeline_config import SelectConfig
    from orchestrator.stages.selection import select_genotypes
    from search_space import genotype_from_dict

    rows = []
    for run in runs:
        genotype = genotype_from_dict(run["genotype"])
        rows.append({"trial_id": f"m{run['mask_ratio']:g}-s{run['seed']}", "mask_ratio": run["mask_ratio"],
                     "seed": run["seed"], "status": "TERMINATED", "objective": run["proxy_acc"],
                     "genotype": str(genotype), "genotype_json": genotype.to_json(),
                     "genotype_hash": genotype.key})
    meta = {"metric": "proxy_acc", "mode": "max", "knobs": ["mask_ratio", "seed"]}
    chosen = select_genotypes(pd.DataFrame(rows), meta, SelectConfig())
    found_at = {r["trial_id"]: r["mask_ratio"] for r in rows}
    return [{"genotype_hash": c.genotype_hash, "genotype": json.loads(c.genotype_json),
             "proxy_acc": c.objective,
             "mask_ratios": sorted({found_at[t] for t in c.source_trials})} for c in chosen]


def _init_worker() -> None:
    import torch

    torch.set_num_threads(1)


def _pool_map(fn, jobs: list[dict], processes: int):
    if not jobs:
        return
    if processes == 1:
        _init_worker()
        yield from map(fn, jobs)
        return
    with multiprocessing.get_context("spawn").Pool(processes, initializer=_init_worker) as pool:
        yield from pool.imap_unordered(fn, jobs)


def run_experiment(args, config: ExperimentConfig, argv: list[str], json_path: Path) -> dict:
    overrides = list(args.overrides) + [f"search.epochs={config.search.epochs}"]
    results = {
        "command": " ".join([PROG, *map(shlex.quote, argv)]),
        "machine": f"{platform.machine()}, {multiprocessing.cpu_count()} cores, "
                   f"{args.processes} process(es) x 1 torch thread",
        "mask_ratios": args.mask_ratios,
        "seeds": list(range(args.seeds)),
        "retrain_seeds": list(range(config.retrain.seed, config.retrain.seed + args.retrain_seeds)),
        "search": config.sweep_search.model_dump(mode="json"),
        "proxy": config.proxy.model_dump(mode="json"),
        "retrain": config.retrain.model_dump(mode="json"),
        "runs": [], "selected": [], "retrains": [], "wall_time_s": 0.0,
    }
    if args.resume and json_path.is_file():
        earlier = json.loads(json_path.read_text())
        if any(earlier.get(k) != results[k] for k in ("search", "proxy", "retrain")):
            raise UsageError(f"--resume: {json_path} was run with another config; move it away")
        planned = {(r, s) for r in args.mask_ratios for s in results["seeds"]}
        results["runs"] = [r for r in earlier["runs"] if (r["mask_ratio"], r["seed"]) in planned]
        results["retrains"] = earlier.get("retrains", [])
        results["wall_time_s"] = earlier.get("wall_time_s") or 0.0
    started = time.perf_counter() - results["wall_time_s"]

    def keep(entry: dict) -> None:
        results["runs" if entry["kind"] == "search" else "retrains"].append(entry)
        results["wall_time_s"] = time.perf_counter() - started
        _write_json(json_path, results)
        what = (f"search mask_ratio {entry['mask_ratio']} seed {entry['seed']}: proxy_acc {entry['proxy_acc']:.3f}"
                if entry["kind"] == "search" else
                f"retrain {entry['genotype_hash']} seed {entry['seed']}: test_acc {entry['test_acc']:.3f}")
        print(f"done: {what}  ({results['wall_time_s']:.0f} s)", flush=True)

    done = {(r["mask_ratio"], r["seed"]) for r in results["runs"]}
    jobs = [{"config": args.config, "overrides": overrides, "mask_ratio": r, "seed": s}
            for s in results["seeds"] for r in args.mask_ratios if (r, s) not in done]
    for run in _pool_map(search_one, jobs, args.processes):
        keep(run)
    results["runs"].sort(key=lambda r: (r["mask_ratio"], r["seed"]))

    results["selected"] = select(results["runs"])
    wanted = {(c["genotype_hash"], s) for c in results["selected"] for s in results["retrain_seeds"]}
    results["retrains"] = [r for r in results["retrains"] if (r["genotype_hash"], r["seed"]) in wanted]
    done = {(r["genotype_hash"], r["seed"]) for r in results["retrains"]}
    jobs = [{"config": args.config, "overrides": overrides, "genotype": c["genotype"],
             "genotype_hash": c["genotype_hash"], "seed": s}
            for c in results["selected"] for s in results["retrain_seeds"] if (c["genotype_hash"], s) not in done]
    for run in _pool_map(retrain_one, jobs, args.processes):
        keep(run)
    results["retrains"].sort(key=lambda r: (r["genotype_hash"], r["seed"]))
    results["wall_time_s"] = time.perf_counter() - started
    _write_json(json_path, results)
    return results


def _write_json(path: Path, results: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(results, indent=1) + "\n")
    tmp.replace(path)


# ---------------------------------------------------------------- the page

def _mean_std(values: list[float], digits: int) -> str:
    if not values:
        return "–"
    mean = statistics.fmean(values)
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def _by_ratio(results: dict) -> dict[float, list[dict]]:
    groups: dict[float, list[dict]] = defaultdict(list)
    for run in results["runs"]:
        groups[run["mask_ratio"]].append(run)
    return {r: groups[r] for r in sorted(groups)}


def _ratio_label(r: float) -> str:
    return f"{r:g} (DARTS)" if r == 0 else f"{r:g}"


def epoch_table(results: dict, key: str, digits: int) -> list[str]:
    groups = _by_ratio(results)
    epochs = max((len(run["epochs"]) for run in results["runs"]), default=0)
    lines = ["| epoch | " + " | ".join(f"mask {_ratio_label(r)}" for r in groups) + " |",
             "|---:|" + "---:|" * len(groups)]
    for e in range(epochs):
        cells = [_mean_std([run["epochs"][e][key] for run in runs if len(run["epochs"]) > e], digits)
                 for runs in groups.values()]
        lines.append(f"| {e + 1} | " + " | ".join(cells) + " |")
    return lines


def answer_table(results: dict) -> list[str]:
    """Per mask ratio: the searches' scores, the selected genotype and its retrained accuracy."""
    retrained = defaultdict(list)
    for r in results["retrains"]:
        retrained[r["genotype_hash"]].append(r["test_acc"])
    lines = ["| mask ratio | searches | proxy_acc (held out) | param-free ops (normal) | α entropy | "
             "selected genotype | its proxy_acc | retrained test acc | retrain seeds |",
             "|---|---:|---:|---:|---:|---|---:|---:|---:|"]
    for r, runs in _by_ratio(results).items():
        pick = next((c for c in results["selected"] if r in c["mask_ratios"]), None)
        accs = retrained.get(pick["genotype_hash"], []) if pick else []
        lines.append(
            f"| {_ratio_label(r)} | {len(runs)} | {_mean_std([run['proxy_acc'] for run in runs], 3)} | "
            f"{_mean_std([run['epochs'][-1]['param_free_ops'] for run in runs], 2)} | "
            f"{_mean_std([run['epochs'][-1]['alpha_entropy'] for run in runs], 3)} | "
            + (f"`{pick['genotype_hash']}` | {pick['proxy_acc']:.3f} | {_mean_std(accs, 3)} | {len(accs)} |"
               if pick else "– | – | – | 0 |"))
    return lines


def runs_table(results: dict) -> list[str]:
    lines = ["| mask ratio | seed | param-free ops per epoch | final α entropy | final top weight | "
             "genotype | proxy_acc |", "|---|---:|---|---:|---:|---|---:|"]
    for run in results["runs"]:
        last = run["epochs"][-1]
        lines.append(
            f"| {run['mask_ratio']:g} | {run['seed']} | "
            f"{' '.join(str(m['param_free_ops']) for m in run['epochs'])} | "
            f"{last['alpha_entropy']:.3f} | {last['alpha_top_weight']:.3f} | "
            f"`{run['genotype_hash']}` | {run['proxy_acc']:.3f} |"
        )
    return lines


def render_page(results: dict, reading: str, regenerated: bool) -> str:
    s, p, t = results["search"], results["proxy"], results["retrain"]
    sd, sm, mim = s["data"], s["model"], s["mim"]
    pd_, pm, td, tm = p["data"], p["model"], t["data"], t["model"]
    n_ops = 8 if sm["space"] == "darts" else 5
    done, planned = len(results["runs"]), len(results["mask_ratios"]) * len(results["seeds"])
    out = [
        "# Does MIM find better cells? Plain DARTS vs. DARTS + MIM at proxy scale",
        "",
        "Generated by `orchestrator/experiments/collapse.py` from the raw results in the JSON next to "
        f"this page (`{PROG} --from-json <json> --out <page>` regenerates it). The searches are "
        "scored, selected and retrained as `alphadarts pipeline` does it (the sweep's objective, "
        "`proxy_acc`, and its default selection, the best genotype of each mask ratio).",
        "",
        "## What was run",
        "",
        "```",
        results["command"],
        "```",
        "",
        f"- Wall time **{results['wall_time_s'] / 60:.1f} min** for {done} of {planned} searches, their proxy "
        f"scores and {len(results['retrains'])} retrainings, on {results['machine']}.",
        f"- Mask ratios {', '.join(f'{r:g}' for r in results['mask_ratios'])} (0 = plain DARTS through the "
        f"same code path) × seeds {results['seeds'][0]}–{results['seeds'][-1]}: one search each.",
        f"- Search: {sm['space']} space, C={sm['channels']}, {sm['layers']} cells; offline `{sd['dataset']}` at "
        f"{sd['image_size']}×{sd['image_size']}, {sd['subset']} training images split "
        f"{sd['train_portion']:g}/{1 - sd['train_portion']:g} into weight / α splits (the {sd['holdout']:g} "
        f"held out for the score set aside), batch {sd['batch_size']}; {s['epochs']} epochs, {s['order']} "
        f"order, α lr {s['optim']['alpha_lr']:g}. MIM: patch {mim['patch_size']}, fill {mim['fill']}, decoder "
        f"depth {mim['decoder_depth']} width {mim['decoder_width']}, weight {mim['mim_weight']:g}, phases "
        f"{', '.join(mim['phases'])}.",
        f"- Score (`proxy_acc`): each final genotype trained from scratch (C={pm['channels']}, {pm['layers']} "
        f"cells) at {pd_['image_size']}×{pd_['image_size']}, {pd_['subset']} training images, batch "
        f"{pd_['batch_size']}, {p['epochs']} epochs, seed {p['seed']} for every genotype, then its accuracy "
        f"on the held-out {pd_['holdout']:g} of the training set (never the test split).",
        f"- Retrain: each selected genotype trained from scratch (C={tm['channels']}, {tm['layers']} cells, "
        f"auxiliary {tm['auxiliary']}, drop path {tm['drop_path_prob']:g}) at {td['image_size']}×"
        f"{td['image_size']}, {td['subset']} training images, batch {td['batch_size']}, {t['epochs']} epochs, "
        f"seeds {', '.join(map(str, results['retrain_seeds']))}; final-epoch test accuracy.",
        "- Signals (`trainables/metrics.py`): param-free ops = parameter-free ops (none, pools, skip) among "
        "the 8 chosen ops of the derived **normal** cell; α entropy = mean entropy of softmax(α) over all "
        f"edges of both cell types, nats (uniform start ln {n_ops} = {math.log(n_ops):.3f}); top weight = "
        f"mean strongest-op softmax weight (1/{n_ops} = {1 / n_ops:.3f} at the start).",
        "- Cells show mean ± sample std across seeds.",
    ]
    if done < planned:
        out.append(f"- **Incomplete: {done} of {planned} searches finished**; every table below is over "
                   "the finished ones only.")
    if regenerated:
        out.append("- This page was regenerated from the JSON; the run itself is the command above.")
    out += ["", "## The answer per mask ratio", "", *answer_table(results), "",
            "## Parameter-free ops in the derived normal cell, per epoch (of 8)", "",
            *epoch_table(results, "param_free_ops", 2), "",
            "## α entropy per epoch (nats)", "", *epoch_table(results, "alpha_entropy", 3), "",
            "## Strongest-op weight per epoch", "", *epoch_table(results, "alpha_top_weight", 3), "",
            "## Every search", "", *runs_table(results), "",
            "## Reading", "", READING_START, reading.strip() or NO_READING, READING_END, ""]
    return "\n".join(out)


def existing_reading(page: Path) -> str:
    if not page.is_file():
        return ""
    text = page.read_text()
    start, end = text.find(READING_START), text.find(READING_END)
    if start < 0 or end < start:
        return ""
    reading = text[start + len(READING_START):end].strip()
    return "" if reading == NO_READING else reading


def json_path_for(page: Path) -> Path:
    return page.with_name(f"{page.stem}_results.json")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    try:
        if args.from_json is not None:
            try:
                results = json.loads(args.from_json.read_text())
            except (OSError, ValueError) as exc:
                raise UsageError(f"--from-json {args.from_json}: cannot be read as JSON ({exc})") from None
            regenerated = True
        else:
            results = run_experiment(args, resolve_config(args), argv, json_path_for(args.out))
            regenerated = False
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render_page(results, existing_reading(args.out), regenerated))
    print(f"wrote {args.out}" + ("" if regenerated else f" and {json_path_for(args.out)}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
