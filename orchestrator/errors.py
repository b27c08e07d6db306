"""The one error type the command line turns into exit code 2.

Every door (CLI flags, config files, genotype strings, α files, datasets, checkpoints) raises
`UsageError` -- or a `ValueError` subclass from an inner package, such as
`search_space.SearchSpaceError` -- with one sentence that names the field, the value and what
is allowed. The CLI prints that sentence and exits 2; only `--debug` shows a traceback.
"""


class UsageError(ValueError):
    """Bad input from the user: printed as one line, exit code 2."""


class RunFailed(RuntimeError):
    """A run that started and then failed (diverged, lost workers too often): exit code 1,
    one line naming where it stopped and how to resume."""
