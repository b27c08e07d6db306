"""The report page, section by section, from tables in memory: returns the HTML and the PNG
files it refers to, and writes nothing (writer.py does). Each section says what its figure
shows and what to look for, and says why when it has nothing to show."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

import pandas as pd

from orchestrator.tables import results
from orchestrator.report import html
from orchestrator.report.alphas import alpha_history, plot_alpha_history
from orchestrator.tables.answer_table import answer_by_mask_ratio
from orchestrator.report.answer import plot_answer
from orchestrator.report.benchmark import has_benchmark, plot_benchmark_curves
from orchestrator.report.cells import draw_genotype
from orchestrator.report.curves import plot_collapse_signals
from orchestrator.report.figures import png_bytes
from orchestrator.report.inputs import ReportInputs
from orchestrator.report.knobs import plot_objective_vs_knob
from orchestrator.report.winner import Winner, choose_winner
from orchestrator.tables.retrain_table import genotype_leaderboard
from search_space import NB201_EDGES, DartsGenotype, Genotype
from trainables.metrics import metric

#: Knobs plotted against the objective: the first two always (a line says so when they were
#: not swept), the others only when swept.
KNOB_PLOTS = ("mask_ratio", "decoder_depth")
OPTIONAL_KNOB_PLOTS = ("mim_weight", "patch_size", "phases")


class _Assets:
    """PNG files the page refers to, by path relative to the page."""

    def __init__(self, folder: str):
        self.folder = folder
        self.files: dict[str, bytes] = {}

    def image(self, name: str, figure, alt: str, caption: str) -> str:
        path = f"{self.folder}/{name}.png"
        self.files[path] = png_bytes(figure)
        return html.image(path, alt, caption)


def build_report(inputs: ReportInputs, asset_folder: str = "report") -> tuple[str, dict[str, bytes]]:
    """(HTML text, {path relative to the page: PNG bytes})."""
    assets = _Assets(asset_folder)
    winner = choose_winner(inputs)
    name = Path(inputs.sweep_dir.rstrip("/")).name or inputs.sweep_dir
    sections = [
        ("answer", "Retrained accuracy against mask ratio", lambda: _answer_section(inputs, assets)),
        ("retrain", "Retrained genotypes", lambda: _retrain_section(inputs)),
        ("cells", "The winning cells", lambda: _cells_section(winner, assets)),
        ("alphas", "α during the winner's search", lambda: _alphas_section(inputs, winner, assets)),
        ("collapse", "Collapse signals", lambda: _collapse_section(inputs, assets)),
        *([("benchmark", "NAS-Bench-201 ground truth", lambda: _benchmark_section(inputs, assets))]
          if inputs.meta.get("space") == "nb201" else []),
        ("knobs", "Objective against the knobs", lambda: _knobs_section(inputs, assets)),
        ("sweep", "Sweep leaderboard", lambda: _sweep_section(inputs)),
    ]
    contents = "".join(f'<li><a href="#{a}">{escape(t)}</a></li>' for a, t, _ in sections)
    body = [html.heading(1, f"αDARTS report: {name}"), _summary(inputs),
            f"<nav><ul>{contents}</ul></nav>\n"]
    body += [html.heading(2, title, anchor) + build() for anchor, title, build in sections]
    return html.page(f"αDARTS report: {name}", "".join(body)), assets.files


def _summary(inputs: ReportInputs) -> str:
    meta, trials = inputs.meta, inputs.trials
    counts = trials["status"].value_counts().sort_index()
    direction = "higher" if meta["mode"] == "max" else "lower"
    retrain = ("not run yet" if inputs.retrain is None else
               f"{inputs.retrain['genotype_hash'].nunique()} genotypes, {len(inputs.retrain)} runs")
    return html.summary([
        ("sweep directory", inputs.sweep_dir),
        ("search space", str(meta.get("space", "-"))),
        ("sweep objective", f"{meta['metric']}: {metric(meta['metric']).doc} ({direction} is better)"),
        ("swept knobs", ", ".join(meta["knobs"]) or "none"),
        ("trials", f"{len(trials)}: " + ", ".join(f"{n} {s}" for s, n in counts.items())),
        ("epochs per search", str(meta.get("epochs", "-"))),
        ("retrain", retrain),
    ])


def _answer_section(inputs: ReportInputs, assets: _Assets) -> str:
    if "mask_ratio" not in inputs.meta["knobs"]:
        return html.paragraph("The mask ratio was not swept: there is no comparison of MIM with plain "
                              "DARTS to show. The retrained genotypes are below.", "note")
    if inputs.retrain is None:
        return html.paragraph(f"The retrain has not run yet (no {inputs.retrain_path}): the answer "
                              "is the retrained accuracy, which only the retrain measures.", "note")
    answer = answer_by_mask_ratio(inputs.trials, inputs.retrain)
    if answer["test_acc_mean"].isna().all():
        return html.paragraph("No retrain run has finished yet: no test accuracy to compare.", "note")
    text = html.paragraph(
        "The best genotypes of each mask ratio, trained from scratch: final-epoch test accuracy, "
        "mean ± standard deviation over the retrain seeds. Mask ratio 0 is plain DARTS through "
        "the same code, the baseline; a ratio helps when its genotypes beat the baseline by more "
        "than the spread across seeds. Beside it, the collapse signals of each ratio's searches "
        "(mean ± std over the searches that ended): parameter-free ops in the derived normal "
        "cell, and the entropy of softmax(α).")
    rows = []
    for _, row in answer.iterrows():
        acc = html.mean_std(row["test_acc_mean"], row["test_acc_std"])
        rows.append([f"{row['mask_ratio']:g}" + (" (plain DARTS)" if row["mask_ratio"] == 0 else ""),
                     html.Raw(f'<span class="mono">{escape(row["genotype_hash"])}</span>'), acc,
                     int(row["seeds"]), row["objective"], row["param_free_ops"], row["alpha_entropy"],
                     int(row["searches"])])
    table = html.table(["mask ratio", "genotype", "retrained test acc (mean ± std)", "seeds",
                        f"sweep {inputs.meta['metric']}", "param-free ops (mean)", "α entropy (mean)",
                        "searches"], rows, ident="answer-by-mask-ratio")
    figure = assets.image("answer", plot_answer(answer, inputs.trials), "retrained accuracy against mask ratio",
                          "Retrained test accuracy against mask ratio, and the collapse signals of each "
                          "ratio's searches.")
    return text + figure + table


def _retrain_section(inputs: ReportInputs) -> str:
    if inputs.retrain is None:
        return html.paragraph(
            f"The retrain has not run yet: there is no {inputs.retrain_path}. The sections below "
            "come from the sweep alone, and the winner is the sweep's best trial by its "
            "objective. Write the report again once the retrain has finished.", "note")
    board = genotype_leaderboard(inputs.retrain)
    text = html.paragraph(
        "Each genotype the sweep selected, trained from scratch: the final epoch's test accuracy "
        "as mean ± standard deviation over the retrain seeds (a standard deviation needs two "
        "seeds). This, not the sweep's objective, is the result; the winner below is its top "
        "row. Params exclude the auxiliary head, as the DARTS papers count them.")
    rows = []
    for _, row in board.iterrows():
        acc = html.mean_std(row["test_acc_mean"], row["test_acc_std"])
        rows.append([int(row["rank"]), html.Raw(f'<span class="mono">{escape(row["genotype_hash"])}</span>'),
                     acc, int(row["seeds"]), int(row["unfinished"]), row["test_ce_mean"],
                     _int(row["params"]), _int(row["macs"]), _int(row["epochs"]),
                     ", ".join(row["source_trials"]), _knobs_text(row["knobs"])])
    table = html.table(["rank", "genotype", "test acc (mean ± std)", "seeds", "unfinished",
                        "test CE (mean)", "params", "MACs", "epochs", "source trials", "knobs"],
                       rows, ident="retrain-leaderboard")
    if board["test_acc_mean"].isna().all():
        text += html.paragraph("No retrain run has finished yet: no test accuracy to rank by.",
                               "note")
    return text + table


def _cells_section(winner: Winner | None, assets: _Assets) -> str:
    if winner is None:
        return html.paragraph("No trial has reported a result yet: there is no cell to draw.",
                              "note")
    how = ("best mean test accuracy after the retrain" if winner.chosen_by == "retrain"
           else "best sweep objective (the retrain has not run)")
    caption = ("Edges are labelled and coloured by op: saturated colours are learnable "
               "convolutions, greys and browns parameter-free ops (skip, pooling, none). "
               "A normal cell made mostly of grey edges is the collapsed DARTS cell; dashed "
               "grey edges join the concatenated nodes into the output.")
    return (html.paragraph(f"Winner {winner.genotype_hash}, chosen by {how}.")
            + f'<code class="genotype">{escape(str(winner.genotype))}</code>\n'
            + assets.image("cells", draw_genotype(winner.genotype, f"genotype {winner.genotype_hash}"),
                           f"cells of genotype {winner.genotype_hash}", caption))


def _alphas_section(inputs: ReportInputs, winner: Winner | None, assets: _Assets) -> str:
    if winner is None:
        return html.paragraph("No trial has reported a result yet.", "note")
    if winner.trial_id is None:
        why = ("the sweep has no epochs.parquet" if inputs.epochs is None else
               "no sweep trial that found this genotype has α snapshots in epochs.parquet")
        return html.paragraph(f"No α history to show: {why}.", "note")
    epochs_list, history = alpha_history(inputs.epochs, winner.trial_id)
    parts = [html.paragraph(
        f"Trial {winner.trial_id}: softmax(α) after each epoch, one panel per edge of the "
        "supernet cell and one line per op; bold panels are the edges the winning genotype "
        "keeps. What to look for: an edge is decided when one op pulls away from the rest; "
        "skip_connect or pooling rising on many edges is the collapse to parameter-free ops.")]
    for key, weights in history.items():
        chosen = _chosen_edges(winner.genotype, key)
        figure = plot_alpha_history(winner.genotype.space, key, epochs_list, weights, chosen,
                                    f"{_cell_name(key)} α, trial {winner.trial_id}")
        parts.append(assets.image(f"alphas_{key}", figure, f"α per edge of the {_cell_name(key)}",
                                  f"{_cell_name(key)}: softmax(α) per edge over "
                                  f"{len(epochs_list)} epochs."))
    return "".join(parts)


def _collapse_section(inputs: ReportInputs, assets: _Assets) -> str:
    if inputs.epochs is None or inputs.epochs.empty:
        return html.paragraph("No epochs recorded yet (no epochs.parquet): nothing to plot.",
                              "note")
    figure = plot_collapse_signals(inputs.epochs, inputs.trials, inputs.meta["knobs"])
    return assets.image("collapse", figure, "collapse signals per epoch", (
        "Left: parameter-free ops (none, skip, pooling) in the normal cell derived after each "
        "epoch, one line per trial (small vertical offsets keep equal counts apart). Right: the "
        "mean entropy of softmax(α), log(number of ops) at the uniform start. Collapse is the "
        "count rising while the entropy falls; if MIM works, higher mask ratios hold the count "
        "down."))


def _benchmark_section(inputs: ReportInputs, assets: _Assets) -> str:
    if not has_benchmark(inputs.epochs):
        return html.paragraph(
            "No derived cell was found in NAS-Bench-201: the searches read no benchmark, or the copy "
            "they read lacks these cells. With the benchmark's directory (docs/nas-bench-201.md: "
            "search.benchmark, or $TORCH_HOME/NATS-tss-v1_0-3ffb9-simple) every epoch records its "
            "cell's true accuracy and this section plots it.", "note")
    figure = plot_benchmark_curves(inputs.epochs, inputs.trials, inputs.meta["knobs"])
    return (html.paragraph(
        "The benchmark's test accuracy (200-epoch schedule, mean over its seeds) of the cell each "
        "search derived after each epoch: one line per mask ratio, mean ± std over that ratio's "
        "searches (an epoch whose cell the benchmark lacks is left out). The dashed line is the "
        "benchmark's best cell, the dotted one DARTS's collapse to the all-skip cell. These test "
        "accuracies are reported, never selected on.")
        + assets.image("benchmark", figure, "NAS-Bench-201 test accuracy per epoch",
                       "NAS-Bench-201 test accuracy of the derived cell per search epoch."))


def _knobs_section(inputs: ReportInputs, assets: _Assets) -> str:
    knobs, trials = inputs.meta["knobs"], inputs.trials
    parts = [html.paragraph(
        "Points are trials (one colour and marker per seed; hollow: stopped early by ASHA, so "
        "the value is from an earlier epoch). Black: mean ± standard deviation over every "
        "trial at that value, the other knobs pooled. A difference of means smaller than the "
        "bars is within the spread across seeds.")]
    for knob in KNOB_PLOTS + tuple(k for k in OPTIONAL_KNOB_PLOTS if k in knobs):
        parts.append(html.heading(3, knob))
        if knob not in knobs:
            parts.append(html.paragraph(f"{knob} was not swept (every trial used the config's "
                                        "value): plot skipped.", "note"))
        elif not (trials["objective"].notna() & trials[knob].notna()).any():
            parts.append(html.paragraph(f"No trial has an objective yet: {knob} plot skipped.",
                                        "note"))
        else:
            figure = plot_objective_vs_knob(trials, knob, inputs.meta)
            parts.append(assets.image(f"objective_vs_{knob}", figure,
                                      f"{inputs.meta['metric']} against {knob}",
                                      f"{inputs.meta['metric']} against {knob}."))
    return "".join(parts)


def _sweep_section(inputs: ReportInputs) -> str:
    board = results.leaderboard(inputs.trials, inputs.meta)
    if board["error"].isna().all():
        board = board.drop(columns=["error"])
    groups = results.seed_groups(inputs.trials, inputs.meta)
    return (html.paragraph("Every trial, best objective first (failed trials last); "
                           "then each setting of the swept knobs but the seed, with the "
                           "objective's spread across seeds and how many distinct genotypes "
                           "the seeds found.")
            + html.table(list(board.columns), board.values.tolist(), ident="sweep-leaderboard")
            + html.table(list(groups.columns), groups.values.tolist(), ident="seed-groups"))


def _chosen_edges(genotype: Genotype, key: str) -> set[tuple[int, int]]:
    """(input, node) edges the genotype keeps in cell `key`, in alphas.edge_names' terms."""
    if isinstance(genotype, DartsGenotype):
        pairs = genotype.normal if key == "normal" else genotype.reduce
        return {(src, index // 2 + 2) for index, (_, src) in enumerate(pairs)}
    return {(src, to) for op, (to, src) in zip(genotype.ops, NB201_EDGES) if op != "none"}


def _cell_name(key: str) -> str:
    """α keys as cells: "normal" -> "normal cell", NB201's "cell" stays "cell"."""
    return key if key == "cell" else f"{key} cell"


def _knobs_text(text) -> str:
    """The knobs JSON as `k=v, ...` (a list of settings joined by '; '); raw text otherwise."""
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return "" if text is None else str(text)
    settings = value if isinstance(value, list) else [value]
    if not all(isinstance(s, dict) for s in settings):
        return str(text)
    return "; ".join(", ".join(f"{k}={v}" for k, v in s.items()) for s in settings)


def _int(value):
    return None if pd.isna(value) else int(value)
