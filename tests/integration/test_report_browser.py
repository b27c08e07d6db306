"""report.html in a real browser: headless Chromium opens a copy of the page (beside the
original, so its relative PNG paths resolve) with a small script appended that writes, on
the load event, which images failed to decode and which tables exist into the DOM; Chromium
then dumps the DOM and the test reads that verdict. A control page with one missing image
proves the check can fail. No Ray, no network, no download: only the Debian `chromium`."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from report_tables import make_retrain, make_sweep, page_refs

from orchestrator.report import write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium not found on PATH (Debian: "
                       "apt-get install -y chromium; .ci/run installs it where missing)"),
]

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


def _browser_check(page: Path, profile: Path, extra_html: str = "") -> dict:
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


def test_report_opens_in_chromium_with_every_image_and_the_leaderboard(tmp_path):
    experiment = tmp_path / "experiment"
    experiment.mkdir()
    hashes = make_retrain(experiment, make_sweep(experiment))
    page = Path(write_report(str(experiment)))
    expected_images = page_refs(page).images
    assert len(expected_images) >= 6

    verdict = _browser_check(page, tmp_path / "profile")
    assert verdict["images"] == expected_images
    assert verdict["broken"] == []
    assert "retrain-leaderboard" in verdict["tables"] and "sweep-leaderboard" in verdict["tables"]
    assert verdict["leaderboard_rows"] == len(hashes)

    control = _browser_check(page, tmp_path / "profile",
                             '<img src="report/missing.png" alt="control">')
    assert control["broken"] == ["report/missing.png"]
