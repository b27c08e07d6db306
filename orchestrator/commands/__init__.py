"""One module per `alphadarts` subcommand.

Each module exposes `add_parser(subparsers)` (registers its flags) and `run(args) -> int`.
The top-level `--help` imports every module and calls every `add_parser`, so a module imports
torch, Ray, pandas and what imports them inside `run`, after the config is checked: flag
choices come from torch-free lists (`search_space.catalog`, `trainables.datasets`).
"""
