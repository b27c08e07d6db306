"""Does MIM reduce DARTS's collapse? A measured experiment at proxy scale (issue #10 item 9).

For each mask ratio (0 = plain DARTS, through the same code path) and each seed, one search
(`run_search` with a `MemoryReporter`, in-process, no Ray) records per epoch the collapse
signals: parameter-free ops in the derived normal cell, the entropy of softmax(α) and the
mean strongest-op weight. The final derived genotype is then trained from scratch with the
config's `retrain` section and a fixed retrain seed; its final-epoch test accuracy is the
proxy accuracy. Runs go to a `multiprocessing` pool of `--processes` workers, one torch
thread each.

    python -m orchestrator.experiments.collapse --mask-ratios 0,0.5,0.75 --seeds 5 \
        --processes 2 --out docs/fidelity.md

writes the page and, next to it, the raw per-run results as JSON (`<out stem>_results.json`),
rewritten after every finished run. `--from-json FILE` regenerates the page from that JSON
without running anything. The page's tables are generated; the text between the
`<!-- reading -->` markers is written by hand and kept when the page is regenerated.
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
from datetime import datetime, timezone
from pathlib import Path

from orchestrator.config import ExperimentConfig, load_config
from orchestrator.errors import UsageError

PROG = "python -m orchestrator.experiments.collapse"
READING_START, READING_END = "<!-- reading -->", "<!-- /reading -->"
NO_READING = "_(no reading written yet: the numbers above are all there is.)_"


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
    p.add_argument("--retrain-epochs", type=_positive, default=None,
                   help="proxy training epochs (default: the config's retrain.epochs)")
    p.add_argument("--retrain-seed", type=int, default=0, help="the one seed of every proxy training")
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
    if args.retrain_epochs is not None:
        overrides.append(f"retrain.epochs={args.retrain_epochs}")
    overrides.append(f"retrain.seed={args.retrain_seed}")
    return load_config(args.config, overrides)


def run_one(job: dict) -> dict:
    """One search at (mask ratio, seed) and the proxy training of its final genotype."""
    import torch

    from trainables.reporters import MemoryReporter
    from trainables.search_loop import run_search
    from trainables.train_loop import run_train

    torch.set_num_threads(1)
    config = load_config(job["config"], job["overrides"] + [
        f"search.mim.mask_ratio={job['mask_ratio']}", f"search.seed={job['seed']}",
    ])
    started = time.perf_counter()
    reporter = MemoryReporter()
    outcome = run_search(config.search, reporter)
    search_s = time.perf_counter() - started
    started = time.perf_counter()
    trained = run_train(config.retrain, outcome.genotype, MemoryReporter())
    return {
        "mask_ratio": job["mask_ratio"],
        "seed": job["seed"],
        "epochs": [
            {k: m[k] for k in ("epoch", "param_free_ops", "alpha_entropy", "alpha_top_weight",
                               "alpha_acc", "mim_active", "genotype_hash")}
            for m in reporter.metrics
        ],
        "genotype": outcome.genotype.to_dict(),
        "genotype_hash": outcome.genotype.key,
        "param_free_ops_reduce": outcome.genotype.num_parameter_free_ops("reduce"),
        "proxy_acc": trained.test_acc,
        "proxy_params": trained.params,
        "search_s": search_s,
        "retrain_s": time.perf_counter() - started,
    }


def _init_worker() -> None:
    import torch

    torch.set_num_threads(1)


def run_experiment(args, config: ExperimentConfig, argv: list[str], json_path: Path) -> dict:
    overrides = list(args.overrides) + [
        f"search.epochs={config.search.epochs}", f"retrain.epochs={config.retrain.epochs}",
        f"retrain.seed={config.retrain.seed}",
    ]
    jobs = [
        {"config": args.config, "overrides": overrides, "mask_ratio": r, "seed": s}
        for s in range(args.seeds) for r in args.mask_ratios
    ]
    results = {
        "command": " ".join([PROG, *map(shlex.quote, argv)]),
        "started_utc": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {multiprocessing.cpu_count()} cores, "
                   f"{args.processes} process(es) x 1 torch thread, nice'd, shared",
        "mask_ratios": args.mask_ratios,
        "seeds": list(range(args.seeds)),
        "search": config.search.model_dump(mode="json"),
        "retrain": config.retrain.model_dump(mode="json"),
        "runs": [],
        "wall_time_s": None,
        "earlier_sessions": [],
    }
    earlier_s = 0.0
    if args.resume and json_path.is_file():
        earlier = json.loads(json_path.read_text())
        if (earlier["search"], earlier["retrain"]) != (results["search"], results["retrain"]):
            raise UsageError(f"--resume: {json_path} was run with another config; move it away")
        results["earlier_sessions"] = earlier.get("earlier_sessions", []) + [
            {k: earlier[k] for k in ("command", "started_utc", "wall_time_s")}]
        planned = {(j["mask_ratio"], j["seed"]) for j in jobs}
        results["runs"] = [r for r in earlier["runs"] if (r["mask_ratio"], r["seed"]) in planned]
        done = {(r["mask_ratio"], r["seed"]) for r in results["runs"]}
        jobs = [j for j in jobs if (j["mask_ratio"], j["seed"]) not in done]
        earlier_s = sum(e["wall_time_s"] or 0.0 for e in results["earlier_sessions"])
    started = time.perf_counter() - earlier_s
    planned_runs = len(args.mask_ratios) * args.seeds

    def keep(run: dict) -> None:
        results["runs"].append(run)
        results["wall_time_s"] = time.perf_counter() - started
        _write_json(json_path, results)
        print(f"done: mask_ratio {run['mask_ratio']} seed {run['seed']}  param-free "
              f"{run['epochs'][-1]['param_free_ops']}  proxy_acc {run['proxy_acc']:.3f}  "
              f"({len(results['runs'])}/{planned_runs}, {results['wall_time_s']:.0f} s)", flush=True)

    if args.processes == 1:
        _init_worker()
        for job in jobs:
            keep(run_one(job))
    else:
        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(args.processes, initializer=_init_worker, maxtasksperchild=None) as pool:
            for run in pool.imap_unordered(run_one, jobs):
                keep(run)
    results["runs"].sort(key=lambda r: (r["mask_ratio"], r["seed"]))
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


def final_table(results: dict) -> list[str]:
    lines = ["| mask ratio | runs | proxy test acc | min – max | distinct genotypes | "
             "distinct normal cells | param-free ops (normal) | param-free ops (reduce) | search s / run |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r, runs in _by_ratio(results).items():
        accs = [run["proxy_acc"] for run in runs]
        normals = {json.dumps(run["genotype"]["normal"]) for run in runs}
        lines.append(
            f"| {_ratio_label(r)} | {len(runs)} | {_mean_std(accs, 3)} | {min(accs):.3f} – {max(accs):.3f} | "
            f"{len({run['genotype_hash'] for run in runs})} | {len(normals)} | "
            f"{_mean_std([run['epochs'][-1]['param_free_ops'] for run in runs], 2)} | "
            f"{_mean_std([run['param_free_ops_reduce'] for run in runs], 2)} | "
            f"{statistics.fmean(run['search_s'] for run in runs):.0f} |"
        )
    return lines


def runs_table(results: dict) -> list[str]:
    lines = ["| mask ratio | seed | param-free ops per epoch | final α entropy | final top weight | "
             "genotype | proxy test acc |", "|---|---:|---|---:|---:|---|---:|"]
    for run in sorted(results["runs"], key=lambda r: (r["mask_ratio"], r["seed"])):
        last = run["epochs"][-1]
        lines.append(
            f"| {run['mask_ratio']:g} | {run['seed']} | "
            f"{' '.join(str(m['param_free_ops']) for m in run['epochs'])} | "
            f"{last['alpha_entropy']:.3f} | {last['alpha_top_weight']:.3f} | "
            f"`{run['genotype_hash']}` | {run['proxy_acc']:.3f} |"
        )
    return lines


def render_page(results: dict, reading: str, regenerated: bool) -> str:
    s, t = results["search"], results["retrain"]
    sd, sm, mim = s["data"], s["model"], s["mim"]
    td, tm = t["data"], t["model"]
    n_ops = 8 if sm["space"] == "darts" else 5
    wall = results["wall_time_s"]
    done = len(results["runs"])
    planned = len(results["mask_ratios"]) * len(results["seeds"])
    out = [
        "# Collapse: plain DARTS vs. DARTS + MIM at proxy scale",
        "",
        "Generated by `orchestrator/experiments/collapse.py` (issue #10 item 9); the tables come "
        "from the raw results in the JSON next to this page "
        f"(`{PROG} --from-json <json> --out <page>` regenerates them).",
        "",
        "## What was run",
        "",
        "```",
        results["command"],
        "```",
        "",
        f"- Started {results['started_utc']}; wall time **{wall / 60:.1f} min** for "
        f"{done} of {planned} runs (search + proxy training each) on {results['machine']}."
        if wall is not None else f"- Started {results['started_utc']}.",
        f"- Mask ratios {', '.join(f'{r:g}' for r in results['mask_ratios'])} (0 = plain DARTS through "
        f"the same code path) × seeds {results['seeds'][0]}–{results['seeds'][-1]}: one search each.",
        f"- Search: {sm['space']} space, C={sm['channels']}, {sm['layers']} cells; offline "
        f"`{sd['dataset']}` at {sd['image_size']}×{sd['image_size']}, {sd['subset']} training images "
        f"split {sd['train_portion']:g}/{1 - sd['train_portion']:g} into weight / α splits, batch "
        f"{sd['batch_size']}; {s['epochs']} epochs, {s['order']} order, α lr {s['optim']['alpha_lr']:g}. "
        f"MIM: patch {mim['patch_size']}, fill {mim['fill']}, decoder depth {mim['decoder_depth']} "
        f"width {mim['decoder_width']}, weight {mim['mim_weight']:g}, phases {', '.join(mim['phases'])}.",
        f"- Proxy accuracy: each final genotype trained from scratch (C={tm['channels']}, {tm['layers']} "
        f"cells, auxiliary {tm['auxiliary']}, drop path {tm['drop_path_prob']:g}) on `{td['dataset']}` at "
        f"{td['image_size']}×{td['image_size']}, {td['subset']} training images, batch {td['batch_size']}, "
        f"{t['epochs']} epochs, seed {t['seed']} for every genotype; final-epoch test accuracy.",
        "- Signals (`trainables/metrics.py`): param-free ops = parameter-free ops (none, pools, skip) among "
        "the 8 chosen ops of the derived **normal** cell; α entropy = mean entropy of softmax(α) over all "
        f"edges of both cell types, nats (uniform start ln {n_ops} = {math.log(n_ops):.3f}); top weight = "
        f"mean strongest-op softmax weight (1/{n_ops} = {1 / n_ops:.3f} at the start).",
        "- Cells show mean ± sample std across seeds.",
    ]
    if done < planned:
        out.append(f"- **Incomplete: {done} of {planned} runs finished** (the run was stopped); every "
                   "table below is over the finished runs only (the `runs` column says how many).")
    for e in results.get("earlier_sessions", []):
        out.append(f"- Resumed: an earlier session (started {e['started_utc']}, "
                   f"{(e['wall_time_s'] or 0) / 60:.1f} min, `{e['command']}`) ran part of it; "
                   "the wall time above adds the sessions up.")
    if regenerated:
        out.append("- This page was regenerated from the JSON; the run itself is the command above.")
    out += ["", "## Parameter-free ops in the derived normal cell, per epoch (of 8)", "",
            *epoch_table(results, "param_free_ops", 2), "",
            "## α entropy per epoch (nats)", "", *epoch_table(results, "alpha_entropy", 3), "",
            "## Strongest-op weight per epoch", "", *epoch_table(results, "alpha_top_weight", 3), "",
            "## Final genotypes and proxy accuracy", "", *final_table(results), "",
            "Distinct genotypes: by genotype hash (both cells); distinct normal cells: the normal cell alone.",
            "", "## Every run", "", *runs_table(results), "",
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
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.from_json is not None:
            try:
                results = json.loads(args.from_json.read_text())
            except (OSError, ValueError) as exc:
                raise UsageError(f"--from-json {args.from_json}: cannot be read as JSON ({exc})") from None
            regenerated = True
        else:
            config = resolve_config(args)
            results = run_experiment(args, config, argv, json_path_for(args.out))
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
