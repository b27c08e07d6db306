"""`alphadarts` entry point: parse the command line, dispatch, map bad input to exit code 2.

(Developers' note; what users read is USER_HELP below.)
"""

from __future__ import annotations

import argparse
import importlib
import logging
import signal
import sys
import threading
import traceback

from orchestrator import console, interrupts

#: subcommand name -> module under orchestrator.commands. Only the module of the command
#: being run is imported (all of them for the top-level help); a module imports torch, Ray or
#: pandas only when its command runs, so `--help` and a refused config take no seconds
#: (tests/unit/test_cli_imports.py).
COMMANDS = {
    "inspect": "inspect_cmd",
    "lookup": "lookup_cmd",
    "genotype": "genotype_cmd",
    "search": "search_cmd",
    "bench": "bench_cmd",
    "sweep": "sweep_cmd",
    "results": "results_cmd",
    "retrain": "retrain_cmd",
    "pipeline": "pipeline_cmd",
    "report": "report_cmd",
    "dashboard": "dashboard_cmd",
    "doctor": "doctor_cmd",
}


USER_HELP = """\
alphadarts: differentiable architecture search (DARTS) with masked image modeling (αDARTS),
run on Ray: sweeps the MIM knobs with Tune + Optuna, retrains the best cells over seeds, and
reports which architecture wins and how good it really is.

Start here:
  alphadarts pipeline quickstart                  the whole job on offline data (a few minutes on a CPU)
  alphadarts dashboard runs/quickstart-pipeline   TensorBoard + optuna-dashboard while it runs or after
  alphadarts results runs/quickstart-pipeline     sweep + retrain leaderboards, answer per mask ratio
Each command ends with the commands to run next; a genotype is named as a leaderboard prints
it, e.g. --genotype runs/quickstart-pipeline:HASH (a unique prefix will do).

CONFIG is a YAML file, a preset (quickstart, cifar10, cifar100, nb201-cifar10) or a run's
directory (the config it ran with); --set k=v overrides any field. Bad input exits 2 with
one line naming the field, the value and what is allowed; a run that fails exits 1."""

EPILOG = "`alphadarts COMMAND --help` describes one command. README.md has the rest."

#: commands whose SIGINT / SIGTERM ends in one line naming the command that resumes them
#: (orchestrator.interrupts); the others end on Ctrl+C with "interrupted", exit 130
RESUMABLE = ("search", "sweep", "retrain", "pipeline")

#: -q / default / -v: what the console shows (orchestrator.console) and the log level
VERBOSITY = {0: logging.WARNING, 1: logging.INFO, 2: logging.INFO}


class _Parser(argparse.ArgumentParser):
    """argparse that reports bad flags as one line and exit code 2 (its own default is 2 too,
    but it prints the whole usage block first)."""

    def error(self, message: str) -> None:  # noqa: D401 - argparse API
        self.exit(2, f"alphadarts: error: {message}\n")


#: errors that mean bad input (exit 2) and errors that mean a failed run (exit 1), as
#: "module:Class". A class is looked up only where its module is already imported: nothing
#: can raise an error of a module never imported, and the CLI imports no more than the
#: command it runs needs.
BAD_INPUT = ("orchestrator.errors:UsageError", "search_space.errors:SearchSpaceError",
             "trainables.errors:InputError")
RUN_FAILED = ("orchestrator.errors:RunFailed", "trainables.errors:NonFiniteLossError",
              "trainables.errors:ResultWriteError")


def _loaded(names: tuple[str, ...]) -> tuple[type, ...]:
    classes = []
    for name in names:
        module, cls = name.split(":")
        if module in sys.modules:
            classes.append(getattr(sys.modules[module], cls))
    return tuple(classes)


def _named_command(argv: list[str]) -> str | None:
    """The command argv runs: its first word that is not a flag (the top-level flags take no
    value), if it names one."""
    word = next((arg for arg in argv if not arg.startswith("-")), None)
    return word if word in COMMANDS else None


def _available_commands(only: str | None = None) -> dict[str, object]:
    modules = {}
    for name, module in COMMANDS.items():
        if only is not None and name != only:
            continue
        try:
            modules[name] = importlib.import_module(f"orchestrator.commands.{module}")
        except ModuleNotFoundError as exc:  # a command whose module is not written yet
            if exc.name != f"orchestrator.commands.{module}":
                raise
    return modules


