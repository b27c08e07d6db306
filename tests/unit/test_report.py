"""The experiment report (issue #11): synthetic sweep and retrain tables in, report.html and
valid PNGs out; degrades to the sweep alone, skips plots of knobs not swept (no Ray)."""

import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from orchestrator import results
from orchestrator.cli import main
from orchestrator.report import REPORT_FILE, write_report
from orchestrator.retrain_table import RETRAIN_FILE, RETRAIN_SCHEMA
from search_space import ALPHA_SHAPES, alpha_entropy, derive_genotype

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def make_sweep(directory: Path, space: str = "darts", knobs=("mask_ratio", "seed", "decoder_depth"),
               epochs: int = 3) -> list[dict]:
    """Six trials on a mask ratio x seed (x decoder depth) grid, α drifting per epoch; the
    trial and epoch rows carry genotypes derived from those α, as the sweep writes them."""
    rng = np.random.default_rng(0)
    settings = [(m, s, d) for m, d in ((0.0, 1), (0.5, 1), (0.5, 2)) for s in (0, 1)]
    meta = {"metric": "alpha_acc", "mode": "max", "knobs": list(knobs), "epochs": epochs,
            "space": space, "study_name": "t"}
    trial_rows, epoch_rows = [], []
    for number, (mask, seed, depth) in enumerate(settings):
        trial_id = f"t{number}"
        logits = {k: 1e-3 * rng.standard_normal(shape) for k, shape in ALPHA_SHAPES[space].items()}
        status = "STOPPED" if number == 5 else "TERMINATED"
        last = 1 if status == "STOPPED" else epochs
        for epoch in range(1, last + 1):
            logits = {k: v + 0.4 * rng.standard_normal(v.shape) for k, v in logits.items()}
            genotype = derive_genotype(space, logits)
            acc = 0.5 + 0.1 * mask + 0.02 * epoch + 0.01 * seed
            epoch_rows.append({
                "trial_id": trial_id, "epoch": epoch, "alpha_acc": acc,
                "alpha_entropy": alpha_entropy(logits),
                "param_free_ops": genotype.num_parameter_free_ops(),
                "genotype": str(genotype), "genotype_hash": genotype.key,
                "alphas": json.dumps({k: v.tolist() for k, v in logits.items()}),
            })
        row = {"trial_id": trial_id, "mask_ratio": mask, "seed": seed, "decoder_depth": depth,
               "status": status, "epochs": last, "objective": acc, "alpha_acc": acc,
               "genotype": str(genotype), "genotype_json": genotype.to_json(),
               "genotype_hash": genotype.key, "param_free_ops": genotype.num_parameter_free_ops()}
        trial_rows.append({k: v for k, v in row.items() if k not in KNOBS or k in knobs})
    results.write_trials(str(directory), trial_rows, meta)
    results.write_epochs(str(directory), epoch_rows)
    return trial_rows


KNOBS = ("mask_ratio", "seed", "decoder_depth")


def make_retrain(directory: Path, trials: list[dict], space: str = "darts") -> list[str]:
    """Two genotypes, the second better, each retrained with 3 seeds (one unfinished)."""
    chosen = [trials[0], trials[3]]
    rows = []
    for rank, trial in enumerate(chosen):
        for seed in range(3):
            done = seed < 2 or rank == 1
            rows.append({
                "genotype_hash": trial["genotype_hash"], "genotype": trial["genotype"],
                "genotype_json": trial["genotype_json"], "space": space,
                "source_trials": [trial["trial_id"]],
                "knobs": json.dumps({k: trial[k] for k in KNOBS if k in trial}),
                "seed": seed, "status": "TERMINATED" if done else "ERROR",
                "test_acc": (0.80 + 0.1 * rank + 0.01 * seed) if done else None,
                "test_ce": 0.5 if done else None, "train_acc": 0.9 if done else None,
                "params": 123_456 + rank, "macs": 9_876_543, "epochs": 2,
                "wall_time_s": 12.5, "run_dir": f"/runs/retrain/{trial['trial_id']}/{seed}",
            })
    pq.write_table(pa.Table.from_pylist(rows, schema=RETRAIN_SCHEMA), directory / RETRAIN_FILE)
    return [t["genotype_hash"] for t in chosen]


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.links, self.tables = [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs["src"])
        if tag in ("a", "link", "script") and (attrs.get("href") or attrs.get("src")):
            self.links.append(attrs.get("href") or attrs.get("src"))
        if tag == "table":
            self.tables.append(attrs.get("id"))


