"""The experiment config: a YAML preset or file, plus `--set key.sub=value` overrides,
validated once into typed objects. Every error names the field, the value and what is allowed.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml
from pydantic import Field, ValidationError, model_validator

from orchestrator.cluster_config import ClusterConfig
from orchestrator.errors import UsageError
from orchestrator.pipeline_config import PipelineConfig
from orchestrator.sweep_config import SweepConfig
from orchestrator.stages.tracking import TrackingConfig
from orchestrator.validation_errors import describe_validation_error
from orchestrator.yaml_input import DuplicateKeyError, load_strict
from search_space.catalog import space_facts, space_names
from trainables.config import DataSource, ModelConfig, SearchConfig, StrictModel
from trainables.train_config import TrainConfig


class ExperimentConfig(StrictModel):
    name: str = Field("alphadarts", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    output_dir: str = Field(
        "runs", description="local directory, shared NFS path, or s3:// / gs:// URI"
    )
    search: SearchConfig = SearchConfig()
    sweep: SweepConfig = SweepConfig()
    retrain: TrainConfig = Field(
        TrainConfig(), description="training a genotype from scratch; default: DARTS CIFAR"
    )
    proxy: TrainConfig | None = Field(
        None, description="a short training of each sweep trial's genotype, for proxy_acc"
    )
    pipeline: PipelineConfig = PipelineConfig()
    cluster: ClusterConfig = ClusterConfig()
    tracking: TrackingConfig = TrackingConfig()

    @model_validator(mode="before")
    @classmethod
    def _training_in_the_search_space(cls, raw):
        """The retrain and proxy sections train genotypes of the searched space: their
        `space` defaults to `search.model.space`, so one setting moves the whole experiment.
        The proxy scores on images held out of the search's own training set: its data
        source (dataset, root) is the search's unless it names one (refused if it differs)."""
        if not isinstance(raw, dict):
            return raw
        raw = dict(raw)
        search = raw.get("search") if isinstance(raw.get("search"), dict) else {}
        proxy = raw.get("proxy")
        if isinstance(proxy, dict) and isinstance(proxy.get("data", {}), dict):
            source = search.get("data") if isinstance(search.get("data"), dict) else {}
            data = dict(proxy.get("data", {}))
            for key in ("dataset", "root"):
                data.setdefault(key, source.get(key, DataSource.model_fields[key].default))
            raw["proxy"] = {**proxy, "data": data}
        model = search.get("model") if isinstance(search.get("model"), dict) else {}
        space = model.get("space", ModelConfig.model_fields["space"].default)
        if space not in space_names():  # an unknown space is reported once, as search's
            return raw
        for section in ("retrain", "proxy"):
            train = raw.get(section, {} if section == "retrain" else None)
            if isinstance(train, dict) and "space" not in train:
                train = {**train, "space": space}
                model = train.get("model", {})
                if isinstance(model, dict) and "auxiliary" not in model:
                    # the protocol's auxiliary head where the space has one (DARTS), else none
                    train["model"] = {**model, "auxiliary": space_facts(space).auxiliary_head}
                raw[section] = train
        return raw

    @model_validator(mode="after")
    def _one_space(self) -> "ExperimentConfig":
        space = self.search.model.space
        for section in ("retrain", "proxy"):
            train = getattr(self, section)
            if train is not None and train.space != space:
                raise ValueError(f"{section}.space={train.space!r} must be the search's space "
                                 f"(search.model.space={space!r})")
        return self

    @model_validator(mode="after")
    def _proxy_scores_on_held_out_training_images(self) -> "ExperimentConfig":
        """The proxy ranks genotypes on images set aside from the search's own training set:
        the same dataset, and a holdout that is not empty."""
        if self.proxy is None:
            return self
        data, search = self.proxy.data, self.search.data
        if (data.dataset, data.root) != (search.dataset, search.root):
            raise ValueError(
                f"proxy.data.dataset={data.dataset!r} (root {data.root!r}) must be the search's "
                f"(search.data.dataset={search.dataset!r}, root {search.root!r}): the proxy scores "
                "genotypes on images held out of the search's training set"
            )
        if data.holdout <= 0:
            raise ValueError(
                f"proxy.data.holdout={data.holdout} must be above 0: the proxy scores genotypes on "
                "that share of the training set, never on the test split (e.g. 0.1)"
            )
        return self

    @property
    def sweep_search(self) -> SearchConfig:
        """The search each sweep trial starts from: with a proxy objective, the images the
        proxy scores on are set aside from the search's training set too."""
        if not self.sweep.objective.needs_proxy or self.proxy is None:
            return self.search
        data = self.search.data.model_copy(update={"holdout": self.proxy.data.holdout})
        return self.search.model_copy(update={"data": data})

    @property
    def storage_path(self) -> str:
        """What Ray gets as `storage_path`: URIs as they are, local paths made absolute."""
        if "://" in self.output_dir:
            return self.output_dir
        return str(Path(self.output_dir).expanduser().resolve())


