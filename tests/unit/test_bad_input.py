"""Bad input, generated, at every door of every command: exit code 2, one line naming the
field, the value or the file, no traceback, and Ray never started.

The CLI runs in-process (`orchestrator.cli.main`); `ensure_ray` is replaced by a function
that fails the test, so "before Ray starts" is checked, not assumed. Examples per property
are few (the suite must stay within seconds on 2 loaded cores); hypothesis's database keeps
any failing example for the next run.
"""

from __future__ import annotations

import contextlib
import io
import json
import socket
import string
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import orchestrator.cluster.ray_runtime
import orchestrator.stages.search_run
import orchestrator.stages.sweep
from orchestrator.cli import COMMANDS, main
from orchestrator.config import _read_yaml, load_config
from orchestrator.stages.run_guards import flatten

# Strings come from explicit alphabets. With st.text()'s and st.from_regex's default ones,
# hypothesis first tabulates every Unicode code point (its category, or whether UTF-8 encodes
# it): 1.5-3 s in each test process of a fresh clone; later runs read it from .hypothesis/.
#: What a user could type or a file could hold: printable ASCII and whitespace, control
#: characters and NUL, Latin-1, a combining accent, CJK, Hebrew with a right-to-left mark, and
#: an emoji beyond the 16-bit range.
ANY_CHAR = string.printable + "\x00\x01\x1b\x7f" + "éßÿ\u0301中文\u05d0\u200f\U0001f600"


def any_text(max_size: int) -> st.SearchStrategy[str]:
    return st.text(ANY_CHAR, max_size=max_size)


FAST = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
#: commands that read a CONFIG (and what else they need on the command line)
CONFIG_COMMANDS = {
    "search": [], "sweep": [], "pipeline": [], "retrain": ["--genotype", "DARTS_V2"],
}
QUICKSTART = _read_yaml("quickstart")
REAL_ENSURE_RAY = orchestrator.cluster.ray_runtime.ensure_ray


class RayStarted(AssertionError):
    pass


@pytest.fixture(autouse=True)
def no_ray(monkeypatch):
    """Any path to Ray fails the test: bad input must be answered before it."""

    def refuse(*args, **kwargs):
        raise RayStarted("Ray was started for bad input")

    monkeypatch.setattr(orchestrator.cluster.ray_runtime, "ensure_ray", refuse)  # every stage's door asks it
    # the CIFAR door asks whether the download host answers: here it never does
    monkeypatch.setattr("trainables.download_check.download_reachable", lambda *a, **k: False)
    # this machine as the checks see it: 2 CPUs, no GPU (also on a machine that has one)
    monkeypatch.setattr("orchestrator.cluster.resources.local_capacity", lambda: {"CPU": 2.0, "GPU": 0.0})


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as stop:  # argparse
            code = stop.code
    return code, out.getvalue(), err.getvalue()


def assert_bad_input(argv: list[str], *needles: str) -> str:
    """Exit 2, one line on stderr, no traceback or config dump; returns that line."""
    code, out, err = run_cli(argv)
    lines = err.strip().splitlines()
    assert code == 2, f"{argv}: exit {code}\n{out}\n{err}"
    assert len(lines) == 1, f"{argv}: {len(lines)} lines\n{err}"
    line = lines[0]
    assert line.startswith("alphadarts: error:") and "Traceback" not in line
    assert "search={" not in line and "'search': {" not in line, line  # no config dumps
    for needle in needles:
        assert needle in line, f"{needle!r} not in {line!r}"
    return line


#: where this module's config files go: pytest's temporary tree, which it prunes, not /tmp
#: itself (each run of this module left 45 files there)
_CONFIG_DIR: list[Path] = []


@pytest.fixture(scope="module", autouse=True)
def _config_dir(tmp_path_factory):
    _CONFIG_DIR[:] = [tmp_path_factory.mktemp("configs")]
    yield


def config_file(raw, text: str | None = None) -> str:
    file = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False, dir=_CONFIG_DIR[0])
    with file:
        file.write(text if text is not None else yaml.safe_dump(raw))
    return file.name


def leaves(tree: dict) -> list[str]:
    return sorted(flatten(tree))


def set_path(raw: dict, dotted: str, value) -> dict:
    raw = json.loads(json.dumps(raw))
    node = raw
    *parents, last = dotted.split(".")
    for part in parents:
        node = node[part]
    node[last] = value
    return raw


command = st.sampled_from(sorted(CONFIG_COMMANDS))


