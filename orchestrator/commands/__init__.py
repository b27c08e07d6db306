"""One module per `alphadarts` subcommand.

Each module exposes `add_parser(subparsers)` (registers its flags) and `run(args) -> int`.
"""
