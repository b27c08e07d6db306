"""Genotypes: derivation by docs/method.md's rules, round trips, parsing, published cells, errors."""

import json
import math

import pytest
import torch

from search_space import (
    OPS_DARTS,
    OPS_NB201,
    PUBLISHED_GENOTYPES,
    DartsGenotype,
    Nb201Genotype,
    SearchSpaceError,
    alpha_entropy,
    derive_genotype,
    genotype_from_dict,
    genotype_hash,
    parse_genotype,
)


# --- an independent, deliberately plain reimplementation of docs/method.md's rules -------------
def _softmax(row):
    top = max(row)
    exps = [math.exp(v - top) for v in row]
    return [e / sum(exps) for e in exps]


def _reference_darts_cell(alpha):
    rows = [_softmax(r) for r in alpha.tolist()]
    cell, start = [], 0
    for node in range(4):
        candidates = []  # (-strength, input, op index)
        for src in range(node + 2):
            row = rows[start + src]
            best_k = max(range(1, 8), key=lambda k: (row[k], -k))  # skip none; lowest k on ties
            candidates.append((-row[best_k], src, best_k))
        for _, src, k in sorted(candidates)[:2]:  # strongest first; lowest input on ties
            cell.append((OPS_DARTS[k], src))
        start += node + 2
    return cell


def _reference_nb201(alpha):
    return tuple(
        OPS_NB201[max(range(5), key=lambda k: (row[k], -k))]
        for row in (_softmax(r) for r in alpha.tolist())
    )


@pytest.mark.parametrize("seed", range(20))
def test_darts_derivation_matches_reference(seed):
    gen = torch.Generator().manual_seed(seed)
    alphas = {k: torch.randn(14, 8, generator=gen) for k in ("normal", "reduce")}
    genotype = derive_genotype("darts", alphas)
    assert list(genotype.normal) == _reference_darts_cell(alphas["normal"])
    assert list(genotype.reduce) == _reference_darts_cell(alphas["reduce"])
    assert genotype.normal_concat == genotype.reduce_concat == (2, 3, 4, 5)


@pytest.mark.parametrize("seed", range(20))
def test_nb201_derivation_matches_reference(seed):
    alpha = torch.randn(6, 5, generator=torch.Generator().manual_seed(seed))
    assert derive_genotype("nb201", {"cell": alpha}).ops == _reference_nb201(alpha)


def test_darts_derivation_ignores_none_even_when_it_dominates():
    alpha = torch.zeros(14, 8)
    alpha[:, 0] = 10.0  # none wins every edge ...
    alpha[1, 4] = 1.0  # ... but node 0's strongest non-none op is sep_conv_3x3 on input 1
    genotype = derive_genotype("darts", {"normal": alpha, "reduce": alpha})
    assert genotype.normal[0] == ("sep_conv_3x3", 1)
    assert "none" not in {op for op, _ in genotype.normal + genotype.reduce}


def test_ties_break_to_the_lowest_index():
    flat = derive_genotype("darts", {"normal": torch.zeros(14, 8), "reduce": torch.zeros(14, 8)})
    assert list(flat.normal) == [("max_pool_3x3", 0), ("max_pool_3x3", 1)] * 4
    assert derive_genotype("nb201", {"cell": torch.zeros(6, 5)}).ops == ("none",) * 6
    nb = torch.zeros(6, 5)
    nb[:, 2] = nb[:, 3] = 1.0
    assert derive_genotype("nb201", {"cell": nb}).ops == ("nor_conv_1x1",) * 6


@pytest.mark.parametrize(
    ("space", "alphas"),
    [
        ("darts", {"normal": torch.zeros(14, 7), "reduce": torch.zeros(14, 8)}),
        ("darts", {"normal": torch.zeros(14, 8)}),
        ("darts", {"normal": torch.zeros(14, 8), "reduce": torch.zeros(14, 8), "x": torch.zeros(1)}),
        ("nb201", {"cell": torch.zeros(5, 5)}),
        ("nb201", {"cell": torch.full((6, 5), float("nan"))}),
        ("nb201", {"normal": torch.zeros(6, 5)}),
        ("nb201", {"cell": [[1, 2], [3]]}),
        ("vit", {"cell": torch.zeros(6, 5)}),
    ],
)
def test_bad_alphas_raise(space, alphas):
    with pytest.raises(SearchSpaceError):
        derive_genotype(space, alphas)