def config_argv(cmd: str, source: str, *extra: str) -> list[str]:
    return [cmd, source, *CONFIG_COMMANDS[cmd], *extra]


# --- config files -------------------------------------------------------------------------

@FAST
@given(cmd=command, leaf=st.sampled_from(leaves(QUICKSTART)))
def test_a_mapping_where_a_value_belongs(cmd, leaf):
    path = config_file(set_path(QUICKSTART, leaf, {"zz": 1}))
    assert_bad_input(config_argv(cmd, path), leaf.rsplit(".", 1)[-1])


@FAST
@given(cmd=command, section=st.sampled_from(["", "search", "search.mim", "search.data", "sweep",
                                             "retrain.optim", "pipeline.select", "proxy.model"]),
       key=st.text(string.ascii_lowercase, min_size=3, max_size=10))
def test_unknown_keys(cmd, section, key):
    raw = json.loads(json.dumps(QUICKSTART))
    node = raw
    for part in filter(None, section.split(".")):
        node = node[part]
    assume(key not in node)
    node[key] = 1
    field = f"{section}.{key}".lstrip(".")
    assert_bad_input(config_argv(cmd, config_file(raw)), f"{field}: unknown field")


OUT_OF_RANGE = {
    "search.epochs": st.integers(max_value=0),
    "search.mim.mask_ratio": st.one_of(st.floats(max_value=-1e-6, allow_nan=False, allow_infinity=False),
                                       st.floats(min_value=1.0, allow_nan=False, allow_infinity=False)),
    "search.data.batch_size": st.integers(max_value=0),
    "search.data.train_portion": st.floats(min_value=1.0, max_value=1e6),
    "search.optim.w_lr": st.floats(max_value=0.0, allow_nan=False, allow_infinity=False),
    "sweep.num_samples": st.integers(max_value=0),
    "retrain.optim.lr": st.floats(max_value=0.0, allow_nan=False, allow_infinity=False),
    "pipeline.retrain_seeds": st.integers(max_value=0),
}


@FAST
@given(cmd=command, data=st.data(), field=st.sampled_from(sorted(OUT_OF_RANGE)))
def test_out_of_range_values(cmd, data, field):
    value = data.draw(OUT_OF_RANGE[field])
    line = assert_bad_input(config_argv(cmd, config_file(set_path(QUICKSTART, field, value))), field)
    assert repr(value) in line or str(value) in line


@FAST
@given(cmd=command, value=st.one_of(st.lists(st.integers(), max_size=3), st.integers(), st.booleans(),
                                   any_text(20).filter(lambda t: t.strip())))
def test_yaml_that_is_not_a_mapping(cmd, value):
    text = yaml.safe_dump(value)
    assume(not isinstance(yaml.safe_load(text), dict) and yaml.safe_load(text) is not None)
    assert_bad_input(config_argv(cmd, config_file(None, text)), "must be a YAML mapping")


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n"])
def test_an_empty_config_says_how_to_get_the_defaults(text):
    line = assert_bad_input(["search", config_file(None, text)], "is empty", "preset")
    assert "quickstart" in line


@FAST
@given(cmd=command, section=st.sampled_from(sorted(QUICKSTART)))
def test_a_key_given_twice_is_refused(cmd, section):
    body = yaml.safe_dump({section: QUICKSTART[section]})
    text = yaml.safe_dump(QUICKSTART) + body  # the section once more, at the end
    assert_bad_input(config_argv(cmd, config_file(None, text)), f"key {section!r} appears twice")


def test_yaml_syntax_error():
    assert_bad_input(["search", config_file(None, "search: {epochs: [1,\n")], "not valid YAML")


# --- --set --------------------------------------------------------------------------------

@FAST
@given(cmd=command, item=st.one_of(
    st.sampled_from(["noequals", "=1", "search..epochs=1", "search.epochs.x=1", "search.mim=3",
                     "search.nosuchfield=1", "sweep.space.nosuch=[1]", "search.mim={a: 1, a: 2}"]),
    st.builds(lambda leaf: f"{leaf}={{zz: 1}}", st.sampled_from(leaves(QUICKSTART))),
))
def test_bad_overrides(cmd, item):
    assert_bad_input(config_argv(cmd, "quickstart", "--set", item))


