"""One experiment, three kinds of directory, one genotype reference (no Ray): `results`,
`report`, `dashboard`, `inspect`, `genotype`, `lookup` and `retrain` take a pipeline's, a
sweep's or a retrain's directory, and DIR:TRIAL_ID or DIR:HASH (a unique prefix too), and
every command ends with commands that run when pasted.

The three directories are made as a pipeline leaves them: the sweep's tables and the retrain
table written the way their stages write them (tests/report_tables.py), the config the run
started with in each, `selection.json`, and the records the pipeline and the retrain write."""

import json
import shlex
import shutil
from pathlib import Path

import pytest
from helpers import run_cli
from report_tables import make_retrain, make_sweep

from orchestrator.config import load_config
from orchestrator.tables.experiment_dirs import find_experiment, record_pipeline, record_retrain_sources
from orchestrator.tables.genotype_ref import FORMS

KINDS = ("pipeline", "sweep", "retrain")


def _experiment(root: Path, records: bool = True) -> dict[str, Path]:
    dirs = {kind: root / f"q-{kind}" for kind in KINDS}
    for path in dirs.values():
        path.mkdir(parents=True)
    config = load_config("quickstart", [f"output_dir={root}"]).model_dump(mode="json")
    trials = make_sweep(dirs["sweep"])
    hashes = make_retrain(dirs["retrain"], trials)
    for path in dirs.values():
        (path / "config.json").write_text(json.dumps(config))
    (dirs["pipeline"] / "selection.json").write_text(json.dumps({"candidates": hashes}))
    if records:
        record_pipeline(str(dirs["pipeline"]), str(dirs["sweep"]), str(dirs["retrain"]))
        record_retrain_sources(str(dirs["retrain"]), [str(dirs["sweep"])])
    return dirs


@pytest.fixture
def experiment(tmp_path):
    return _experiment(tmp_path)


def _winner(dirs) -> str:
    """The retrained genotype with the best mean test accuracy (make_retrain: the second)."""
    import pandas as pd

    rows = pd.read_parquet(dirs["retrain"] / "retrain.parquet")
    return rows.groupby("genotype_hash")["test_acc"].mean().idxmax()


def _next_lines(out: str) -> list[str]:
    lines = out.splitlines()
    start = lines.index("next:")
    return [line.strip() for line in lines[start + 1:] if line.startswith("  alphadarts ")]


@pytest.mark.parametrize("records", [True, False], ids=["recorded", "written-before-records"])
@pytest.mark.parametrize("kind", KINDS)
def test_each_directory_names_the_whole_experiment(tmp_path, kind, records):
    dirs = _experiment(tmp_path, records)
    found = find_experiment(str(dirs[kind]))
    assert found.kind == kind and found.asked == str(dirs[kind])
    assert (found.sweep, found.retrain, found.pipeline) == (str(dirs["sweep"]), str(dirs["retrain"]),
                                                            str(dirs["pipeline"]))


@pytest.mark.parametrize("how", [shutil.move, shutil.copytree], ids=["moved", "copied"])
def test_a_moved_or_copied_experiment_names_its_own_parts(experiment, tmp_path, how):
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    for path in experiment.values():
        how(str(path), str(moved / path.name))
    for kind in KINDS:
        found = find_experiment(str(moved / f"q-{kind}"))
        assert (found.sweep, found.retrain) == (str(moved / "q-sweep"), str(moved / "q-retrain"))


def test_a_retrain_from_another_sweep_is_not_this_sweeps(experiment):
    other = experiment["sweep"].with_name("other-sweep")
    other.mkdir()
    make_sweep(other)
    assert find_experiment(str(other)).retrain is None
    record_retrain_sources(str(experiment["retrain"]), [str(other)])  # a second retrain command
    assert find_experiment(str(other)).retrain == str(experiment["retrain"])
    assert find_experiment(str(experiment["retrain"])).sweep == str(experiment["sweep"])  # the first named


