"""The arguments every stage command (search, sweep, retrain, pipeline) takes, declared once:
CONFIG and --set, --address, --restart, the resource wait and --json."""

from __future__ import annotations

from orchestrator.config import add_config_arguments
from orchestrator.cluster.ray_runtime import add_address_argument
from orchestrator.cluster.resources import add_resource_arguments
from orchestrator.cluster.run_identity import add_restart_argument

JSON_HELP = "end with one JSON line of results"


def add_stage_arguments(parser, json_help: str = JSON_HELP) -> None:
    add_config_arguments(parser)
    add_address_argument(parser)
    add_restart_argument(parser)
    add_resource_arguments(parser)
    parser.add_argument("--json", action="store_true", help=json_help)
