"""`alphadarts dashboard` on a synthetic sweep directory: a real small Optuna study and event
files written by the sweep's own TensorBoard callback (Tune's TBXLoggerCallback, scalars
only). Both servers are started, fetched over HTTP on localhost and stopped (no Ray)."""

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from report_tables import tensorboard_hparams
from test_importance import _study

from orchestrator.cli import main
from orchestrator.stages.tune_output import ScalarTBXLoggerCallback

ROOT = Path(__file__).resolve().parents[2]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _descendants(pid: int) -> list[int]:
    """Processes below `pid`, from /proc (children first found by their parent id)."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        kids = [p for p, parent in parents.items() if parent in frontier]
        found += kids
        frontier = kids
    return found


class FakeTrial:
    """What Tune's TBXLoggerCallback uses of a trial."""

    def __init__(self, directory: Path, trial_id: str, params: dict):
        self.local_path, self.trial_id, self.evaluated_params = str(directory), trial_id, params

    def init_local_path(self):
        Path(self.local_path).mkdir(parents=True, exist_ok=True)


def _events(directory: Path, study) -> list[str]:
    """One event file per finished study trial, as the sweep writes them: every epoch's report
    (α, genotype, rank digests included) through ScalarTBXLoggerCallback, HParams at the end."""
    callback = ScalarTBXLoggerCallback()
    ids = []
    for t in study.trials:
        trial = FakeTrial(directory / f"trial_{t.number:05d}", f"{t.number:05d}", dict(t.params))
        for epoch in (1, 2):
            callback.log_trial_result(epoch, trial, {
                "epoch": epoch, "training_iteration": epoch, "alpha_acc": t.value - 0.1 / epoch,
                "mim_loss": 0.5 / epoch, "param_free_ops": 2, "mim_active": True,
                "alphas": {"normal": [[0.1, 0.2], [0.3, 0.4]]}, "genotype": {"normal": [["skip", 0]]},
                "alpha_rank_digests": ["ab", "ab"], "genotype_hash": "0" * 12,
                "config": dict(t.params),
            })
        callback.log_trial_end(trial)
        ids.append(trial.trial_id)
    return ids


class _Warnings(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """Built once for the module (an Optuna study in SQLite and 4 trials' event files take
    seconds): the tests only read it."""
    directory = tmp_path_factory.mktemp("dash") / "s-sweep"
    directory.mkdir()
    study = _study(directory, 4)
    logger, warnings = logging.getLogger("ray.tune.logger.tensorboardx"), _Warnings()
    logger.addHandler(warnings)
    try:
        trials = _events(directory, study)
    finally:
        logger.removeHandler(warnings)
    # lists and dicts never reach tensorboardX: no "invalid value" warning, nothing removed
    assert not warnings.records, [r.getMessage() for r in warnings.records]
    return directory, study, trials


def _get(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def test_the_event_files_hold_scalars_and_hparams_for_every_trial(sweep):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    directory, study, trials = sweep
    for t, trial_id in zip(study.trials, trials):
        accumulator = EventAccumulator(str(directory / f"trial_{trial_id}"))
        accumulator.Reload()
        tags = set(accumulator.Tags()["scalars"])
        assert {"ray/tune/alpha_acc", "ray/tune/epoch", "ray/tune/param_free_ops"} <= tags
        assert not any("alphas" in tag or "genotype/" in tag or "digests" in tag for tag in tags)
        assert tensorboard_hparams(directory / f"trial_{trial_id}") == pytest.approx(t.params)


def test_the_command_serves_the_study_and_the_trials_and_sigterm_stops_both(sweep, tmp_path):
    """`alphadarts dashboard` as a user runs it (its own process, on a pipeline's directory):
    both servers answer with the sweep's trials and study, and SIGTERM stops them all."""
    directory, _, trials = sweep
    pipeline = directory.with_name("s-pipeline")  # a pipeline's directory shows its sweep
    pipeline.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RAY_ADDRESS": ""}
    cli = subprocess.Popen([sys.executable, "-m", "orchestrator.cli", "dashboard", str(pipeline)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    lines = []
    try:
        for line in cli.stdout:
            lines.append(line)
            if line.startswith("Ctrl+C"):
                break
        out = "".join(lines)
        assert f"showing its sweep {directory}" in out, out
        urls = dict(line.split(":", 1) for line in lines if line.startswith(("TensorBoard", "optuna")))
        tb = urls["TensorBoard"].split()[0]
        op = urls["optuna-dashboard"].split()[0]
        assert tb.startswith("http://127.0.0.1:")
        assert sorted(_get(tb + "data/runs")) == [f"trial_{t}" for t in trials]
        assert _get(tb + "data/plugins_listing")["hparams"]["enabled"]
        (summary,) = _get(op + "api/studies")["study_summaries"]
        assert summary["study_name"] == "t"
        detail = _get(op + f"api/studies/{summary['study_id']}")
        assert len(detail["trials"]) == 4 and {t["state"] for t in detail["trials"]} == {"Complete"}
        children = _descendants(cli.pid)
        assert len(children) >= 2
    finally:
        cli.send_signal(signal.SIGTERM)
        rest = cli.communicate(timeout=60)[0]
    assert cli.returncode == 0, out + rest
    assert "stopping TensorBoard and optuna-dashboard" in rest
    assert not [pid for pid in children if _alive(pid)]  # no orphans


def test_bad_input_is_one_line_and_exit_2(sweep, tmp_path, capsys):
    directory, _, _ = sweep
    assert main(["dashboard", str(tmp_path / "nope")]) == 2
    assert "EXPERIMENT_DIR" in capsys.readouterr().err
    assert main(["dashboard", str(tmp_path)]) == 2  # no experiment's directory
    assert "is not an experiment's directory" in capsys.readouterr().err
    (tmp_path / "e-sweep").mkdir()
    assert main(["dashboard", str(tmp_path / "e-sweep")]) == 2  # neither a study nor event files
    assert "holds neither optuna.db nor TensorBoard event files" in capsys.readouterr().err
    (tmp_path / "q-pipeline").mkdir()
    assert main(["dashboard", str(tmp_path / "q-pipeline")]) == 2
    assert "its sweep" in capsys.readouterr().err
    assert main(["dashboard", str(directory), "--optuna-port", "70000"]) == 2
    assert "--optuna-port 70000: a port is 1..65535" in capsys.readouterr().err
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["dashboard", str(directory), "--tensorboard-port", str(port)]) == 2
        err = capsys.readouterr().err
        assert f"--tensorboard-port {port}: in use on 127.0.0.1" in err and len(err.strip().splitlines()) == 1
    assert main(["dashboard", str(directory), "--host", "no.such.host.invalid"]) == 2
    assert "--host 'no.such.host.invalid'" in capsys.readouterr().err
