"""An experiment's report: `report.html` with its figures, from the sweep's and the retrain
stage's Parquet tables. `write_report` reads them from disk; `build_report`
turns tables in memory into the page and its PNGs without writing anything."""

from orchestrator.report.inputs import ReportInputs, load_inputs
from orchestrator.report.page import build_report
from orchestrator.report.writer import ASSET_FOLDER, REPORT_FILE, write_report, write_report_from

__all__ = ["ASSET_FOLDER", "REPORT_FILE", "ReportInputs", "build_report", "load_inputs",
           "write_report", "write_report_from"]
