"""What to run next: the commands a command ends with, built from the paths it just wrote.

Why: each command used to print a directory and leave the user to guess which command takes
it. Every line printed here is one whole command, its words quoted for a POSIX shell
(`shlex`), so that pasting the line runs it; nothing else shares those lines (a trailing `#`
comment would reach zsh's prompt as an argument: it takes no comments by default).

The retrain of the winner names the experiment's directory as its CONFIG (the config the
experiment ran with, orchestrator.config) and the winner as DIR:HASH (orchestrator.
genotype_ref), with one seed more than it has: the retrain runs that seed alone and reports
the winner over all of them.
"""

from __future__ import annotations

import json
import shlex

from orchestrator.cluster.storage import is_file, is_uri, join, read_bytes

PROGRAM = "alphadarts"
#: seeds to suggest for a genotype not retrained yet, when the experiment's config says none
DEFAULT_SEEDS = 2


def command(*words) -> str:
    """`alphadarts WORDS...`, quoted for pasting into a shell."""
    return shlex.join([PROGRAM, *(str(w) for w in words)])


def experiment_commands(directory: str, *, has_sweep: bool, winner: str | None = None,
                        winner_seeds: int = 0, skip: tuple[str, ...] = ()) -> list[str]:
    """results, report (it needs a sweep), dashboard of `directory`; with a winner, its size
    (`inspect`) and its retrain with one seed more than `winner_seeds` (or the experiment's
    `pipeline.retrain_seeds` when it has none). Commands named in `skip` are left out."""
    found = []
    if "results" not in skip:
        found.append(command("results", directory))
    if has_sweep and "report" not in skip:
        found.append(command("report", directory))
    if "dashboard" not in skip:
        found.append(command("dashboard", directory))
    if winner:
        reference = f"{directory}:{winner}"
        if "inspect" not in skip:
            found.append(command("inspect", "--genotype", reference))
        # the retrain's CONFIG is the config the directory's run was started with
        if "retrain" not in skip and not is_uri(directory) and is_file(join(directory, "config.json")):
            found.append(retrain_command(directory, winner, winner_seeds))
    return found


def retrain_command(directory: str, winner: str, winner_seeds: int = 0) -> str:
    seeds = winner_seeds + 1 if winner_seeds else configured_seeds(directory)
    return command("retrain", directory, "--genotype", f"{directory}:{winner}", "--seeds", seeds)


def configured_seeds(directory: str) -> int:
    """`pipeline.retrain_seeds` of the config the directory's run was started with."""
    path = join(directory, "config.json")
    try:
        config = json.loads(read_bytes(path)) if is_file(path) else {}
        return int(config.get("pipeline", {}).get("retrain_seeds", DEFAULT_SEEDS))
    except (OSError, ValueError, TypeError, AttributeError):
        return DEFAULT_SEEDS


def print_next(commands: list[str]) -> None:
    if commands:
        print("next:")
        for line in commands:
            print(f"  {line}")