def preset_names() -> list[str]:
    folder = resources.files("orchestrator") / "presets"
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_config(source: str, overrides: list[str] | None = None) -> ExperimentConfig:
    """`source` is a shipped preset's name, a YAML file's path, or a run's directory (the
    config it ran with: see `_read_run_dir`)."""
    path = Path(source).expanduser()
    run_dir = path.is_dir() and ((path / "config.json").is_file() or source not in preset_names())
    raw = _read_run_dir(source) if run_dir else _read_yaml(source)
    for item in overrides or []:
        _apply_override(raw, item)
    try:
        return ExperimentConfig.model_validate(raw)
    except ValidationError as exc:
        raise UsageError(describe_validation_error(exc, source)) from None


def _read_run_dir(source: str) -> dict:
    """The config a run directory (a sweep's, retrain's, pipeline's or search's) was started
    with, its `config.json`, with `output_dir` set to the folder that holds the directory: so
    that a command printed with that directory as CONFIG (`alphadarts retrain
    runs/NAME-pipeline --genotype ...`) writes beside it from any working directory."""
    import json

    path = Path(source).expanduser()
    file = path / "config.json"
    if not file.is_file():
        raise UsageError(f"config {source!r} is a directory without a config.json: not a run's "
                         "directory; give a preset (" + ", ".join(preset_names()) + "), a YAML "
                         "file or a run's directory")
    try:
        raw = json.loads(file.read_text())
    except (OSError, ValueError) as exc:
        raise UsageError(f"config {source!r}: {file} cannot be read as a config ({exc})") from None
    if not isinstance(raw, dict):
        raise UsageError(f"config {source!r}: {file} does not hold a config")
    raw["output_dir"] = str(path.parent)
    return raw


def _read_yaml(source: str) -> dict:
    path = Path(source).expanduser()
    if source in preset_names() and not path.exists():
        text = (resources.files("orchestrator") / "presets" / f"{source}.yaml").read_text()
        where = f"preset {source!r}"
    elif path.is_file():
        try:
            text = path.read_text()
        except OSError as exc:
            raise UsageError(f"config {source!r} cannot be read ({exc.strerror})") from None
        where = f"config file {source!r}"
    else:
        raise UsageError(
            f"config {source!r} is neither a YAML file nor a preset; presets: "
            + ", ".join(preset_names())
        )
    try:
        raw = load_strict(text)
    except DuplicateKeyError as exc:
        raise UsageError(f"{where}: {exc.problem}; give each key once") from None
    except yaml.YAMLError as exc:
        raise UsageError(f"{where} is not valid YAML ({str(exc).splitlines()[0]})") from None
    if raw is None:  # an empty file is a mistake, not "all defaults" (a 50-epoch CIFAR search)
        raise UsageError(
            f"{where} is empty; to start from defaults, give a preset ("
            + ", ".join(preset_names()) + ") or copy one from orchestrator/presets/ and edit it"
        )
    if not isinstance(raw, dict):
        raise UsageError(f"{where} must be a YAML mapping, not {type(raw).__name__}")
    return raw


def _apply_override(raw: dict, item: str) -> None:
    """`a.b.c=value`; the value is parsed as YAML (numbers, booleans, lists)."""
    key, sep, value = item.partition("=")
    if not sep or not key or any(not part for part in key.split(".")):
        raise UsageError(f"--set {item!r}: expected key.sub=value")
    try:
        parsed = load_strict(value) if value != "" else ""
    except DuplicateKeyError as exc:
        raise UsageError(f"--set {item!r}: {exc.problem}") from None
    except yaml.YAMLError:
        parsed = value
    node = raw
    parts = key.split(".")
    for part in parts[:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise UsageError(f"--set {item!r}: {part!r} is a value, not a section")
        node = child
    current = node.get(parts[-1])
    if isinstance(current, dict) and isinstance(parsed, dict):
        # `--set search.mim={mask_ratio: 0.25}` changes that field: the section's other
        # fields keep the preset's values (replacing the section would reset them silently)
        node[parts[-1]] = _merged(current, parsed)
    elif isinstance(current, dict) and parsed is not None:
        raise UsageError(f"--set {item!r}: {key!r} is a section; give {key}.FIELD=value "
                         f"or {key}={{FIELD: value}}")
    else:
        node[parts[-1]] = parsed


def _merged(base: dict, update: dict) -> dict:
    out = dict(base)
    for key, value in update.items():
        out[key] = _merged(out[key], value) if isinstance(out.get(key), dict) and isinstance(value, dict) else value
    return out


def add_config_arguments(parser) -> None:
    parser.add_argument("config", help="preset name (" + ", ".join(preset_names()) + "), YAML path, "
                        "or a run's directory (the config it ran with)")
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
        help="override a config field, e.g. --set search.mim.mask_ratio=0.3 (repeatable)",
    )
