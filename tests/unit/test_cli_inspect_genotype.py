"""`alphadarts inspect` and `alphadarts genotype`, run in-process through the dispatcher."""

import json

import pytest
from helpers import run_cli
import torch

from orchestrator.cli import main
from search_space import PUBLISHED_GENOTYPES, derive_genotype


def test_inspect_darts_v2_json_gives_the_published_count(capsys):
    code, out, _ = run_cli(capsys, "inspect", "--space", "darts", "--genotype", "DARTS_V2", "--auxiliary", "--json")
    assert code == 0
    report = json.loads(out)
    assert report["params"] == 3_349_342
    assert isinstance(report["macs"], int) and 500e6 < report["macs"] < 560e6
    assert report["input_shape"] == [1, 3, 32, 32] and report["channels"] == 36 and report["layers"] == 20
    assert report["genotype"] == str(PUBLISHED_GENOTYPES["DARTS_V2"])


def test_inspect_human_table_and_other_inputs(capsys, tmp_path):
    code, out, _ = run_cli(capsys, "inspect", "--space", "nb201", "--genotype", "NB201_RESNET",
                       "--dataset", "imagenet16-120", "--channels", "4", "--layers", "1")
    assert code == 0 and "params" in out and "macs" in out and "16x16" in out
    path = tmp_path / "cell.json"
    path.write_text(PUBLISHED_GENOTYPES["PC_DARTS"].to_json())
    code, out, _ = run_cli(capsys, "inspect", "--space", "darts", "--genotype", str(path),
                       "--channels", "4", "--layers", "2", "--json")
    assert code == 0 and json.loads(out)["genotype"] == str(PUBLISHED_GENOTYPES["PC_DARTS"])


def test_inspect_supernet(capsys):
    code, out, _ = run_cli(capsys, "inspect", "--space", "darts", "--supernet", "--channels", "4",
                       "--layers", "2", "--dataset", "cifar100", "--json")
    report = json.loads(out)
    assert code == 0 and report["model"] == "supernet" and report["num_classes"] == 100
    assert report["params"] > 0 and report["macs"] > 0


@pytest.mark.parametrize(
    "argv",
    [["inspect", "--space", "darts", "--genotype", "NOPE"],
     ["inspect", "--space", "nb201", "--genotype", "|nor_conv_3x3~0|+|bad|"],
     ["inspect", "--space", "darts", "--genotype", "DARTS_V2", "--dataset", "mnist"],
     ["inspect", "--space", "darts", "--genotype", "DARTS_V2", "--channels", "0"],
     ["inspect", "--space", "nb201", "--supernet", "--layers", "-1"],
     ["inspect", "--space", "nb201", "--genotype", "NB201_RESNET", "--auxiliary"]],
)
def test_inspect_bad_input_exits_2(capsys, argv):
    code, out, err = run_cli(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith("alphadarts: error: ") and len(err.strip().splitlines()) == 1


def test_inspect_needs_exactly_one_of_genotype_or_supernet(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["inspect", "--space", "darts"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main(["inspect", "--space", "darts", "--supernet", "--genotype", "DARTS_V2"])
    assert exc.value.code == 2


def _write(tmp_path, data, name="alphas.json"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def test_genotype_from_darts_alphas(capsys, tmp_path):
    torch.manual_seed(0)
    alphas = {"normal": torch.randn(14, 8).tolist(), "reduce": torch.randn(14, 8).tolist()}
    expected = derive_genotype("darts", {k: torch.tensor(v) for k, v in alphas.items()})
    code, out, _ = run_cli(capsys, "genotype", "--space", "darts", "--alphas", _write(tmp_path, alphas), "--json")
    report = json.loads(out)
    assert code == 0 and report["str"] == str(expected) and report["hash"] == expected.key
    assert report["normal"] == expected.to_dict()["normal"] and report["space"] == "darts"
    code, out, _ = run_cli(capsys, "genotype", "--space", "darts", "--alphas", _write(tmp_path, alphas))
    assert code == 0 and out.startswith(str(expected))


def test_genotype_from_nb201_alphas(capsys, tmp_path):
    alphas = {"cell": [[0, 0, 0, 5, 0]] * 6}
    code, out, _ = run_cli(capsys, "genotype", "--space", "nb201", "--alphas", _write(tmp_path, alphas), "--json")
    assert code == 0
    assert json.loads(out)["str"] == "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"


@pytest.mark.parametrize(
    "content",
    ["{not json", "[1, 2]",
     {"normal": [[0.0] * 8] * 14},
     {"normal": [[0.0] * 8] * 14, "reduce": [[0.0] * 7] * 14},
     {"normal": [[0.0] * 8] * 14, "reduce": [["a"] * 8] * 14},
     {"normal": [[0.0] * 8] * 14, "reduce": [[0.0] * 8] * 13 + [[0.0] * 7]},
     {"normal": [[0.0] * 8] * 14, "reduce": [[True] * 8] * 14},
     {"cell": [[0.0] * 5] * 6}],
)
def test_genotype_bad_alphas_exit_2(capsys, tmp_path, content):
    code, out, err = run_cli(capsys, "genotype", "--space", "darts", "--alphas", _write(tmp_path, content))
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1


def test_genotype_missing_file_exits_2(capsys, tmp_path):
    code, _, err = run_cli(capsys, "genotype", "--space", "nb201", "--alphas", str(tmp_path / "none.json"))
    assert code == 2 and "does not exist" in err
