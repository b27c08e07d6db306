"""The `sweep` section of the config: which search knobs Tune explores, what it optimises,
how many trials, how ASHA prunes them and how many run at once.

A knob is either a range (`{low, high}`, optionally `step` or `log`) or a list of choices.
Each value is checked here against the same rule the search config applies to that field,
so `mask_ratio: {low: 0, high: 1.5}` fails at the door. Rules that tie a knob to the rest of
the config (a patch size must divide the image) are checked per trial: such a trial is
recorded as failed, with the reason, and the sweep goes on.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from orchestrator.errors import UsageError
from orchestrator.validation_errors import describe_validation_error
from trainables.config import MimConfig, SearchConfig, StrictModel
from trainables.metrics import OBJECTIVE_GOALS, PROXY_METRICS, SUPERNET_METRICS

#: knob -> the path of the SearchConfig field it sets.
KNOB_FIELDS: dict[str, tuple[str, ...]] = {
    "mask_ratio": ("mim", "mask_ratio"),
    "seed": ("seed",),
    "decoder_depth": ("mim", "decoder_depth"),
    "mim_weight": ("mim", "mim_weight"),
    "patch_size": ("mim", "patch_size"),
    "phases": ("mim", "phases"),
}

#: how a `phases` choice travels through Optuna, which takes only scalars: "weights+alpha".
PHASES_SEPARATOR = "+"

class FloatRange(StrictModel):
    low: float
    high: float
    step: float | None = Field(None, gt=0, description="a grid: low, low+step, ... <= high")
    log: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> "FloatRange":
        if not self.low < self.high:
            raise ValueError(f"low={self.low} must be below high={self.high}")
        if self.step is not None and self.log:
            raise ValueError("step and log=true cannot be combined")
        if self.step is not None and not _is_multiple(self.high - self.low, self.step):
            raise ValueError(f"high - low = {self.high - self.low:g} must be a multiple of step={self.step:g}")
        if self.log and self.low <= 0:
            raise ValueError(f"log=true needs low > 0, got low={self.low}")
        return self

    def values_to_check(self) -> list[float]:
        return [self.low, self.high]


def _is_multiple(span: float, step: float) -> bool:
    ratio = span / step
    return abs(ratio - round(ratio)) < 1e-9


class IntRange(StrictModel):
    low: int
    high: int

    @model_validator(mode="after")
    def _ordered(self) -> "IntRange":
        if not self.low < self.high:
            raise ValueError(f"low={self.low} must be below high={self.high}")
        return self

    def values_to_check(self) -> list[int]:
        return [self.low, self.high]


Phases = tuple[Literal["weights", "alpha"], ...]


class SweepSpace(StrictModel):
    """`null` leaves a knob out of the sweep: trials then use the `search` section's value."""

    mask_ratio: FloatRange | tuple[float, ...] | None = FloatRange(low=0.0, high=0.75, step=0.25)
    seed: IntRange | tuple[int, ...] | None = (0, 1, 2)
    decoder_depth: IntRange | tuple[int, ...] | None = (0, 1, 2)
    mim_weight: FloatRange | tuple[float, ...] | None = None
    patch_size: tuple[int, ...] | None = None
    phases: tuple[Phases, ...] | None = None

    @field_validator(*KNOB_FIELDS, mode="before")
    @classmethod
    def _parse_range(cls, value, info):
        """A mapping is a range: parse it here so an error names the range, not the union."""
        range_type = _RANGE_TYPES.get(info.field_name)
        if not isinstance(value, dict):
            return value
        if range_type is None:
            raise ValueError("give a list of choices; this knob takes no range")
        try:
            return range_type.model_validate(value)
        except ValidationError as exc:
            raise ValueError(describe_validation_error(exc, with_input=False)) from None

    @field_validator(*KNOB_FIELDS, mode="after")
    @classmethod
    def _values_allowed(cls, value, info):
        if value is None:
            return value
        values = value.values_to_check() if hasattr(value, "values_to_check") else value
        if not values:
            raise ValueError("give at least one choice, or null to leave the knob out")
        if isinstance(value, tuple) and len(set(values)) != len(values):
            raise ValueError("choices must be distinct")
        for item in values:
            _check_knob_value(info.field_name, item)
        return value

    @model_validator(mode="after")
    def _something_swept(self) -> "SweepSpace":
        if not self.swept:
            raise ValueError("no knob is swept; give a range or choices for at least one of "
                             + ", ".join(KNOB_FIELDS))
        return self

    @property
    def swept(self) -> list[str]:
        """The swept knobs, in the fixed order of KNOB_FIELDS (the seed included)."""
        return [name for name in KNOB_FIELDS if getattr(self, name) is not None]

    @property
    def searched(self) -> list[str]:
        """The knobs the searcher proposes: every swept knob but the seed, which is not a
        knob to tune but a replicate (every setting runs every seed)."""
        return [name for name in self.swept if name != "seed"]

    @property
    def seeds(self) -> list[int] | None:
        """The seeds every setting runs, or None when the seed is not swept."""
        if self.seed is None:
            return None
        if isinstance(self.seed, IntRange):
            return list(range(self.seed.low, self.seed.high + 1))
        return list(self.seed)