@FAST
@given(ratio=st.floats(min_value=0.0, max_value=0.99), depth=st.integers(0, 3))
def test_set_section_merges_into_the_preset(ratio, depth):
    """`--set search.mim={...}` changes the given fields; the others keep the preset's value."""
    config = load_config("quickstart", [f"search.mim={{mask_ratio: {ratio!r}, decoder_depth: {depth}}}"])
    preset = load_config("quickstart")
    assert config.search.mim.mask_ratio == ratio and config.search.mim.decoder_depth == depth
    assert config.search.mim.patch_size == preset.search.mim.patch_size == 2  # default is 4
    assert config.search.mim.decoder_width == preset.search.mim.decoder_width


# --- genotypes, α files, experiment directories --------------------------------------------

genotype_text = st.one_of(
    any_text(40),
    st.builds(lambda ops: f"Genotype(normal={ops!r}, normal_concat=[2], reduce=[], reduce_concat=[2])",
              st.lists(st.tuples(any_text(8), st.integers(-2, 9)), max_size=3)),
    st.builds(json.dumps, st.dictionaries(any_text(6), st.integers(), max_size=3)),
).filter(lambda t: t.strip() and not Path(t.rpartition(":")[0] or t).exists())


@FAST
@given(space=st.sampled_from(["darts", "nb201"]), text=genotype_text)
def test_bad_genotype_strings(space, text):
    assert_bad_input(["inspect", "--space", space, "--genotype", text])


@FAST
@given(text=genotype_text)
def test_bad_genotype_for_retrain(text):
    assert_bad_input(["retrain", "quickstart", "--genotype", text])


@FAST
@given(space=st.sampled_from(["darts", "nb201"]), content=st.one_of(
    any_text(30),
    st.builds(json.dumps, st.one_of(
        st.lists(st.floats(allow_nan=False), max_size=3),
        st.dictionaries(st.sampled_from(["normal", "reduce", "cell", "x"]),
                        st.lists(st.lists(st.floats(allow_nan=True), max_size=9), max_size=15), max_size=3),
    )),
))
def test_bad_alpha_files(space, content):
    file = config_file(None, content)
    assert_bad_input(["genotype", "--space", space, "--alphas", file])
    Path(file).unlink()


def test_genotype_json_file_of_another_space(tmp_path):
    file = tmp_path / "g.json"
    file.write_text(json.dumps({"space": "nb201", "cell": [["none", 0]]}))
    assert_bad_input(["inspect", "--space", "darts", "--genotype", str(file)])


def not_an_experiment(root: Path, kind: str) -> Path:
    if kind == "missing":
        return root / "nothing-here"
    if kind == "file":
        (root / "a-file").write_text("x")
        return root / "a-file"
    target = root / kind
    target.mkdir(exist_ok=True)
    if kind == "junk":
        (target / "notes.txt").write_text("mine")
    if kind == "corrupt-table":
        (target / "trials.parquet").write_bytes(b"PAR1 not really")
    return target


@FAST
@given(cmd=st.sampled_from(["results", "report", "dashboard"]),
       kind=st.sampled_from(["missing", "file", "empty", "junk", "corrupt-table"]))
def test_directories_that_are_not_an_experiment(tmp_path, cmd, kind):
    path = not_an_experiment(tmp_path, kind)
    assert_bad_input([cmd, str(path)])


@FAST
@given(kind=st.sampled_from(["empty", "junk", "corrupt-table"]), trial=st.text(string.ascii_lowercase + string.digits + "_", min_size=1, max_size=8))
def test_retrain_from_a_directory_that_is_not_a_sweep(tmp_path, kind, trial):
    path = not_an_experiment(tmp_path, kind)
    assert_bad_input(["retrain", "quickstart", "--genotype", f"{path}:{trial}"], str(path))


# --- dataset paths --------------------------------------------------------------------------

@pytest.mark.parametrize("dataset", ["cifar10", "cifar100"])
def test_cifar_root_that_holds_nothing_while_the_download_is_impossible(tmp_path, dataset):
    root = tmp_path / "data"
    line = assert_bad_input(["search", "quickstart", "--set", f"search.data.dataset={dataset}",
                             "--set", "search.mim.patch_size=4", "--set", f"search.data.root={root}",
                             "--set", f"output_dir={tmp_path}"], "cannot be downloaded", str(root))
    assert not (tmp_path / "quickstart").exists()  # nothing written for a refused run
    assert "put the extracted" in line


