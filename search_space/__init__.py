"""The architecture spaces of αDARTS: a registry of `SearchSpace` objects (torch modules and
builders), one package per space, and the helpers that build, parse and derive through the
registry.

`orchestrator` and `trainables` import from here only, never from the submodules, except
`search_space.catalog`: the torch-free list of names (spaces, ops, published genotypes,
checkpointing modes) that configs and `--help` check against.

The names below are imported on first use, not with the package: `import search_space.catalog`
(a config, the command line) must not import torch, and a shipped space registers itself when
first asked for (search_space.registry).
"""

from __future__ import annotations

import importlib

#: exported name -> the submodule that defines it
_EXPORTS: dict[str, str] = {
    "alpha_entropy": "alphas",
    "alpha_top_weight": "alphas",
    "build_network": "build",
    "build_op": "build",
    "build_search_op": "build",
    "build_supernet": "build",
    "ops_for": "build",
    "CHECKPOINT_MODES": "catalog",
    "feature_stride": "catalog",
    "published_names": "catalog",
    "alpha_shapes": "derive",
    "derive_genotype": "derive",
    "validate_alphas": "derive",
    "SearchSpaceError": "errors",
    "Genotype": "genotype_io",
    "PUBLISHED_GENOTYPES": "genotypes",
    "genotype_from_dict": "genotypes",
    "genotype_hash": "genotypes",
    "set_narrow_subsampling": "layers",
    "narrow_strided_convs": "strided_pointwise",
    "MixedOp": "mixed_op",
    "parse_genotype": "parse",
    "get_space": "registry",
    "register_space": "registry",
    "space_names": "registry",
    "unregister_space": "registry",
    "SearchSpace": "space",
    "count_macs": "summary",
    "count_parameters": "summary",
    "Supernet": "supernet_base",
    # the shipped spaces, and what tests and users reach for by name
    "DARTS": "darts",
    "DartsGenotype": "darts",
    "DartsSupernet": "darts",
    "NetworkCIFAR": "darts",
    "NetworkImageNet": "darts",
    "OPS_DARTS": "darts",
    "NB201": "nb201",
    "NB201_EDGES": "nb201",
    "Nb201Genotype": "nb201",
    "Nb201Network": "nb201",
    "Nb201Supernet": "nb201",
    "OPS_NB201": "nb201",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'search_space' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"search_space.{module}"), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
