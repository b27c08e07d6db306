"""Whether a CIFAR root holds the dataset, or could get it: checked at the door, in seconds.

torchvision downloads CIFAR on first use. Where the files are missing and the download host
cannot be reached (an offline cluster, a firewall), the first worker would only find out
after Ray started, deep in a traceback. `check_cifar_obtainable` says it before, in one line
naming where the extracted files belong.
"""

from __future__ import annotations

import socket
from pathlib import Path

from trainables.errors import InputError

#: dataset -> (the folder torchvision extracts into, the archive's URL host)
CIFAR_FILES = {
    "cifar10": ("cifar-10-batches-py", "cifar-10-python.tar.gz"),
    "cifar100": ("cifar-100-python", "cifar-100-python.tar.gz"),
}
DOWNLOAD_HOST = "www.cs.toronto.edu"
PROBE_TIMEOUT_S = 3.0


def download_reachable(host: str = DOWNLOAD_HOST, timeout_s: float = PROBE_TIMEOUT_S) -> bool:
    try:
        with socket.create_connection((host, 443), timeout=timeout_s):
            return True
    except OSError:  # no route, refused, timed out, the name does not resolve
        return False


def check_cifar_obtainable(dataset: str, root: str) -> None:
    """InputError when `root` holds no extracted `dataset` and the download host cannot be
    reached from this machine."""
    folder, _ = CIFAR_FILES[dataset]
    where = Path(root).expanduser().resolve() / folder
    if where.is_dir() and any(where.iterdir()):
        return
    if download_reachable():
        return
    raise InputError(
        f"data.root={root!r}: {dataset} is not there and cannot be downloaded ({DOWNLOAD_HOST} "
        f"is not reachable from here); {where_to_put(dataset, root)}"
    )


def where_to_put(dataset: str, root: str | Path) -> str:
    """Where CIFAR's files go when they cannot be downloaded: the one place that says it, for
    the check before Ray starts and for the loader on the workers."""
    folder, archive = CIFAR_FILES[dataset]
    return (f"put the extracted {folder}/ folder (from https://{DOWNLOAD_HOST}/~kriz/{archive}) "
            f"into {Path(root).expanduser().resolve()}, or allow the download")
