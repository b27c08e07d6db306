"""report.html in a real browser: headless Chromium opens a copy of the page (beside the
original, so its relative PNG paths resolve) with a small script appended that writes, on
the load event, which images failed to decode and which tables exist into the DOM; Chromium
then dumps the DOM and the test reads that verdict. A control page with one missing image
proves the check can fail. No Ray, no network, no download: only the Debian `chromium`."""

from pathlib import Path

import pytest
from report_tables import CHROMIUM, browser_check, make_retrain, make_sweep, page_refs

from orchestrator.report import write_report

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium not found on PATH (Debian: "
                       "apt-get install -y chromium; .ci/run installs it where missing)"),
]

def test_report_opens_in_chromium_with_every_image_and_the_leaderboard(tmp_path):
    experiment = tmp_path / "experiment"
    experiment.mkdir()
    hashes = make_retrain(experiment, make_sweep(experiment))
    page = Path(write_report(str(experiment)))
    expected_images = page_refs(page).images
    assert len(expected_images) >= 6

    verdict = browser_check(page, tmp_path / "profile")
    assert verdict["images"] == expected_images
    assert verdict["broken"] == []
    assert "retrain-leaderboard" in verdict["tables"] and "sweep-leaderboard" in verdict["tables"]
    assert verdict["leaderboard_rows"] == len(hashes)

    control = browser_check(page, tmp_path / "profile",
                             '<img src="report/missing.png" alt="control">')
    assert control["broken"] == ["report/missing.png"]