_RANGE_TYPES = {
    "mask_ratio": FloatRange, "mim_weight": FloatRange, "seed": IntRange, "decoder_depth": IntRange,
}


def _check_knob_value(knob: str, value) -> None:
    """Apply the search config's own rule for the field this knob sets."""
    path = KNOB_FIELDS[knob]
    model, data = (MimConfig, {path[1]: value}) if path[0] == "mim" else (SearchConfig, {knob: value})
    try:
        model.model_validate(data)
    except ValidationError as exc:
        raise ValueError(f"{value!r} is not allowed: {exc.errors()[0]['msg']}") from None


#: knobs that change how the supernet is trained (what it sees and what it must recover)
MIM_KNOBS = ("mask_ratio", "mim_weight", "patch_size", "phases", "decoder_depth")

#: the key Ray Tune's `Repeater` puts in a trial's config: which replicate (seed) it is
#: (ray.tune.search.repeater.TRIAL_INDEX, named here so that the config imports no Ray)
TRIAL_INDEX = "__trial_index__"


class Objective(StrictModel):
    """What the sweep optimises; the direction follows from the metric (accuracies up,
    cross-entropies down), so a sweep cannot maximise a loss by a slip.

    The default, `proxy_acc`, scores the derived genotype alone (trained from scratch by
    the `proxy` section, on images held out of the training set), so trials that trained
    their supernets on different inputs are compared by what they found. ASHA prunes on
    the objective itself: each trial scores its genotype at ASHA's rung epochs."""

    metric: str = Field("proxy_acc", description="a metric with a goal (trainables.metrics)")

    @field_validator("metric")
    @classmethod
    def _optimisable(cls, value: str) -> str:
        if value not in OBJECTIVE_GOALS:
            raise ValueError(f"allowed: {', '.join(OBJECTIVE_GOALS)}")
        return value

    @property
    def mode(self) -> str:
        return OBJECTIVE_GOALS[self.metric]

    @property
    def needs_proxy(self) -> bool:
        return self.metric in {m.name for m in PROXY_METRICS}

    @property
    def pruning_metric(self) -> str:
        """What ASHA compares at its rungs: the objective (a proxy objective is scored at
        every rung epoch)."""
        return self.metric


class AshaConfig(StrictModel):
    """ASHA on `epoch`: a trial may stop at epochs grace, grace*rf, grace*rf^2, ..."""

    grace_period: int = Field(1, ge=1, description="epochs every trial runs before it can stop")
    reduction_factor: float = Field(2.0, gt=1.0)

    def rung_epochs(self, max_epochs: int) -> tuple[int, ...]:
        """The epochs whose reports ASHA compares, as Ray's ASHAScheduler places its rungs
        (grace * rf^k for k = 0 .. int(log(max/grace) / log(rf)); the first report at or
        after a rung is the one compared), with the last epoch, where every trial ends."""
        count = int(math.log(max_epochs / self.grace_period) / math.log(self.reduction_factor) + 1)
        rungs = {math.ceil(self.grace_period * self.reduction_factor ** k) for k in range(count)}
        return tuple(sorted({e for e in rungs if e <= max_epochs} | {max_epochs}))