def test_alpha_shape_error_names_key_and_shapes():
    with pytest.raises(SearchSpaceError, match=r"'normal'.*\(14, 7\).*\(14, 8\)"):
        derive_genotype("darts", {"normal": torch.zeros(14, 7), "reduce": torch.zeros(14, 8)})


def test_alpha_entropy():
    assert alpha_entropy({"cell": torch.zeros(6, 5)}) == pytest.approx(math.log(5))
    peaked = torch.full((6, 5), -100.0)
    peaked[:, 0] = 100.0
    assert alpha_entropy({"cell": peaked}) == pytest.approx(0.0, abs=1e-6)
    mixed = {"normal": torch.zeros(14, 8), "reduce": torch.full((14, 8), -1e3)}
    mixed["reduce"][:, 3] = 1e3
    assert alpha_entropy(mixed) == pytest.approx(math.log(8) / 2)


def _random_genotypes():
    out = []
    for seed in range(5):
        gen = torch.Generator().manual_seed(seed)
        out.append(derive_genotype("darts", {k: torch.randn(14, 8, generator=gen) for k in ("normal", "reduce")}))
        out.append(derive_genotype("nb201", {"cell": torch.randn(6, 5, generator=gen)}))
    return out + list(PUBLISHED_GENOTYPES.values())


@pytest.mark.parametrize("genotype", _random_genotypes(), ids=str)
def test_round_trips(genotype):
    space = genotype.space
    assert genotype_from_dict(json.loads(json.dumps(genotype.to_dict()))) == genotype
    assert type(genotype).from_dict(genotype.to_dict()) == genotype
    assert parse_genotype(space, genotype.to_json()) == genotype
    assert parse_genotype(space, str(genotype)) == genotype
    assert genotype.to_dict()["space"] == space
    assert genotype_hash(genotype) == genotype.key and len(genotype.key) == 12


def test_published_cells_are_methods():
    def cell(text):
        words = text.split()
        return tuple((words[i], int(words[i + 1])) for i in range(0, len(words), 2))

    v2 = PUBLISHED_GENOTYPES["DARTS_V2"]
    assert v2.normal == cell("sep_conv_3x3 0 sep_conv_3x3 1 sep_conv_3x3 0 sep_conv_3x3 1 "
                             "sep_conv_3x3 1 skip_connect 0 skip_connect 0 dil_conv_3x3 2")
    assert v2.reduce == cell("max_pool_3x3 0 max_pool_3x3 1 skip_connect 2 max_pool_3x3 1 "
                             "max_pool_3x3 0 skip_connect 2 skip_connect 2 max_pool_3x3 1")
    v1 = PUBLISHED_GENOTYPES["DARTS_V1"]
    assert v1.normal == cell("sep_conv_3x3 1 sep_conv_3x3 0 skip_connect 0 sep_conv_3x3 1 "
                             "skip_connect 0 sep_conv_3x3 1 sep_conv_3x3 0 skip_connect 2")
    assert v1.reduce == cell("max_pool_3x3 0 max_pool_3x3 1 skip_connect 2 max_pool_3x3 0 "
                             "max_pool_3x3 0 skip_connect 2 skip_connect 2 avg_pool_3x3 0")
    assert v1.normal_concat == v2.reduce_concat == (2, 3, 4, 5)
    assert v2.num_parameter_free_ops() == 2
    assert v2.num_parameter_free_ops("reduce") == 8 and v2.num_parameter_free_ops("both") == 10


def test_strings_in_the_familiar_forms():
    v2 = PUBLISHED_GENOTYPES["DARTS_V2"]
    assert str(v2).startswith("Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ")
    assert str(v2).endswith("('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])")
    text = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
    nb = parse_genotype("nb201", text)
    assert str(nb) == text
    assert nb.ops == ("nor_conv_3x3", "nor_conv_3x3", "avg_pool_3x3", "skip_connect", "nor_conv_3x3", "skip_connect")
    assert nb.num_parameter_free_ops() == 3


