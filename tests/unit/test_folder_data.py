"""The image-folder data path (the ImageNet source and the generic `folder` one) run for real
on small generated folders: mixed sizes and modes, a corrupt image, an empty class folder. A
search epoch and a retrain epoch go through it, loops called directly (no Ray)."""

import logging
import random
from pathlib import Path

import pytest
from PIL import Image

from helpers import run_cli
from search_space import parse_genotype
from trainables.config import DataConfig, SearchConfig
from trainables.data import check_data_source, load_images
from trainables.errors import InputError
from trainables.reporters import MemoryReporter
from trainables.search_loop import run_search
from trainables.train_config import TrainConfig
from trainables.train_loop import run_train

CLASSES = ("cat", "dog", "owl")
SIZES = ((6, 6), (12, 9), (20, 20), (8, 16))
MODES = ("RGB", "L", "RGBA")


def make_folder(root: Path, per_class: int = 8, val_per_class: int = 2) -> Path:
    """`root/train/<class>/*.png|jpg` and `root/val/...`: each class its own mean colour,
    mixed sizes and modes, and one corrupt file (`train/dog/broken.png`)."""
    rng = random.Random(0)
    for split, n in (("train", per_class), ("val", val_per_class)):
        for c, name in enumerate(CLASSES):
            folder = root / split / name
            folder.mkdir(parents=True)
            for i in range(n):
                size, mode = SIZES[i % len(SIZES)], MODES[i % len(MODES)]
                colour = tuple(min(255, 60 * c + rng.randrange(40)) for _ in range(3))
                image = Image.new("RGB", size, colour).convert(mode)
                image.save(folder / f"{i:03d}.{'jpg' if mode == 'L' else 'png'}")
    (root / "train" / "dog" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not an image")
    return root


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return make_folder(tmp_path_factory.mktemp("images"))


def test_a_search_epoch_reads_the_folder_and_skips_the_corrupt_image(folder, caplog):
    config = SearchConfig.model_validate({
        "epochs": 1, "data": {"dataset": "folder", "root": str(folder), "image_size": 8, "batch_size": 4},
        "model": {"space": "nb201", "channels": 4, "layers": 1},  # the data path is the same in every space
        "mim": {"patch_size": 2, "decoder_width": 8}})
    check_data_source(config.data)
    assert config.data.num_classes == 3
    reporter = MemoryReporter()
    with caplog.at_level(logging.WARNING, logger="trainables.image_folder"):
        run_search(config, reporter)
    (metrics,) = reporter.metrics
    assert metrics["epoch"] == 1 and metrics["weight_steps"] == 3  # 25 images: 12 weight split
    skipped = [r.getMessage() for r in caplog.records if "skipped unreadable image" in r.getMessage()]
    assert skipped and all(str(folder / "train" / "dog" / "broken.png") in m for m in skipped)


def test_a_retrain_epoch_reads_the_folder_with_its_val_split(folder):
    config = TrainConfig.model_validate({
        "epochs": 1, "data": {"dataset": "folder", "root": str(folder), "image_size": 8, "batch_size": 8},
        "model": {"channels": 4, "layers": 3, "auxiliary": False, "drop_path_prob": 0.0},
        "cutout_length": 0})
    reporter = MemoryReporter()
    run_train(config, parse_genotype("darts", "DARTS_V2"), reporter)
    (metrics,) = reporter.metrics
    assert metrics["epoch"] == 1 and 0.0 <= metrics["test_acc"] <= 1.0


def test_every_image_comes_out_at_the_configured_size_with_its_label(folder):
    data = load_images(DataConfig(dataset="folder", root=str(folder), image_size=8), "test")
    assert len(data) == 6 and data.classes == list(CLASSES)
    for index in range(len(data)):
        image, label = data[index]
        assert tuple(image.shape) == (3, 8, 8) and label == index // 2


def test_the_imagenet_source_reads_through_the_same_reader(folder):
    data = load_images(DataConfig(dataset="imagenet", root=str(folder)), "train", augment=False)
    broken = [i for i, (path, _) in enumerate(data.samples) if path.endswith("broken.png")]
    image, label = data[broken[0]]  # replaced by the next readable image, with its own label
    assert tuple(image.shape) == (3, 224, 224) and label == data.samples[broken[0] + 1][1]


def test_an_empty_class_folder_is_refused_before_ray_starts(tmp_path, monkeypatch, capsys):
    root = make_folder(tmp_path / "images")
    (root / "train" / "emu").mkdir()
    (root / "train" / "emu" / "notes.txt").write_text("no images here")

    def no_ray(address=None, **_):
        raise AssertionError("Ray started despite bad data")

    monkeypatch.setattr("orchestrator.cluster.ray_runtime.ensure_ray", no_ray)
    code, out, err = run_cli(capsys, "search", "quickstart", "--set", "search.data.dataset=folder",
                             "--set", f"search.data.root={root}")
    assert code == 2 and out == ""
    assert err.startswith(f"alphadarts: error: data.root='{root}': class folder {root / 'train' / 'emu'} holds "
                          "no image (.jpg, ") and err.endswith("; add images or remove the folder\n")


@pytest.mark.parametrize("change, message", [
    (lambda root: (root / "val" / "owl").rename(root / "val" / "eagle"),
     "must hold the same class folders (labels follow their sorted names); they differ in: eagle, owl"),
    (lambda root: [p.unlink() for p in (root / "train" / "cat").iterdir()] and (root / "train" / "cat").rmdir()
     or [p.unlink() for p in (root / "train" / "dog").iterdir()] and (root / "train" / "dog").rmdir(),
     "holds 1 class folder(s); at least 2 are needed"),
    (lambda root: (root / "train").rename(root / "training"), "needs a readable image folder at"),
])
def test_folders_that_cannot_work_are_refused_at_the_door(tmp_path, change, message):
    root = make_folder(tmp_path / "images", per_class=1, val_per_class=1)
    change(root)
    with pytest.raises(InputError, match="data.root=") as info:
        check_data_source(DataConfig(dataset="folder", root=str(root)))
    assert message in str(info.value)


def test_subsets_of_a_folder_draw_from_every_class(folder):
    """An image folder lists its images class by class: `subset` and `test_subset` draw
    (by a fixed permutation) instead of taking the first N, which would be the first class."""
    from trainables.train_config import TrainDataConfig
    from trainables.train_data import test_set_shard

    def labels(dataset):
        return [int(dataset[i][1]) for i in range(len(dataset))]

    train = load_images(DataConfig(dataset="folder", root=str(folder), image_size=8, subset=6), "train", augment=False)
    assert len(set(labels(train))) > 1
    assert labels(train) == labels(load_images(DataConfig(dataset="folder", root=str(folder), image_size=8,
                                                          subset=6), "train", augment=False))  # a fixed draw
    test = test_set_shard(TrainDataConfig(dataset="folder", root=str(folder), image_size=8, test_subset=3), 0, 1)
    assert len(set(labels(test.dataset))) > 1


def test_the_alpha_split_is_scored_without_random_flips(tmp_path, monkeypatch):
    """`alpha_acc` (and the BN re-estimate before it) read the α split as it is: no random
    crop or flip, so the same supernet scores the same twice."""
    root = tmp_path / "asymmetric"
    for split in ("train", "val"):
        for c, name in enumerate(CLASSES):
            (root / split / name).mkdir(parents=True)
            for i in range(6):  # left half dark, right half bright: a flip changes the image
                image = Image.new("RGB", (8, 8), (20 * c, 0, 0))
                image.paste((255, 255, 255), (4 + i % 3, 0, 8, 8))
                image.save(root / split / name / f"{i}.png")
    loaders = []
    import trainables.search_loop as search_loop

    real = search_loop._evaluate
    monkeypatch.setattr(search_loop, "_evaluate", lambda objective, loader, *a: loaders.append(loader) or real(objective, loader, *a))
    config = SearchConfig.model_validate({
        "epochs": 1, "data": {"dataset": "folder", "root": str(root), "image_size": 8, "batch_size": 4},
        "model": {"space": "nb201", "channels": 4, "layers": 1}, "mim": {"patch_size": 2, "decoder_width": 8}})
    run_search(config, MemoryReporter())
    (loader,) = loaders
    first, second = ([x.clone() for x, _ in loader] for _ in range(2))
    assert all(a.equal(b) for a, b in zip(first, second))