@FAST
@given(cmd=command, dataset=st.sampled_from(["cifar10", "imagenet"]), kind=st.sampled_from(["file", "missing"]))
def test_dataset_roots(tmp_path, cmd, dataset, kind):
    root = not_an_experiment(tmp_path, kind)
    sections = {"search": ["search"], "sweep": ["search"], "retrain": ["retrain"],
                "pipeline": ["search", "retrain"]}[cmd]
    extra = ["--set", "search.mim.patch_size=8"]  # 8 divides 32 and 224; the proxy reads the search's root
    for section in sections:
        extra += ["--set", f"{section}.data.dataset={dataset}", "--set", f"{section}.data.root={root}"]
    assert_bad_input(config_argv(cmd, "quickstart", *extra, "--set", f"output_dir={tmp_path}/runs"),
                     f"data.root={str(root)!r}")


# --- checkpoints ----------------------------------------------------------------------------

@FAST
@given(data=st.binary(max_size=300))
def test_random_bytes_are_not_a_checkpoint(data):
    from trainables.checkpoint import load_state
    from trainables.errors import InputError

    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "state.pt").write_bytes(data)
        with pytest.raises(InputError) as err:
            load_state(Path(d) / "state.pt")
    assert "\n" not in str(err.value)


@FAST
@given(cut=st.floats(0.0, 0.99))
def test_truncated_checkpoints(cut):
    import torch

    from trainables.checkpoint import load_state, save_state
    from trainables.errors import InputError

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "state.pt"
        save_state(path, {"epoch": 1, "w": torch.arange(64.0)})
        whole = path.read_bytes()
        path.write_bytes(whole[: int(cut * len(whole))])
        with pytest.raises(InputError, match="corrupt or not an alphadarts checkpoint"):
            load_state(path)


def test_checkpoint_from_another_space_is_refused_before_load_state_dict():
    from search_space import build_supernet
    from trainables.checkpoint import check_same_shapes
    from trainables.errors import InputError

    darts, nb201 = build_supernet("darts", 10, 4, 2), build_supernet("nb201", 10, 4, 1)
    with pytest.raises(InputError, match="does not fit this config") as err:
        check_same_shapes(nb201, darts.state_dict(), "search model")
    assert "\n" not in str(err.value) and len(str(err.value)) < 400


# --- ports, bench flags, --address, resources ----------------------------------------------

@pytest.fixture
def sweep_like(tmp_path):
    (tmp_path / "trial_x").mkdir()
    (tmp_path / "trial_x" / "events.out.tfevents.1").write_bytes(b"")
    return tmp_path


def test_dashboard_port_in_use(sweep_like):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert_bad_input(["dashboard", str(sweep_like), "--tensorboard-port", str(port)],
                         f"--tensorboard-port {port}: in use")


@FAST
@given(port=st.one_of(st.integers(max_value=0), st.integers(min_value=65536)))
def test_dashboard_port_out_of_range(sweep_like, port):
    assert_bad_input(["dashboard", str(sweep_like), "--tensorboard-port", str(port)], str(port))


def test_dashboard_host_that_is_not_here(sweep_like):
    assert_bad_input(["dashboard", str(sweep_like), "--host", "no.such.host.invalid"], "--host")


@FAST
@given(flag=st.sampled_from(["--batch-size", "--channels", "--layers", "--steps", "--threads", "--image-size"]),
       value=st.integers(max_value=0))
def test_bench_flags(flag, value):
    assert_bad_input(["bench", flag, str(value)], flag)


@pytest.mark.parametrize("argv", [
    ["bench", "--device", "tpu"], ["bench", "--set", "search.epochs=0"],
    ["bench", "--config", "nosuchpreset"], ["bench", "--image-size", "9"],
])
def test_bench_bad_config(argv):
    assert_bad_input(argv)


@pytest.mark.parametrize("where", ["start", "after-command", "end"])
def test_debug_anywhere_keeps_exit_code_2(where):
    argv = ["search", "quickstart", "--set", "search.epochs=0"]
    argv = {"start": ["--debug", *argv], "after-command": [argv[0], "--debug", *argv[1:]],
            "end": [*argv, "--debug"]}[where]
    code, _, err = run_cli(argv)
    assert code == 2 and "Traceback" in err and err.strip().splitlines()[-1].startswith("alphadarts: error:")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again on exit: nothing listens there


