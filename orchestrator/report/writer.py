"""Writing the report: `report.html` and, beside it, a `report/` folder of PNGs.

Files rather than data URIs: the HTML stays small enough to read and diff, each figure can
be lifted into a slide or a paper as it is, and the page still opens offline from any copy
of the directory. The PNGs are written first and the page last, each atomically, so a
reader never sees a page that points at a figure not yet written."""

from __future__ import annotations

from orchestrator.report.inputs import ReportInputs, load_inputs
from orchestrator.report.page import build_report
from orchestrator.cluster.storage import join, write_bytes

REPORT_FILE = "report.html"
ASSET_FOLDER = "report"


def write_report(experiment_dir: str, sweep_dir: str | None = None,
                 retrain_dir: str | None = None) -> str:
    """Read the tables (the sweep's from `sweep_dir`, retrain.parquet from `retrain_dir`,
    both defaulting to `experiment_dir`), write the report into `experiment_dir`, and return
    the path of report.html. UsageError when the sweep directory holds no sweep."""
    inputs = load_inputs(sweep_dir or experiment_dir, retrain_dir or experiment_dir)
    return write_report_from(inputs, experiment_dir)


def write_report_from(inputs: ReportInputs, experiment_dir: str) -> str:
    """The same from tables already in memory (a pipeline that holds them)."""
    page, files = build_report(inputs, ASSET_FOLDER)
    for relative, data in files.items():
        write_bytes(join(experiment_dir, *relative.split("/")), data)
    target = join(experiment_dir, REPORT_FILE)
    write_bytes(target, page.encode("utf-8"))
    return target
