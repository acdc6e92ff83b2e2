"""MNIST for the course, through torchvision's real loader and its MD5 checks.

Layout: ``<data root>/MNIST/raw/`` holds the four original .gz archives and their
extracted files, exactly as ``torchvision.datasets.MNIST`` expects. The data root is
COURSE_DATA if set, else ``data/`` at the top of the repository.

``prepare_mnist`` is all-or-nothing: it builds a complete, verified copy in a staging
folder beside the target and only then swaps it in, so a failure (no network, a
corrupted or missing archive) leaves the data root exactly as it was.

Command line (used by ``make data``)::

    python -m coursekit.data                   # verify, download if missing
    python -m coursekit.data --from DIR        # seed offline from the four .gz archives in DIR
"""
from __future__ import annotations

import argparse
import functools
import math
import os
import shutil
import sys
import tempfile
from pathlib import Path

import torch
import torch.nn.functional as F
from torchvision.datasets import MNIST
from torchvision.datasets.utils import calculate_md5, extract_archive

ARCHIVES: dict[str, str] = dict(MNIST.resources)  # file name -> MD5, torchvision's own table
MEAN, STD = 0.1307, 0.3081  # over the 60,000 training images, scaled to [0, 1]
TRAIN_SIZE, TEST_SIZE = 60_000, 10_000
REPO_ROOT = Path(__file__).resolve().parent.parent


class DataError(RuntimeError):
    """MNIST is missing, incomplete or corrupted; the message says what to do."""


def data_root() -> Path:
    return Path(os.environ.get("COURSE_DATA") or REPO_ROOT / "data").expanduser().resolve()


def _raw(root: Path) -> Path:
    return root / "MNIST" / "raw"


def problems(root: Path | None = None) -> list[str]:
    """What is wrong with the MNIST copy under ``root`` (empty list: present and verified)."""
    raw = _raw(root or data_root())
    found = []
    for name, md5 in ARCHIVES.items():
        archive, extracted = raw / name, raw / name[:-3]
        if not archive.is_file():
            found.append(f"{archive} is missing")
        elif calculate_md5(str(archive)) != md5:
            found.append(f"{archive} does not match its MD5 {md5}")
        if not extracted.is_file():
            found.append(f"{extracted} is missing")
    return found


def is_ready(root: Path | None = None) -> bool:
    return not problems(root)


def _verify_seed_folder(folder: Path) -> None:
    if not folder.is_dir():
        raise DataError(
            f"The MNIST seed folder {folder} does not exist. Point MNIST_FROM at the folder that holds "
            f"the four original archives ({', '.join(ARCHIVES)}), for example "
            "`make data MNIST_FROM=/media/usb/MNIST/raw`."
        )
    missing = [name for name in ARCHIVES if not (folder / name).is_file()]
    if missing:
        raise DataError(
            f"The MNIST seed folder {folder} lacks {', '.join(missing)}. It must hold all four original "
            f"archives ({', '.join(ARCHIVES)}), as downloaded, still gzipped. Copy the missing ones from "
            "the same source and run `make data MNIST_FROM=...` again; nothing was changed."
        )
    for name, md5 in ARCHIVES.items():
        actual = calculate_md5(str(folder / name))
        if actual != md5:
            raise DataError(
                f"{folder / name} is corrupted or truncated: its MD5 is {actual}, the original's is {md5}. "
                "It was not used and nothing was changed. Copy the file again from a good source "
                "(a partial download or a full USB stick are the usual causes) and rerun `make data MNIST_FROM=...`."
            )


def _check_loads(staging_root: Path) -> None:
    train = MNIST(str(staging_root), train=True, download=False)
    test = MNIST(str(staging_root), train=False, download=False)
    if len(train) != TRAIN_SIZE or len(test) != TEST_SIZE:
        raise DataError(f"MNIST loaded with {len(train)} training and {len(test)} test images; "
                        f"expected {TRAIN_SIZE} and {TEST_SIZE}. Delete {staging_root} and try again.")


