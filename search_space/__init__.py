"""The architecture spaces of αDARTS (pure torch): a registry of `SearchSpace` objects, one
package per space, and the helpers that build, parse and derive through the registry.

`orchestrator` and `trainables` import from here only, never from the submodules.
"""

from search_space.alphas import alpha_entropy, alpha_top_weight
from search_space.build import (
    build_network,
    build_op,
    build_search_op,
    build_supernet,
    feature_stride,
    ops_for,
)
from search_space.checkpointing import CHECKPOINT_MODES
from search_space.derive import alpha_shapes, derive_genotype, validate_alphas
from search_space.errors import SearchSpaceError
from search_space.genotype_io import Genotype
from search_space.genotypes import (
    PUBLISHED_GENOTYPES,
    genotype_from_dict,
    genotype_hash,
    published_names,
)
from search_space.layers import set_narrow_subsampling
from search_space.strided_pointwise import narrow_strided_convs
from search_space.mixed_op import MixedOp
from search_space.parse import parse_genotype
from search_space.registry import get_space, register_space, space_names, unregister_space
from search_space.space import SearchSpace
from search_space.summary import count_macs, count_parameters
from search_space.supernet_base import Supernet

# The shipped spaces: each package registers its space on import, one line per space.
from search_space.darts import DARTS  # noqa: I001
from search_space.nb201 import NB201

# What tests and users reach for by name.
from search_space.darts import DartsGenotype, DartsSupernet, NetworkCIFAR, NetworkImageNet, OPS_DARTS
from search_space.nb201 import NB201_EDGES, Nb201Genotype, Nb201Network, Nb201Supernet, OPS_NB201

__all__ = [
    "CHECKPOINT_MODES",
    "DARTS",
    "NB201",
    "NB201_EDGES",
    "OPS_DARTS",
    "OPS_NB201",
    "PUBLISHED_GENOTYPES",
    "DartsGenotype",
    "DartsSupernet",
    "Genotype",
    "MixedOp",
    "Nb201Genotype",
    "Nb201Network",
    "Nb201Supernet",
    "NetworkCIFAR",
    "NetworkImageNet",
    "SearchSpace",
    "SearchSpaceError",
    "Supernet",
    "alpha_entropy",
    "alpha_shapes",
    "alpha_top_weight",
    "build_network",
    "build_op",
    "build_search_op",
    "build_supernet",
    "count_macs",
    "count_parameters",
    "derive_genotype",
    "feature_stride",
    "genotype_from_dict",
    "genotype_hash",
    "get_space",
    "narrow_strided_convs",
    "ops_for",
    "parse_genotype",
    "published_names",
    "register_space",
    "set_narrow_subsampling",
    "space_names",
    "unregister_space",
]