@pytest.mark.parametrize("kind", KINDS)
def test_results_of_each_directory(experiment, capsys, kind):
    code, out, err = run_cli(capsys, "results", str(experiment[kind]), "--json")
    assert code == 0, err
    data = json.loads(out.strip().splitlines()[-1])
    winner = _winner(experiment)
    assert data["experiment"]["kind"] == kind
    board = data["retrain_leaderboard"]
    assert board[0]["genotype_hash"] == winner and board[0]["seeds"] == 3
    assert f"{winner} 0.9100 ± 0.0100      3" in out  # mean ± std over the 3 finished seeds
    assert [r["mask_ratio"] for r in data["answer_by_mask_ratio"]] == [0.0, 0.5]
    assert "the answer per mask ratio" in out
    if kind == "retrain":  # its own leaderboard and the answer; the sweep's is the sweep's
        assert "leaderboard" not in data and "across seeds" not in out
    else:
        assert len(data["leaderboard"]) == 6 and "by mask_ratio, decoder_depth, across seeds:" in out
    assert data["next"] == _next_lines(out)
    assert f"alphadarts retrain {experiment[kind]} --genotype {experiment[kind]}:{winner} --seeds 4" in data["next"]


def test_results_of_a_pipeline_prints_sweep_answer_and_retrain_in_that_order(experiment, capsys):
    code, out, _ = run_cli(capsys, "results", str(experiment["pipeline"]))
    assert code == 0
    order = [out.index(f"sweep {experiment['sweep']}:"), out.index("the answer per mask ratio"),
             out.index(f"retrain {experiment['retrain']}:"), out.index("next:")]
    assert order == sorted(order)
    assert "2 genotype(s), 6 run(s), 5 finished" in out


@pytest.mark.parametrize("kind", KINDS)
def test_report_of_each_directory_holds_the_retrain(experiment, capsys, kind):
    code, out, err = run_cli(capsys, "report", str(experiment[kind]))
    assert code == 0, err
    page = experiment[kind] / "report.html"
    assert out.splitlines()[0] == str(page)
    text = page.read_text()
    assert 'id="retrain-leaderboard"' in text and f"Winner {_winner(experiment)}" in text


def test_report_of_a_sweep_without_retrain_says_so_and_how_to_make_one(tmp_path, capsys):
    sweep = tmp_path / "s-sweep"
    sweep.mkdir()
    make_sweep(sweep)
    (sweep / "config.json").write_text(json.dumps(load_config("quickstart").model_dump(mode="json")))
    code, out, _ = run_cli(capsys, "report", str(sweep))
    assert code == 0
    (line,) = [line for line in out.splitlines() if line.startswith("no retrain")]
    made = line.split("this makes one: ", 1)[1]
    assert made.startswith(f"alphadarts retrain {sweep} --genotype {sweep}:") and made.endswith("--seeds 2")
    assert "The retrain has not run yet" in (sweep / "report.html").read_text()


def test_report_of_a_retrain_made_from_no_sweep_says_where_its_leaderboard_is(experiment, capsys):
    (experiment["retrain"] / "experiment.json").write_text(json.dumps({"kind": "retrain", "sweeps": []}))
    code, _, err = run_cli(capsys, "report", str(experiment["retrain"]))
    assert code == 2 and f"alphadarts results {experiment['retrain']}" in err
    code, out, _ = run_cli(capsys, "results", str(experiment["retrain"]))
    assert code == 0 and "alphadarts report" not in out and "2 genotype(s)" in out


@pytest.mark.parametrize("kind", KINDS)
def test_dashboard_of_each_directory_shows_sweep_and_retrain(experiment, kind):
    from orchestrator.dashboard import logdir_arguments, resolve_target

    (experiment["sweep"] / "optuna.db").write_bytes(b"")
    for part in ("sweep", "retrain"):
        (experiment[part] / "trial_1").mkdir()
        (experiment[part] / "trial_1" / "events.out.tfevents.1").write_bytes(b"")
    target = resolve_target(str(experiment[kind]))
    assert target.logdirs == {"sweep": experiment["sweep"], "retrain": experiment["retrain"]}
    assert target.study_db == experiment["sweep"] / "optuna.db"
    assert logdir_arguments(target.logdirs, experiment["sweep"] / "links") == [
        "--logdir_spec", f"sweep:{experiment['sweep']},retrain:{experiment['retrain']}"]