def _parse(page: Path) -> _Refs:
    refs = _Refs()
    refs.feed(page.read_text())
    return refs


def _assert_pngs(page: Path, refs: _Refs) -> None:
    for src in refs.images:
        data = (page.parent / src).read_bytes()
        assert data[:8] == PNG_MAGIC, src
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            assert image.width > 100 and image.height > 100, src


@pytest.mark.parametrize("space", ["darts", "nb201"])
def test_full_report_has_leaderboard_cells_alphas_and_valid_pngs(tmp_path, space):
    trials = make_sweep(tmp_path, space)
    hashes = make_retrain(tmp_path, trials, space)
    page = Path(write_report(str(tmp_path)))
    assert page == tmp_path / REPORT_FILE
    text = page.read_text()
    refs = _parse(page)
    for key in hashes:
        assert key in text
    assert "retrain-leaderboard" in refs.tables and "sweep-leaderboard" in refs.tables
    alpha_keys = {"darts": ["normal", "reduce"], "nb201": ["cell"]}[space]
    expected = {"report/cells.png", "report/collapse.png", "report/objective_vs_mask_ratio.png",
                "report/objective_vs_decoder_depth.png",
                *(f"report/alphas_{k}.png" for k in alpha_keys)}
    assert set(refs.images) == expected
    assert sorted(p.name for p in (tmp_path / "report").iterdir()) == sorted(
        Path(p).name for p in expected)
    _assert_pngs(page, refs)
    # The winner is the genotype with the best mean test accuracy, drawn and its search shown.
    assert f"Winner {hashes[1]}, chosen by best mean test accuracy" in text
    assert "Trial t3: softmax" in text
    # 2 finished seeds of 3 for the first genotype: mean ± std over those 2 (0.80, 0.81).
    assert "0.8050 ± 0.0071" in text and "0.9100 ± 0.0100" in text
    # Offline: nothing but the page's own files and anchors.
    assert all(not re.match(r"[a-z]+:", link) for link in refs.links + refs.images)


def test_without_retrain_the_sweep_parts_remain_and_say_so(tmp_path):
    trials = make_sweep(tmp_path)
    page = Path(write_report(str(tmp_path)))
    text, refs = page.read_text(), _parse(page)
    assert "The retrain has not run yet" in text
    assert "retrain-leaderboard" not in refs.tables and "sweep-leaderboard" in refs.tables
    best = max(trials, key=lambda t: t["objective"])
    assert f"Winner {best['genotype_hash']}, chosen by best sweep objective" in text
    assert "report/cells.png" in refs.images and "report/alphas_normal.png" in refs.images
    _assert_pngs(page, refs)


def test_knob_not_swept_is_skipped_with_a_line(tmp_path):
    make_sweep(tmp_path, knobs=("mask_ratio", "seed"))
    page = Path(write_report(str(tmp_path)))
    refs = _parse(page)
    assert "decoder_depth was not swept" in page.read_text()
    assert "report/objective_vs_mask_ratio.png" in refs.images
    assert not any("decoder_depth" in src for src in refs.images)
    _assert_pngs(page, refs)


def test_report_reads_retrain_from_its_own_directory(tmp_path):
    sweep, retrain, out = tmp_path / "sweep", tmp_path / "retrain", tmp_path / "out"
    sweep.mkdir(), retrain.mkdir()
    hashes = make_retrain(retrain, make_sweep(sweep))
    page = Path(write_report(str(out), sweep_dir=str(sweep), retrain_dir=str(retrain)))
    assert page.parent == out and all(key in page.read_text() for key in hashes)


def test_cli_writes_the_report_and_refuses_a_non_experiment(tmp_path, capsys):
    make_sweep(tmp_path)
    assert main(["report", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / REPORT_FILE)
    (tmp_path / "empty").mkdir()
    assert main(["report", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is not a sweep's experiment directory" in err[0]


def test_a_retrain_table_without_the_schema_is_refused(tmp_path, capsys):
    make_sweep(tmp_path)
    pq.write_table(pa.table({"genotype_hash": ["x"]}), tmp_path / RETRAIN_FILE)
    assert main(["report", str(tmp_path)]) == 2
    assert "lacks the retrain columns" in capsys.readouterr().err
