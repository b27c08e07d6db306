"""The collapse experiment at tiny sizes: real (tiny) searches, their proxy scores, the
pipeline's selection and the retrain of the selected genotypes produce the page with its
tables and the raw JSON, the page regenerates from the JSON keeping the hand-written
reading, and bad flags exit 2 with one line."""

import json

import pytest

from orchestrator.experiments import collapse

TINY = [
    "--mask-ratios", "0,0.5", "--seeds", "1", "--epochs", "1", "--retrain-seeds", "1",
    "--processes", "1", "--set", "retrain.epochs=1",
    "--set", "proxy.epochs=1", "--set", "proxy.data.subset=64", "--set", "proxy.model.channels=4",
    "--set", "proxy.model.layers=2",
    "--set", "search.data.subset=32", "--set", "search.data.batch_size=16",  # 1 + 1 steps
    "--set", "search.model.channels=4", "--set", "search.model.layers=3",
    "--set", "search.mim.decoder_width=8",
    "--set", "retrain.data.subset=64", "--set", "retrain.data.image_size=8",
    "--set", "retrain.data.batch_size=32", "--set", "retrain.model.channels=4",
    "--set", "retrain.model.layers=3",
]


def test_tiny_run_writes_the_page_and_json(tmp_path, capsys):
    page = tmp_path / "fidelity.md"
    assert collapse.main([*TINY, "--out", str(page)]) == 0
    results = json.loads((tmp_path / "fidelity_results.json").read_text())
    assert sorted((r["mask_ratio"], r["seed"]) for r in results["runs"]) == [(0.0, 0), (0.5, 0)]
    for run in results["runs"]:
        assert len(run["epochs"]) == 1 and 0.0 <= run["proxy_acc"] <= 1.0
        assert run["epochs"][0]["mim_active"] == (run["mask_ratio"] > 0)
    # the pipeline's selection: the best genotype of each mask ratio, each retrained once
    found = {run["genotype_hash"]: run["mask_ratio"] for run in results["runs"]}
    assert {c["genotype_hash"] for c in results["selected"]} == set(found)
    assert sorted((r["genotype_hash"], r["seed"]) for r in results["retrains"]) == sorted((h, 0) for h in found)
    assert results["search"]["data"]["holdout"] == results["proxy"]["data"]["holdout"] > 0
    text = page.read_text()
    for heading in ("## The answer per mask ratio", "## Parameter-free ops in the derived normal cell",
                    "## α entropy per epoch", "## Every search", "## Reading"):
        assert heading in text
    assert "| epoch | mask 0 (DARTS) | mask 0.5 |" in text
    acc = results["runs"][0]["proxy_acc"]
    assert f"{acc:.3f} ± 0.000" in text  # one seed: std 0, the run's own number

    # the reading is hand-written and survives regeneration from the JSON
    page.write_text(text.replace(collapse.NO_READING, "MIM did nothing at this size."))
    assert collapse.main(["--from-json", str(tmp_path / "fidelity_results.json"), "--out", str(page)]) == 0
    regenerated = page.read_text()
    assert "MIM did nothing at this size." in regenerated and "regenerated from the JSON" in regenerated


def test_resume_runs_only_what_is_missing(tmp_path, capsys):
    page = tmp_path / "fidelity.md"
    tiny = [a if a != "0,0.5" else "0.5" for a in TINY]
    assert collapse.main([*tiny, "--out", str(page)]) == 0
    first = json.loads((tmp_path / "fidelity_results.json").read_text())["runs"][0]
    capsys.readouterr()
    assert collapse.main([*tiny, "--seeds", "2", "--resume", "--out", str(page)]) == 0
    out = capsys.readouterr().out
    assert out.count("done: search") == 1  # seed 1 only
    results = json.loads((tmp_path / "fidelity_results.json").read_text())
    assert [r["seed"] for r in results["runs"]] == [0, 1] and results["runs"][0] == first
    # another config cannot resume this JSON
    assert collapse.main([*tiny, "--epochs", "2", "--resume", "--out", str(page)]) == 2


@pytest.mark.parametrize("argv", [
    ["--mask-ratios", "0,1.5"], ["--mask-ratios", "a,b"], ["--seeds", "0"], ["--processes", "x"],
    ["--bogus"], ["--set", "search.nope=1", "--seeds", "1"],
])
def test_bad_flags_exit_2_with_one_line(argv, capsys, tmp_path):
    with pytest.raises(SystemExit) as info:
        code = collapse.main([*argv, "--out", str(tmp_path / "p.md")])
        raise SystemExit(code)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "error" in err
    assert not (tmp_path / "p.md").exists()
