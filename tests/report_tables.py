"""Synthetic sweep and retrain tables for the report's tests, written the way the sweep
(orchestrator.tables.results) and the retrain stage (RETRAIN_SCHEMA) write them, and a parser for
what a written page refers to. Imported by tests/unit and tests/integration (pytest puts this
folder, the one with conftest.py, on sys.path)."""

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from orchestrator.tables import results
from orchestrator.tables.retrain_table import RETRAIN_FILE, RETRAIN_SCHEMA
from search_space import alpha_entropy, alpha_shapes, derive_genotype

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
KNOBS = ("mask_ratio", "seed", "decoder_depth")


def make_sweep(directory: Path, space: str = "darts", knobs=KNOBS,
               epochs: int = 3) -> list[dict]:
    """Six trials on a mask ratio x seed (x decoder depth) grid, α drifting per epoch; the
    trial and epoch rows carry genotypes derived from those α, as the sweep writes them (epochs:
    the genotype as `to_dict()` JSON; trials: its `str()` and `to_json()`)."""
    rng = np.random.default_rng(0)
    settings = [(m, s, d) for m, d in ((0.0, 1), (0.5, 1), (0.5, 2)) for s in (0, 1)]
    meta = {"metric": "alpha_acc", "mode": "max", "knobs": list(knobs), "epochs": epochs,
            "space": space, "study_name": "t"}
    trial_rows, epoch_rows = [], []
    for number, (mask, seed, depth) in enumerate(settings):
        trial_id = f"t{number}"
        logits = {k: 1e-3 * rng.standard_normal(shape) for k, shape in alpha_shapes(space).items()}
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
                "genotype": json.dumps(genotype.to_dict()), "genotype_hash": genotype.key,
                "alphas": json.dumps({k: v.tolist() for k, v in logits.items()}),
            })
        row = {"trial_id": trial_id, "mask_ratio": mask, "seed": seed, "decoder_depth": depth,
               "status": status, "epochs": last, "objective": acc, "alpha_acc": acc,
               "genotype": str(genotype), "genotype_json": genotype.to_json(),
               "genotype_hash": genotype.key, "param_free_ops": genotype.num_parameter_free_ops(),
               "alpha_entropy": alpha_entropy(logits)}
        trial_rows.append({k: v for k, v in row.items() if k not in KNOBS or k in knobs})
    results.write_trials(str(directory), trial_rows, meta)
    results.write_epochs(str(directory), epoch_rows)
    return trial_rows



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


class PageRefs(HTMLParser):
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


def page_refs(page: Path) -> PageRefs:
    refs = PageRefs()
    refs.feed(page.read_text())
    return refs


# --- a real browser -----------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

CHECK_SCRIPT = """
<script>
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var out = document.createElement("pre");
  out.id = "report-check";
  out.textContent = JSON.stringify({
    images: images.map(function (i) { return i.getAttribute("src"); }),
    broken: images.filter(function (i) { return !(i.complete && i.naturalWidth > 0); })
                  .map(function (i) { return i.getAttribute("src"); }),
    tables: Array.prototype.map.call(document.querySelectorAll("table[id]"),
                                     function (t) { return t.id; }),
    leaderboard_rows: document.querySelectorAll("#retrain-leaderboard tbody tr").length
  });
  document.body.appendChild(out);
});
</script>
"""


def browser_check(page: Path, profile: Path, extra_html: str = "") -> dict:
    copy = page.with_name("browser-check.html")
    copy.write_text(page.read_text().replace("</body>", extra_html + CHECK_SCRIPT + "</body>"))
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", f"--user-data-dir={profile}", "--virtual-time-budget=10000",
               "--dump-dom", copy.as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180)
    found = re.search(r'<pre id="report-check">(.*?)</pre>', done.stdout, re.S)
    assert found, f"no verdict in the dumped DOM (rc {done.returncode}): {done.stderr[-2000:]}"
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))


def tensorboard_hparams(trial_dir: Path) -> dict:
    """The HParams (knob -> value) that TensorBoard's own event reader finds in a trial's
    event files ({} if none), read as its HParams plugin reads them."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import metadata, plugin_data_pb2

    accumulator = EventAccumulator(str(trial_dir))
    accumulator.Reload()
    try:
        content = accumulator.PluginTagToContent(metadata.PLUGIN_NAME)
    except KeyError:  # no HParams in these files
        return {}
    if metadata.SESSION_START_INFO_TAG not in content:
        return {}
    data = plugin_data_pb2.HParamsPluginData.FromString(content[metadata.SESSION_START_INFO_TAG])
    return {name: getattr(value, value.WhichOneof("kind"))
            for name, value in data.session_start_info.hparams.items()}
