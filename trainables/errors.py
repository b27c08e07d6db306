"""Errors raised by what runs on workers.

`InputError` is bad user input discovered here (a data directory, a checkpoint): the CLI
prints it as one line and exits 2. `NonFiniteLossError` is a run that diverged: it names the
epoch and step so that the user can find the moment in the metrics.
"""


class InputError(ValueError):
    """Bad input (data directory, checkpoint, batch size vs data size): exit code 2."""


class NonFiniteLossError(RuntimeError):
    """The loss became NaN or infinite; the run stops instead of writing garbage α."""

    def __init__(self, epoch: int, step: int, phase: str, value: float):
        super().__init__(
            f"non-finite {phase} loss ({value}) at epoch {epoch}, step {step}; "
            "lower optim.w_lr / optim.alpha_lr or mim.mim_weight"
        )
        self.epoch, self.step, self.phase, self.value = epoch, step, phase, value

    def __reduce__(self):
        # Ray carries a worker's exception to the driver pickled; the default reduction
        # calls __init__ with the message alone, which fails, and the cause is lost
        return (self.__class__, (self.epoch, self.step, self.phase, self.value))


class ResultWriteError(OSError):
    """A file could not be written (disk full, quota, read-only disk): its previous version
    is kept whole (`trainables.atomic_files`). The CLI prints the message as one line and
    exits 1; `errno` is the operating system's."""
