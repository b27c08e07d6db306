"""The architecture spaces of αDARTS (pure torch): ops, supernets, genotypes, networks.

`orchestrator` and `trainables` import from here only, never from the submodules.
"""

from search_space.build import NETWORK_DATASETS, build_network, build_supernet, feature_stride
from search_space.derive import ALPHA_SHAPES, alpha_entropy, alpha_top_weight, derive_genotype, validate_alphas
from search_space.errors import SearchSpaceError
from search_space.genotypes import (
    NB201_EDGES,
    DartsGenotype,
    Genotype,
    Nb201Genotype,
    genotype_from_dict,
    genotype_hash,
)
from search_space.mixed_op import MixedOp
from search_space.network_darts import NetworkCIFAR, NetworkImageNet
from search_space.network_nb201 import Nb201Network
from search_space.operations import (
    OPS_DARTS,
    OPS_NB201,
    PARAMETER_FREE_OPS,
    SPACES,
    build_op,
    build_search_op,
    ops_for,
)
from search_space.parse import parse_genotype
from search_space.published import PUBLISHED_GENOTYPES, published_names
from search_space.reference import ReferenceMixedOp, reference_copy
from search_space.summary import count_macs, count_parameters
from search_space.supernet_base import Supernet
from search_space.supernet_darts import DartsSupernet
from search_space.supernet_nb201 import Nb201Supernet

__all__ = [
    "ALPHA_SHAPES",
    "NB201_EDGES",
    "NETWORK_DATASETS",
    "OPS_DARTS",
    "OPS_NB201",
    "PARAMETER_FREE_OPS",
    "PUBLISHED_GENOTYPES",
    "ReferenceMixedOp",
    "SPACES",
    "DartsGenotype",
    "DartsSupernet",
    "Genotype",
    "MixedOp",
    "Nb201Genotype",
    "Nb201Network",
    "Nb201Supernet",
    "NetworkCIFAR",
    "NetworkImageNet",
    "SearchSpaceError",
    "Supernet",
    "alpha_entropy",
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
    "ops_for",
    "parse_genotype",
    "published_names",
    "reference_copy",
    "validate_alphas",
]
