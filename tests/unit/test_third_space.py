"""A third search space, defined and registered here and nowhere else, works through every
public entry point: `inspect`, `genotype`, the config and a one-epoch search.

The toy space is a chain cell: node i applies one op to node i - 1 (3 edges), ops
`none, skip_connect, conv_3x3`; its genotype prints as `op>op>op`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest
from pydantic import ValidationError
from torch import nn

from orchestrator.cli import main
from orchestrator.config import load_config
from search_space.catalog import SpaceFacts
from search_space import (
    MixedOp,
    SearchSpace,
    SearchSpaceError,
    Supernet,
    get_space,
    register_space,
    space_names,
    unregister_space,
)
from search_space.genotype_io import GenotypeJson, check_genotype_dict
from search_space.layers import Identity, ReLUConvBN, Zero
from search_space.ops import check_op_name
from trainables.config import ModelConfig
from trainables.reporters import MemoryReporter
from trainables.search_loop import run_search

OPS = ("none", "skip_connect", "conv_3x3")
EDGES = 3
SHAPES = {"chain": (EDGES, len(OPS))}

OP_TABLE = {
    "none": lambda c, s, a, t: Zero(s),
    "skip_connect": lambda c, s, a, t: Identity(),
    "conv_3x3": lambda c, s, a, t: ReLUConvBN(c, c, 3, s, 1, 1, a, t),
}
SEARCH_OP_TABLE = {name: (lambda c, s, b=build: b(c, s, False, True)) for name, build in OP_TABLE.items()}


@dataclass(frozen=True)
class ChainGenotype(GenotypeJson):
    ops: tuple[str, ...]
    space: ClassVar[str] = "toy"

    def __post_init__(self) -> None:
        if len(self.ops) != EDGES:
            raise SearchSpaceError(f"ops has {len(self.ops)} entries; a toy cell has {EDGES}.")
        object.__setattr__(self, "ops", tuple(check_op_name(OPS, "toy", op) for op in self.ops))

    def to_dict(self) -> dict[str, Any]:
        return {"space": self.space, "ops": list(self.ops)}

    @classmethod
    def from_dict(cls, data: Any) -> ChainGenotype:
        return cls(tuple(check_genotype_dict(data, "toy", ("ops",))["ops"]))

    def canonical(self) -> ChainGenotype:
        return self

    def num_parameter_free_ops(self) -> int:
        return sum(op != "conv_3x3" for op in self.ops)

    def __str__(self) -> str:
        return ">".join(self.ops)


def derive_chain(alphas):
    return ChainGenotype(tuple(OPS[int(row.argmax())] for row in alphas["chain"]))


class ChainSupernet(Supernet):
    space = "toy"
    alpha_shapes = SHAPES
    derive = staticmethod(derive_chain)

    def __init__(self, num_classes: int, channels: int, layers: int, in_channels: int) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(in_channels, channels, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(channels))
        self.cells = nn.ModuleList(
            nn.ModuleList(MixedOp(SEARCH_OP_TABLE, channels, 1) for _ in range(EDGES))
            for _ in range(layers)
        )
        self.classifier = nn.Linear(channels, num_classes)
        self.feature_channels, self.feature_stride = channels, 1
        self._init_alphas()

    def forward(self, x):
        weights = self.op_weights()["chain"]
        h = self.stem(x)
        for cell in self.cells:
            for edge, mixed in enumerate(cell):
                h = mixed(h, weights[edge])
        return self.classifier(h.mean(dim=(2, 3))), h


class ChainNetwork(nn.Module):
    def __init__(self, genotype, num_classes, channels, layers, auxiliary, family, drop_path_prob,
                 in_channels):
        super().__init__()
        self.drop_path_prob = drop_path_prob
        self.stem = nn.Conv2d(in_channels, channels, 3, padding=1, bias=False)
        self.ops = nn.Sequential(*(OP_TABLE[op](channels, 1, True, True)
                                   for _ in range(layers) for op in genotype.ops))
        self.classifier = nn.Linear(channels, num_classes)

    def forward(self, x):
        return self.classifier(self.ops(self.stem(x)).mean(dim=(2, 3))), None


TOY = SearchSpace(
    facts=SpaceFacts(name="toy", ops=OPS, parameter_free_ops=frozenset({"none", "skip_connect"}),
                     published=("TOY_ALL_CONV",), feature_stride=lambda layers: 1,
                     supernet_size=(8, 2), network_sizes={"cifar": (6, 1)}),
    op_table=OP_TABLE, search_op_table=SEARCH_OP_TABLE, alpha_shapes=SHAPES,
    genotype_type=ChainGenotype, derive=derive_chain,
    parse_text=lambda text: ChainGenotype(tuple(text.split(">"))) if ">" in text else None,
    text_form="an 'op>op>op' string", published={"TOY_ALL_CONV": ChainGenotype(("conv_3x3",) * 3)},
    supernet=ChainSupernet, network=ChainNetwork,
)


@pytest.fixture
def toy_space():
    register_space(TOY)
    yield TOY
    unregister_space("toy")


def test_inspect_through_the_cli(capsys, toy_space):
    assert main(["inspect", "--space", "toy", "--supernet", "--dataset", "digits", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    # C=8, 2 cells: stem 3*8*9 + BN 2*8; 6 mixed edges with one 3x3 conv (BN not affine);
    # classifier 8*10 + 10.
    assert report["params"] == 3 * 8 * 9 + 16 + 6 * 8 * 8 * 9 + 90
    assert report["input_shape"] == [1, 3, 16, 16] and report["macs"] > 0
    assert main(["inspect", "--space", "toy", "--genotype", "skip_connect>conv_3x3>none",
                 "--dataset", "cifar10", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["genotype"] == "skip_connect>conv_3x3>none"
    assert report["params"] == 3 * 6 * 9 + (6 * 6 * 9 + 12) + 6 * 10 + 10  # C=6, 1 cell
    assert main(["inspect", "--space", "toy", "--genotype", "toy_all_conv", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["genotype"] == "conv_3x3>conv_3x3>conv_3x3"
    assert main(["inspect", "--space", "toy", "--genotype", "DARTS_V2"]) == 2
    assert "belongs to the darts space" in capsys.readouterr().err
    assert main(["inspect", "--space", "toy", "--genotype", "TOY_ALL_CONV", "--dataset",
                 "imagenet"]) == 2  # the toy space builds no imagenet network
    assert "toy space does not build" in capsys.readouterr().err


def test_genotype_through_the_cli(capsys, tmp_path, toy_space):
    path = tmp_path / "alphas.json"
    path.write_text(json.dumps({"chain": [[0, 0, 5], [0, 5, 0], [5, 0, 0]]}))
    assert main(["genotype", "--space", "toy", "--alphas", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["str"] == "conv_3x3>skip_connect>none" and report["space"] == "toy"
    assert report["num_parameter_free_ops"] == 2
    path.write_text(json.dumps({"cell": [[0.0] * 5] * 6}))
    assert main(["genotype", "--space", "toy", "--alphas", str(path)]) == 2


def test_one_epoch_search(toy_space):
    config = load_config("quickstart", [
        "retrain.model.auxiliary=false",  # the quickstart retrains a DARTS net with an aux head
        "search.model.space=toy", "search.epochs=1", "search.model.channels=4",
        "search.model.layers=1", "search.data.subset=128", "search.mim.decoder_width=8",
    ])
    reporter = MemoryReporter()
    outcome = run_search(config.search, reporter)
    assert isinstance(outcome.genotype, ChainGenotype)
    assert set(outcome.alphas) == {"chain"} and len(outcome.alphas["chain"]) == EDGES
    [metrics] = reporter.metrics
    assert metrics["genotype"] == outcome.genotype.to_dict() and metrics["mim_active"]
    assert metrics["genotype_hash"] == outcome.genotype.key
    assert metrics["param_free_ops"] == outcome.genotype.num_parameter_free_ops()


def test_the_space_is_gone_after_unregistering(toy_space):
    unregister_space("toy")
    try:
        assert "toy" not in space_names()
        with pytest.raises(SearchSpaceError, match="allowed: darts, nb201"):
            get_space("toy")
        with pytest.raises(ValidationError, match="allowed: darts, nb201"):
            ModelConfig(space="toy")
        with pytest.raises(SystemExit):
            main(["inspect", "--space", "toy", "--supernet"])
    finally:
        register_space(TOY)  # the fixture unregisters it again
    assert ModelConfig(space="toy").space == "toy"
    with pytest.raises(SearchSpaceError, match="already registered"):
        register_space(TOY)