def version() -> str:
    from importlib.metadata import PackageNotFoundError, version as installed

    try:
        return installed("alphadarts")
    except PackageNotFoundError:  # run from a checkout without installing
        return "unknown (not installed)"


def _add_global_flags(parser: argparse.ArgumentParser, default) -> None:
    """Flags every command takes, before or after its name (`alphadarts -q sweep ...` and
    `alphadarts sweep ... -q`)."""
    parser.add_argument("--debug", action="store_true", default=default,
                        help="show tracebacks for errors, log at DEBUG")
    loud = parser.add_mutually_exclusive_group()
    loud.add_argument("-q", "--quiet", dest="verbosity", action="store_const", const=0, default=default,
                      help="warnings and results only: no progress table, no INFO logs")
    loud.add_argument("-v", "--verbose", dest="verbosity", action="store_const", const=2,
                      default=default, help="the progress table for new epochs every 5 s instead of every 2 min")


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The whole command line; given the arguments, only the command they name is built
    (and its module imported), so a command starts without the others' imports."""
    parser = _Parser(prog="alphadarts", description=USER_HELP, epilog=EPILOG,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"alphadarts {version()}")
    _add_global_flags(parser, None)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser,
                                metavar="COMMAND", title="commands")
    for module in _available_commands(None if argv is None else _named_command(argv)).values():
        module.add_parser(sub)
    for command in sub.choices.values():
        _add_global_flags(command, argparse.SUPPRESS)  # the top-level value unless given here
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    debug = bool(args.debug)
    verbosity = 1 if args.verbosity is None else args.verbosity
    logging.basicConfig(
        level=logging.DEBUG if debug else VERBOSITY[verbosity],
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger().setLevel(logging.DEBUG if debug else VERBOSITY[verbosity])
    console.set_verbosity(verbosity)
    interrupts.reset()
    previous_sigterm = signal.getsignal(signal.SIGTERM)
    resumable = args.command in RESUMABLE
    if resumable:
        interrupts.install()
    try:
        return int(args.run(args) or 0)
    except (interrupts.Interrupted, KeyboardInterrupt) as exc:
        if debug:
            traceback.print_exc()
        _quiet_ray()  # ends the local Ray this command started, with its processes
        if not resumable:
            print("alphadarts: interrupted", file=sys.stderr)
            return 130
        if not isinstance(exc, interrupts.Interrupted):  # stopped before a stage said where
            exc = interrupts.Interrupted("before it could say where (what it saved is kept)")
        print(exc.line(argv), file=sys.stderr)
        return exc.exit_code
    except Exception as exc:
        bad_input = isinstance(exc, _loaded(BAD_INPUT))
        if not bad_input and not isinstance(exc, _loaded(RUN_FAILED)):
            raise
        if debug:  # the traceback as well, but the same exit code (a 2 stays a 2)
            traceback.print_exc()
        if bad_input:
            print(f"alphadarts: error: {one_line_message(exc)}", file=sys.stderr)
            return 2
        _quiet_ray()
        print(f"alphadarts: failed: {one_line_message(exc)}", file=sys.stderr)
        return 1
    finally:
        if previous_sigterm is not None and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, previous_sigterm)


#: longest error line printed; what an inner library packs into one exception (every size
#: mismatch of a state dict) can run to thousands of lines, which `--debug` still shows
MAX_MESSAGE = 600


def one_line_message(exc: BaseException) -> str:
    """The error as the one line the user reads: line breaks folded, a runaway text cut in
    the middle: its start says what failed, its end what to do (our messages end with the
    way on: the checkpoint to resume from, the setting to change)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if len(text) > MAX_MESSAGE:
        half = MAX_MESSAGE // 2
        text = f"{text[:half].rstrip()} ... (cut; --debug shows all of it) ... {text[-half:].lstrip()}"
    return text


def _quiet_ray() -> None:
    """Disconnect from Ray before the final message, so that its log forwarding from the
    workers does not print after the one line the user needs."""
    ray = sys.modules.get("ray")
    if ray is not None and ray.is_initialized():
        ray.shutdown()


if __name__ == "__main__":
    sys.exit(main())