class SweepConfig(StrictModel):
    space: SweepSpace = SweepSpace()
    objective: Objective = Objective()
    num_samples: int = Field(12, ge=1, description="number of trials: settings x seeds")
    max_concurrent_trials: int | None = Field(
        None, ge=1, description="default: as many trials as the cluster's CPUs/GPUs hold"
    )
    scheduler: AshaConfig = AshaConfig()
    sampler_seed: int = Field(0, ge=0, description="seed of Optuna's TPE sampler")
    max_trial_failures: int = Field(
        0, ge=0, description="times Tune restarts a failed trial before recording it as ERROR"
    )

    @model_validator(mode="after")
    def _comparable_objective(self) -> "SweepConfig":
        swept = [k for k in MIM_KNOBS if k in self.space.swept]
        if self.objective.metric in SUPERNET_METRICS and swept:
            raise ValueError(
                f"objective.metric={self.objective.metric!r} is a supernet metric, which compares "
                f"supernets trained on different inputs when a MIM knob is swept ({', '.join(swept)}); "
                "use proxy_acc (a score of the derived genotype), or sweep only the seed"
            )
        return self

    @model_validator(mode="after")
    def _every_setting_runs_every_seed(self) -> "SweepConfig":
        seeds = len(self.space.seeds or [None])
        if not self.space.searched and self.num_samples != seeds:
            raise ValueError(f"num_samples={self.num_samples}: only the seed is swept, so the sweep "
                             f"is one setting run with each of its {seeds} seeds; set num_samples={seeds}")
        if self.num_samples % seeds:
            lower, upper = self.num_samples // seeds * seeds, (self.num_samples // seeds + 1) * seeds
            allowed = f"{lower} or {upper}" if lower else str(upper)
            raise ValueError(
                f"num_samples={self.num_samples} must be a multiple of the {seeds} seeds (each "
                f"setting runs every seed): {allowed}"
            )
        return self

    @property
    def settings(self) -> int:
        """How many knob settings Optuna proposes: each runs once per seed."""
        return self.num_samples // len(self.space.seeds or [None])


def trial_knobs(config: dict, seeds: list[int] | None) -> dict:
    """A trial's knobs from its Tune config: the searcher's knobs, and the seed of its
    replicate (`Repeater`'s index into `seeds`) where the seed is swept."""
    knobs = {k: v for k, v in config.items() if k != TRIAL_INDEX}
    if seeds is not None:
        knobs["seed"] = seeds[int(config.get(TRIAL_INDEX, 0))]
    return knobs


def encode_phases(phases: tuple[str, ...]) -> str:
    return PHASES_SEPARATOR.join(phases)


def apply_knobs(search: SearchConfig, knobs: dict) -> SearchConfig:
    """`search` with one trial's knob values (phases encoded), re-validated as a whole: a
    combination the search config refuses (a patch size that does not divide the image)
    raises UsageError naming the knobs and the rule."""
    top, mim = {}, {}
    for knob, value in knobs.items():
        if knob not in KNOB_FIELDS:
            raise UsageError(f"knob {knob!r} is not known; allowed: {', '.join(KNOB_FIELDS)}")
        if knob == "phases":
            value = tuple(p for p in value.split(PHASES_SEPARATOR) if p)
        path = KNOB_FIELDS[knob]
        (mim if path[0] == "mim" else top)[path[-1]] = value
    updated = search.model_copy(update={**top, "mim": search.mim.model_copy(update=mim)})
    try:
        return SearchConfig.model_validate(updated.model_dump())
    except ValidationError as exc:
        reasons = describe_validation_error(exc, with_input=False)
        raise UsageError(f"knobs {knobs} do not fit the search config: {reasons}") from None