def prepare_mnist(seed_from: str | Path | None = None, root: Path | None = None,
                  allow_download: bool = True, quiet: bool = False, force: bool = False) -> Path:
    """Make sure a verified MNIST copy exists under ``root``; return the root.

    A present and verified copy is kept (unless ``force``). Otherwise the archives come from
    ``seed_from`` (offline) or are downloaded through torchvision (MD5-checked).
    """
    root = Path(root or data_root()).resolve()
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, flush=True))
    if seed_from is not None:  # a bad seed folder is reported even when no copy is needed
        _verify_seed_folder(Path(seed_from).expanduser().resolve())
    if not force and is_ready(root):
        say(f"MNIST is present and verified in {_raw(root)}")
        return root
    if seed_from is None and not allow_download:
        raise DataError(_missing_message(root))

    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".mnist-staging-", dir=root))
    try:
        raw = _raw(staging)
        raw.mkdir(parents=True)
        if seed_from is not None:
            say(f"Seeding MNIST from {seed_from}")
            for name in ARCHIVES:
                shutil.copyfile(Path(seed_from).expanduser() / name, raw / name)
                extract_archive(str(raw / name), str(raw))
        else:
            say("Downloading MNIST (about 11 MB) through torchvision")
            try:
                MNIST(str(staging), train=True, download=True)
            except Exception as error:  # URLError, RuntimeError from every mirror, socket errors...
                raise DataError(_missing_message(root, error)) from error
        bad = problems(staging)
        if bad:
            raise DataError("The new MNIST copy failed verification (" + "; ".join(bad) + "). Nothing was changed.")
        _check_loads(staging)
        _swap_in(staging / "MNIST", root / "MNIST")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    say(f"MNIST is ready in {_raw(root)}")
    return root