def test_parse_accepts_darts_repo_spellings(tmp_path):
    v2 = PUBLISHED_GENOTYPES["DARTS_V2"]
    with_range = str(v2).replace("concat=[2, 3, 4, 5]", "concat=range(2, 6)")
    assert parse_genotype("darts", with_range) == v2
    def nest(pairs):
        return repr([list(pairs[i : i + 2]) for i in range(0, 8, 2)])

    nested = (f"Genotype(normal={nest(v2.normal)}, normal_concat=range(2, 6), "
              f"reduce={nest(v2.reduce)}, reduce_concat=range(2, 6))")
    assert parse_genotype("darts", nested) == v2
    with pytest.raises(SearchSpaceError, match="only literals"):
        parse_genotype("darts", with_range.replace("normal_concat=range(2, 6)", "normal_concat=list(x)"))
    assert parse_genotype("darts", "darts_v2") == v2
    path = tmp_path / "g.json"
    path.write_text(json.dumps({**v2.to_dict(), "str": str(v2)}))
    assert parse_genotype("darts", str(path)) == v2


def test_hash_ignores_pair_order_within_a_node():
    v2 = PUBLISHED_GENOTYPES["DARTS_V2"]
    swapped = DartsGenotype(
        [v2.normal[1], v2.normal[0], *v2.normal[2:]], v2.normal_concat, v2.reduce, v2.reduce_concat
    )
    assert swapped != v2 and swapped.key == v2.key
    assert v2.key != PUBLISHED_GENOTYPES["DARTS_V1"].key
    assert v2.key == DartsGenotype.from_dict(v2.to_dict()).key  # stable across instances


BAD_SPECS = [
    ("darts", "NOT_A_NAME"),
    ("darts", "NB201_RESNET"),
    ("nb201", "DARTS_V2"),
    ("darts", "missing_file.json"),
    ("darts", "{not json"),
    ("darts", "Genotype(normal=[('conv_9x9', 0)] * 8)"),
    ("darts", "__import__('os').system('true')"),
    ("darts", str(PUBLISHED_GENOTYPES["DARTS_V2"]).replace("('dil_conv_3x3', 2)", "('dil_conv_3x3', 5)")),
    ("darts", str(PUBLISHED_GENOTYPES["DARTS_V2"]).replace("('dil_conv_3x3', 2)", "('nor_conv_3x3', 2)")),
    ("darts", str(PUBLISHED_GENOTYPES["DARTS_V2"]).replace("('sep_conv_3x3', 0), ", "", 1)),
    ("darts", str(PUBLISHED_GENOTYPES["DARTS_V2"]).replace("normal_concat=[2, 3, 4, 5]", "normal_concat=[2, 6]")),
    ("nb201", "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|"),
    ("nb201", "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~2|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"),
    ("nb201", "|conv_7x7~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"),
    ("nb201", "|nor_conv_3x3-0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"),
    ("nb201", "|nor_conv_3x3~0+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"),
    ("nb201", '{"space": "nb201", "ops": ["none"]}'),
    ("nb201", '{"space": "darts", "ops": ["none", "none", "none", "none", "none", "none"]}'),
    ("nb201", ""),
    ("resnet", "DARTS_V2"),
]


@pytest.mark.parametrize(("space", "spec"), BAD_SPECS)
def test_bad_genotype_specs_raise(space, spec):
    with pytest.raises(SearchSpaceError):
        parse_genotype(space, spec)


def test_direct_construction_is_validated():
    with pytest.raises(SearchSpaceError, match="out of range"):
        DartsGenotype([("sep_conv_3x3", 2)] * 8, [2, 3, 4, 5], [("sep_conv_3x3", 0)] * 8, [2, 3, 4, 5])
    with pytest.raises(SearchSpaceError):
        Nb201Genotype(("skip_connect",) * 5)
