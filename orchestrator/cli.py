"""`alphadarts` entry point: parse the command line, dispatch, map bad input to exit code 2."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from orchestrator.errors import RunFailed, UsageError
from search_space.errors import SearchSpaceError
from trainables.errors import InputError, NonFiniteLossError

#: subcommand name -> module under orchestrator.commands (imported lazily: `inspect` must not
#: pay for importing Ray).
COMMANDS = {
    "inspect": "inspect_cmd",
    "genotype": "genotype_cmd",
    "search": "search_cmd",
    "bench": "bench_cmd",
    "sweep": "sweep_cmd",
    "results": "results_cmd",
    "retrain": "retrain_cmd",
    "pipeline": "pipeline_cmd",
    "report": "report_cmd",
    "dashboard": "dashboard_cmd",
}


class _Parser(argparse.ArgumentParser):
    """argparse that reports bad flags as one line and exit code 2 (its own default is 2 too,
    but it prints the whole usage block first)."""

    def error(self, message: str) -> None:  # noqa: D401 - argparse API
        self.exit(2, f"alphadarts: error: {message}\n")


def _available_commands() -> dict[str, object]:
    modules = {}
    for name, module in COMMANDS.items():
        try:
            modules[name] = importlib.import_module(f"orchestrator.commands.{module}")
        except ModuleNotFoundError as exc:  # a command whose module is not written yet
            if exc.name != f"orchestrator.commands.{module}":
                raise
    return modules


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="alphadarts", description=__doc__)
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for module in _available_commands().values():
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    debug = "--debug" in argv
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except (UsageError, SearchSpaceError, InputError) as exc:
        if debug:
            raise
        print(f"alphadarts: error: {exc}", file=sys.stderr)
        return 2
    except (RunFailed, NonFiniteLossError) as exc:
        if debug:
            raise
        _quiet_ray()
        print(f"alphadarts: failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("alphadarts: interrupted", file=sys.stderr)
        return 130


def _quiet_ray() -> None:
    """Disconnect from Ray before the final message, so that its log forwarding from the
    workers does not print after the one line the user needs."""
    ray = sys.modules.get("ray")
    if ray is not None and ray.is_initialized():
        ray.shutdown()


if __name__ == "__main__":
    sys.exit(main())
