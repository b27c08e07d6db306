"""Image folders (`<root>/train/<class>/*.png`, `<root>/val/<class>/...`): the ImageNet data
source and the generic `folder` one, checked at the door and read with one reader.

What a folder may hold, decided here once:
  - An **empty class folder** (no file with an image extension) is refused at the door,
    exit 2 naming it: the classifier would get an output that no image ever trains, and
    torchvision's ImageFolder would stop on it only when the loader is built, on a worker.
  - `val/`, where it exists, must hold the same class folders as `train/`: ImageFolder
    numbers classes by their sorted folder names, so a class missing there would shift
    every label after it, silently.
  - A **corrupt image** (unreadable, truncated) found while training is skipped: the reader
    takes the next readable image of the split in its place (batches keep their size),
    and logs a warning naming the file with the count skipped so far, once per file and
    loader process. A multi-day search does not die on one bad JPEG among a million, and a
    door check cannot decode every image in seconds. A split with no readable image at all
    is an InputError (exit 2).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from torchvision.datasets import ImageFolder
from torchvision.datasets.folder import IMG_EXTENSIONS

from trainables.errors import InputError

log = logging.getLogger(__name__)

TRAIN_DIR, TEST_DIR = "train", "val"


def class_names(folder: Path) -> list[str]:
    """The class folders of one split, sorted (ImageFolder's label order)."""
    return sorted(entry.name for entry in os.scandir(folder) if entry.is_dir())


def count_classes(root: str) -> int:
    """How many classes the training split has (the classifier's width)."""
    return len(class_names(Path(root).expanduser() / TRAIN_DIR))


def check_image_folder(root: str, dataset: str) -> None:
    """At the door, before Ray starts: the training split exists with at least two class
    folders, none of them without images, and `val/` (if any) has the same classes."""
    base = Path(root).expanduser()
    train = base / TRAIN_DIR
    if not train.is_dir() or not os.access(train, os.R_OK | os.X_OK):
        raise InputError(
            f"data.root={root!r}: {dataset} needs a readable image folder at {train} "
            f"(one sub-folder per class, e.g. {train}/cat/0001.png)"
        )
    classes = class_names(train)
    if len(classes) < 2:
        raise InputError(
            f"data.root={root!r}: {train} holds {len(classes)} class folder(s); at least 2 are "
            "needed (one sub-folder per class)"
        )
    for name in classes:
        if not _has_image(train / name):
            raise InputError(
                f"data.root={root!r}: class folder {train / name} holds no image "
                f"({', '.join(IMG_EXTENSIONS)}); add images or remove the folder"
            )
    test = base / TEST_DIR
    if test.is_dir():
        other = class_names(test)
        if other != classes:
            differ = sorted(set(classes) ^ set(other))
            raise InputError(
                f"data.root={root!r}: {test} and {train} must hold the same class folders "
                f"(labels follow their sorted names); they differ in: {', '.join(differ[:5])}"
            )


def _has_image(folder: Path) -> bool:
    with os.scandir(folder) as entries:
        return any(entry.name.lower().endswith(IMG_EXTENSIONS) for entry in entries)


class ReadableImageFolder(ImageFolder):
    """torchvision's ImageFolder that skips unreadable images (see the module docstring)."""

    def __init__(self, folder: Path, transform, root_field: str):
        try:
            super().__init__(str(folder), transform=transform)
        except (FileNotFoundError, OSError) as exc:
            raise InputError(f"data.root={root_field!r}: no readable image folder at {folder} ({exc})") from exc
        self.root_field = root_field
        self.skipped: set[str] = set()

    def __getitem__(self, index: int):
        for offset in range(len(self.samples)):
            path, target = self.samples[(index + offset) % len(self.samples)]
            try:
                image = self.loader(path)
            except (OSError, SyntaxError, ValueError) as exc:  # PIL: unidentified, truncated
                if path not in self.skipped:
                    self.skipped.add(path)
                    log.warning("skipped unreadable image %s (%s); %d skipped so far in %s",
                                path, str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
                                len(self.skipped), self.root)
                continue
            return (self.transform(image) if self.transform else image), target
        raise InputError(f"data.root={self.root_field!r}: no image under {self.root} could be read")