@pytest.mark.parametrize("address, needle", [
    ("127.0.0.1:CLOSED", "cannot reach the Ray head"),
    ("nohost", "expected HOST:PORT"), ("host:99999", "expected HOST:PORT"),
    ("no.such.host.invalid:6379", "does not resolve"),
])
def test_unreachable_address_fails_in_seconds(monkeypatch, address, needle):
    """The real ensure_ray: it must refuse before ray.init, which would wait on the GCS."""
    import ray

    address = address.replace("CLOSED", str(_closed_port()))
    monkeypatch.setattr(ray, "init", lambda *a, **k: pytest.fail("ray.init was called"))
    monkeypatch.setattr(orchestrator.cluster.ray_runtime, "ensure_ray", REAL_ENSURE_RAY)
    assert_bad_input(["search", "quickstart", "--address", address, "--set", "output_dir=/nonexistent/x"], needle)


@pytest.mark.parametrize("argv, needle", [
    (["doctor", "--address", "ray://head:10001"], "ray job submit"),  # it checks where it runs
    (["doctor", "--address", "nohost"], "expected HOST:PORT"),
    (["doctor", "--quick", "--steps", "3"], "unrecognized arguments"),
])
def test_doctor_bad_input(argv, needle):
    assert_bad_input(argv, needle)


@pytest.mark.parametrize("cmd", sorted(CONFIG_COMMANDS))
def test_cifar10_preset_without_a_gpu(cmd):
    assert_bad_input(config_argv(cmd, "cifar10"), "1 GPU", "this machine has 0 GPU",
                            ".runtime.use_gpu=false")


def test_every_command_is_covered():
    """This module drives each command of `alphadarts --help` with bad input."""
    source = Path(__file__).read_text()
    for name in COMMANDS:
        assert f'"{name}"' in source, name


# --- NAS-Bench-201: `lookup` and search.benchmark --------------------------------------------

def _benchmark_path(root: Path, kind: str) -> Path:
    """Not NAS-Bench-201: missing, empty, a file, a directory whose index is junk, or the
    index of another benchmark (NATS-Bench's size space: 32,768 channel lists)."""
    from nb201_bench_files import write_bz2_pickle

    if kind in ("missing", "file", "empty", "junk"):
        return not_an_experiment(root, kind)
    target = root / kind
    target.mkdir(exist_ok=True)
    if kind == "junk-index":
        (target / "meta.pickle.pbz2").write_bytes(b"BZh91AY&SY not really")
    if kind == "size-space-index":
        write_bz2_pickle(target / "meta.pickle.pbz2", {"meta_archs": ["8:8:8:8:8"] * 32768, "total_archs": 32768})
    return target


BENCHMARK_KINDS = ["missing", "file", "empty", "junk", "junk-index", "size-space-index"]


@pytest.mark.parametrize("kind", BENCHMARK_KINDS)
def test_lookup_benchmark_that_is_not_nas_bench_201(tmp_path, kind):
    path = _benchmark_path(tmp_path, kind)
    assert_bad_input(["lookup", "--benchmark", str(path), "--genotype", "NB201_RESNET"],
                     f"--benchmark {str(path)!r}", "NATS-tss-v1_0-3ffb9")


def test_lookup_without_a_benchmark_says_where_to_put_it(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    assert_bad_input(["lookup", "--genotype", "NB201_RESNET"], "--benchmark",
                     str(tmp_path / "NATS-tss-v1_0-3ffb9-simple"), "NATS-Bench")


@FAST
@given(text=genotype_text)
def test_bad_genotype_for_lookup(text):
    from nb201_bench_files import SAMPLE

    assert_bad_input(["lookup", "--benchmark", str(SAMPLE), "--genotype", text], "--genotype")


@pytest.mark.parametrize("genotype", ["DARTS_V2", '{"space": "darts", "normal": [], "reduce": []}'])
def test_lookup_of_a_darts_genotype(genotype):
    from nb201_bench_files import SAMPLE

    assert_bad_input(["lookup", "--benchmark", str(SAMPLE), "--genotype", genotype],
                     "--genotype", "darts", "NAS-Bench-201 cells only")


@pytest.mark.parametrize("kind", BENCHMARK_KINDS)
def test_search_benchmark_that_is_not_nas_bench_201(tmp_path, kind):
    path = _benchmark_path(tmp_path, kind)
    assert_bad_input(["search", "nb201-cifar10", "--set", f"search.benchmark={path}"],
                     f"search.benchmark={str(path)!r}")


@pytest.mark.parametrize("cmd", sorted(CONFIG_COMMANDS))
def test_search_benchmark_outside_nb201(cmd):
    from nb201_bench_files import SAMPLE

    assert_bad_input(config_argv(cmd, "quickstart", "--set", f"search.benchmark={SAMPLE}"),
                     "search: benchmark=", "allowed only with model.space=nb201")