def _swap_in(new: Path, target: Path) -> None:
    """Replace ``target`` by ``new`` with renames only, so no reader sees half a copy."""
    old = target.with_name(target.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    new.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def _missing_message(root: Path, error: BaseException | None = None) -> str:
    why = f" Downloading failed: {str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__}." if error else ""
    return (
        f"MNIST is not in {_raw(root)} and could not be fetched.{why} Without internet, seed it from a "
        "folder holding the four original .gz archives (a USB stick, a shared drive): "
        "`make data MNIST_FROM=/path/to/MNIST/raw`, or set COURSE_DATA to a folder that already has "
        "MNIST/raw in it. Nothing was changed."
    )


def mnist_dataset(train: bool = True, transform=None, root: Path | None = None) -> MNIST:
    """torchvision's MNIST over the course's data; never downloads (run `make data` for that)."""
    root = Path(root or data_root())
    if not is_ready(root):
        raise DataError(_missing_message(root))
    return MNIST(str(root), train=train, transform=transform, download=False)


def load_mnist(train: bool = True, device: torch.device | str | None = None,
               normalize: bool = True, root: Path | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The whole split as two tensors: images (N, 1, 28, 28) float32 and labels (N,) int64.

    Images are scaled to [0, 1] and, with ``normalize``, standardised with MEAN and STD.
    Holding the split as one tensor is much faster than per-sample PIL transforms.
    """
    dataset = mnist_dataset(train=train, root=root)
    images = dataset.data.unsqueeze(1).to(device=device or "cpu", dtype=torch.float32).div_(255.0)
    if normalize:
        images.sub_(MEAN).div_(STD)
    return images, dataset.targets.to(device=device or "cpu", dtype=torch.int64)


# How far distort_digits moves, turns, scales and bends a digit: one place for both the recipe of
# 06's final model (training on distorted copies) and the hidden check that grades it.
SHIFT_PIXELS, TURN_DEGREES, SCALE_CHANGE = 3.0, 10.0, 0.10
BEND_SMOOTHING, BEND_SCALE = 4.0, 30.0  # pixels (Simard et al. 2003)
NEIGHBOUR_GAP = (16, 21)  # pixels between a digit's centre and a neighbour's, each side


@functools.lru_cache(maxsize=1)
def _smoothing_matrix() -> torch.Tensor:
    """A Gaussian blur of width BEND_SMOOTHING along one axis of 28 pixels, mirrored at the edges, as a
    28 x 28 matrix: two small matrix products blur a whole batch, much faster than a convolution."""
    radius = int(3 * BEND_SMOOTHING)
    taps = torch.arange(-radius, radius + 1)
    weights = torch.exp(-taps.double() ** 2 / (2 * BEND_SMOOTHING ** 2))
    matrix = torch.zeros(28, 28, dtype=torch.float64)
    for i in range(28):
        source = (i + taps).abs()                           # mirrored at 0 ...
        source = torch.where(source > 27, 54 - source, source)  # ... and at 27
        matrix[i].index_add_(0, source, weights / weights.sum())
    return matrix.float()


def distort_digits(images: torch.Tensor, generator: torch.Generator,
                   neighbours: torch.Tensor | None = None) -> torch.Tensor:
    """New copies of normalised digit images, each varied as handwriting varies.

    Each image is moved by up to SHIFT_PIXELS, turned by up to TURN_DEGREES, scaled by up to
    SCALE_CHANGE and bent by an elastic distortion: a random displacement field, smoothed over
    BEND_SMOOTHING pixels and scaled by BEND_SCALE. With ``neighbours`` (normalised images too), two
    of them, drawn at random, show at its left and right edges, as when a digit is cut out of a
    written number. Every random number comes from ``generator``, a CPU generator, so one seed gives
    one set of copies on any device. The result is on ``images``' device; the input is unchanged.
    """
    n, device = len(images), images.device
    uniform = lambda *shape: torch.rand(*shape, generator=generator) * 2 - 1  # in [-1, 1)
    angle = uniform(n).view(n, 1, 1) * TURN_DEGREES * torch.pi / 180
    scale = torch.exp(uniform(n).view(n, 1, 1) * math.log1p(SCALE_CHANGE))
    move_x, move_y = (uniform(n).view(n, 1, 1) * SHIFT_PIXELS * 2 / 28 for _ in range(2))
    smooth = _smoothing_matrix()
    field = (uniform(2 * n * 28, 28) @ smooth.T).view(2 * n, 28, 28)  # white noise, blurred along rows
    field = (field.transpose(1, 2).reshape(-1, 28) @ smooth.T).view(n, 2, 28, 28).transpose(2, 3)  # and columns
    bend = field * BEND_SCALE * 2 / 28
    # Where each output pixel reads the input, in grid_sample's units (-1 and 1 are the outer edges of
    # the image): its own position, turned and scaled about the centre, moved, then bent.
    centres = torch.arange(1, 56, 2) / 28 - 1
    x, y = centres.view(1, 1, 28), centres.view(1, 28, 1)
    cos, sin = angle.cos() / scale, angle.sin() / scale
    grid = torch.stack([cos * x - sin * y + move_x + bend[:, 0], sin * x + cos * y + move_y + bend[:, 1]], dim=3)
    grey = (images * STD + MEAN).clamp(0, 1)  # back to grey levels, the background 0
    out = F.grid_sample(grey, grid.to(device), align_corners=False)
    if neighbours is not None:
        columns = torch.arange(28)
        for side in (-1, 1):
            other = (neighbours[torch.randint(0, len(neighbours), (n,), generator=generator).to(neighbours.device)]
                     * STD + MEAN).clamp(0, 1).to(device)
            cols = columns - side * torch.randint(NEIGHBOUR_GAP[0], NEIGHBOUR_GAP[1] + 1, (n, 1), generator=generator)
            seen = ((cols >= 0) & (cols < 28)).float().view(n, 1, 1, 28).to(device)
            index = cols.clamp(0, 27).view(n, 1, 1, 28).expand(n, 1, 28, 28).to(device)
            out = torch.maximum(out, other.gather(3, index) * seen)
    return (out - MEAN) / STD


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Prepare MNIST for the course (verify, seed offline, or download).")
    parser.add_argument("--from", dest="seed_from", metavar="DIR",
                        help="folder holding the four original MNIST .gz archives (offline seeding)")
    parser.add_argument("--check", action="store_true", help="only report whether MNIST is present and verified")
    parser.add_argument("--no-download", action="store_true", help="fail instead of downloading")
    parser.add_argument("--force", action="store_true", help="replace a copy that is already present")
    args = parser.parse_args(argv)
    if args.check:
        bad = problems()
        print("MNIST: present and verified" if not bad else "MNIST: " + "; ".join(bad))
        return 0 if not bad else 1
    try:
        prepare_mnist(args.seed_from or None, allow_download=not args.no_download, force=args.force)
    except DataError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