@pytest.mark.parametrize("kind", KINDS)
def test_inspect_a_prefix_of_the_winning_hash_sized_as_the_experiment_retrains(experiment, capsys, kind):
    winner = _winner(experiment)
    code, out, err = run_cli(capsys, "inspect", "--genotype", f"{experiment[kind]}:{winner[:6]}", "--json")
    assert code == 0, err
    report = json.loads(out)
    # quickstart's retrain section: 16x16 digits (10 classes), C=8, 5 cells; the space is the sweep's
    assert (report["genotype_hash"], report["space"]) == (winner, "darts")
    assert (report["dataset"], report["input_shape"], report["channels"], report["layers"]) == (
        "digits", [1, 3, 16, 16], 8, 5)
    code, out, _ = run_cli(capsys, "inspect", "--genotype", f"{experiment[kind]}:{winner}", "--channels", "4",
                           "--json")
    assert json.loads(out)["channels"] == 4  # a flag still wins


def test_a_trial_id_and_the_genotype_command(experiment, capsys):
    import pyarrow.parquet as pq

    trials = pq.read_table(experiment["sweep"] / "trials.parquet").to_pylist()
    code, out, _ = run_cli(capsys, "genotype", "--genotype", f"{experiment['pipeline']}:t3", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["hash"] == trials[3]["genotype_hash"] and data["source_trials"] == ["t3"]
    assert data["knobs"] == {"mask_ratio": 0.5, "seed": 1, "decoder_depth": 1}


def test_the_commands_a_pipeline_prints_run(experiment, capsys, monkeypatch):
    """Every 'next' line `pipeline` prints is run as pasted (shlex-split); the stages are
    replaced by their results on disk (tests/integration/test_experiment_commands.py runs a
    real pipeline and each of its lines, the retrain and the dashboard included)."""
    from orchestrator.commands import pipeline_cmd, retrain_cmd

    winner = _winner(experiment)
    summary = {"experiment_dir": str(experiment["pipeline"]), "sweep_dir": str(experiment["sweep"]),
               "retrain_dir": str(experiment["retrain"]), "report": str(experiment["pipeline"] / "report.html"),
               "stages": {"sweep": "ran"}, "objective": "alpha_acc", "genotypes": [], "failed_runs": []}
    monkeypatch.setattr(pipeline_cmd, "run_stage", lambda *a, **k: summary)
    ran = {}

    def fake_retrain(run, config, targets, seeds, **kwargs):
        ran.update(config=config, targets=targets, seeds=seeds)
        return {"experiment_dir": str(experiment["retrain"]), "runs": [], "genotypes": []}

    monkeypatch.setattr(retrain_cmd, "run_stage", fake_retrain)
    code, out, _ = run_cli(capsys, "pipeline", "quickstart")
    assert code == 0
    lines = _next_lines(out)
    assert [shlex.split(line)[1] for line in lines] == ["results", "report", "dashboard", "inspect", "retrain"]
    for line in lines:
        argv = shlex.split(line)[1:]
        if argv[0] == "dashboard":  # serves until stopped: its directory is resolved here
            from orchestrator.dashboard import resolve_target

            (experiment["sweep"] / "optuna.db").write_bytes(b"")
            assert set(resolve_target(argv[1]).logdirs) == {"sweep", "retrain"}
            continue
        code, _, err = run_cli(capsys, *argv)
        assert code == 0, f"{line}: {err}"
    # the retrain of the winner: one seed more, beside the pipeline, with the config it ran with
    assert ran["seeds"] == 4 and ran["targets"][0].genotype.key == winner
    assert ran["config"].storage_path == str(experiment["pipeline"].parent)
    assert ran["targets"][0].sweep_dir == str(experiment["sweep"])


def test_a_run_directory_as_config_writes_beside_it(experiment, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path.parent)
    relative = str(experiment["pipeline"].relative_to(tmp_path.parent))
    config = load_config(relative)
    assert config.output_dir == tmp_path.name and config.storage_path == str(tmp_path)
    assert load_config(relative, ["retrain.epochs=1"]).retrain.epochs == 1


# --- bad references: exit 2, one line naming the reference and the forms -------------------

def _trial_sharing_a_prefix(sweep: Path) -> str:
    """Add a trial whose genotype's hash starts as another's does; return that first digit."""
    import numpy as np

    from orchestrator.tables import results
    from search_space import alpha_shapes, derive_genotype

    trials, meta = results.load_trials(str(sweep))
    rows = results.records(trials)
    firsts = {r["genotype_hash"][0] for r in rows}
    rng = np.random.default_rng(1)
    while True:  # at most 17 draws: 16 hex digits
        genotype = derive_genotype("darts", {k: rng.standard_normal(s) for k, s in alpha_shapes("darts").items()})
        if genotype.key[0] in firsts:
            break
    rows.append({"trial_id": "t9", "mask_ratio": 0.0, "seed": 0, "decoder_depth": 1, "status": "TERMINATED",
                 "epochs": 3, "objective": 0.1, "genotype": str(genotype), "genotype_json": genotype.to_json(),
                 "genotype_hash": genotype.key})
    results.write_trials(str(sweep), rows, meta)
    return genotype.key[0]


def _bad_references(dirs: dict[str, Path], tmp_path: Path) -> list[tuple[str, str]]:
    shared = _trial_sharing_a_prefix(dirs["sweep"])
    (tmp_path / "notes").mkdir()
    return [
        (f"{dirs['pipeline']}:ffffffffffff", "no trial and no genotype hash 'ffffffffffff'"),
        (f"{dirs['sweep']}:{shared}", f"the prefix {shared!r} is ambiguous"),
        (f"{dirs['retrain']}:t99", "no trial and no genotype hash 't99'"),
        (f"{tmp_path / 'notes'}:t1", "is not an experiment's directory"),
        (f"{tmp_path / 'nothing'}:t1", "does not exist"),
        (f"{dirs['sweep']}:", "nothing after the colon"),
        ("NOT_A_GENOTYPE", "is not a genotype reference"),
    ]


@pytest.mark.parametrize("command", [
    ["inspect"], ["genotype"], ["retrain", "quickstart"], ["lookup", "--benchmark", "SAMPLE"]])
def test_bad_references_exit_2_naming_the_reference_and_the_forms(experiment, tmp_path, capsys, command):
    from nb201_bench_files import SAMPLE

    command = [str(SAMPLE) if word == "SAMPLE" else word for word in command]
    references = _bad_references(experiment, tmp_path)
    for reference, needle in references:
        code, out, err = run_cli(capsys, *command, "--genotype", reference)
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1, (reference, err)
        assert f"--genotype {reference!r}" in lines[0] and needle in lines[0], lines[0]
        assert FORMS in lines[0], lines[0]
    ambiguous = references[1][0]
    code, _, err = run_cli(capsys, *command, "--genotype", ambiguous)
    matches = err.split("it starts ", 1)[1].split(";", 1)[0].split(", ")
    assert len(matches) >= 2 and all(m.startswith(ambiguous.rsplit(":", 1)[1]) for m in matches)


@pytest.mark.parametrize("command", ["results", "report", "dashboard"])
def test_a_directory_of_no_experiment_is_one_line(tmp_path, capsys, command):
    (tmp_path / "notes.txt").write_text("mine")
    code, _, err = run_cli(capsys, command, str(tmp_path))
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert f"EXPERIMENT_DIR {str(tmp_path)!r} is not an experiment's directory" in err
    assert "a sweep's, a retrain's or a pipeline's directory" in err


def test_lookup_takes_a_hash_prefix_of_an_nb201_experiment_and_refuses_a_darts_one(experiment, tmp_path, capsys):
    from nb201_bench_files import SAMPLE

    sweep = tmp_path / "n" / "n-sweep"
    sweep.mkdir(parents=True)
    trials = make_sweep(sweep, "nb201")
    for kind, reference in (("nb201", f"{sweep}:{trials[0]['genotype_hash'][:5]}"),
                            ("darts", f"{experiment['pipeline']}:{_winner(experiment)}")):
        code, out, err = run_cli(capsys, "lookup", "--benchmark", str(SAMPLE), "--genotype", reference, "--json")
        if kind == "nb201":
            assert code == 0, err
            assert json.loads(out)["genotype_hash"] == trials[0]["genotype_hash"]
        else:
            assert code == 2 and "belongs to the darts space, but lookup reads NAS-Bench-201 cells only" in err
