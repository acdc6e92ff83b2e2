"""MNIST preparation: offline seeding, verification, and failures that change nothing."""
import gzip
import hashlib
import shutil
from pathlib import Path

import pytest
import torch

from coursekit import data
from labserver import free_port  # a port nobody listens on

SEED = Path(data.REPO_ROOT).parent / "shared" / "datasets" / "MNIST" / "raw"


@pytest.fixture
def seed_dir(tmp_path):
    """A writable copy of the seed archives: the real data copy or the shared seed folder."""
    source = SEED if SEED.is_dir() else data.data_root() / "MNIST" / "raw"
    folder = tmp_path / "seed"
    folder.mkdir()
    for name in data.ARCHIVES:
        shutil.copyfile(source / name, folder / name)
    return folder


def _tree_digest(root: Path) -> dict:
    return {str(p.relative_to(root)): hashlib.md5(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_seeding_from_a_folder_gives_a_verified_loadable_copy(tmp_path, seed_dir):
    root = tmp_path / "data"
    data.prepare_mnist(seed_from=seed_dir, root=root, quiet=True)
    assert data.is_ready(root)
    images, labels = data.load_mnist(train=False, root=root)
    assert images.shape == (10_000, 1, 28, 28) and images.dtype == torch.float32
    assert labels.dtype == torch.int64 and int(labels.bincount().sum()) == 10_000
    # normalised with the training statistics: the test split is close to mean 0, std 1
    assert abs(images.mean().item()) < 0.05 and abs(images.std().item() - 1) < 0.05
    assert not [p for p in root.iterdir() if p.name.startswith(".mnist-staging")], "staging left behind"


def test_second_prepare_does_nothing(tmp_path, seed_dir):
    root = tmp_path / "data"
    data.prepare_mnist(seed_from=seed_dir, root=root, quiet=True)
    before = {p: p.stat().st_mtime_ns for p in root.rglob("*")}
    data.prepare_mnist(root=root, allow_download=False, quiet=True)
    assert before == {p: p.stat().st_mtime_ns for p in root.rglob("*")}


@pytest.mark.parametrize("damage", ["truncated", "corrupted"])
def test_bad_archive_is_rejected_and_data_left_as_it_was(tmp_path, seed_dir, damage):
    root = tmp_path / "data"
    data.prepare_mnist(seed_from=seed_dir, root=root, quiet=True)
    before = _tree_digest(root)
    victim = seed_dir / "train-labels-idx1-ubyte.gz"
    raw = victim.read_bytes()
    victim.write_bytes(raw[: len(raw) // 2] if damage == "truncated" else raw[:100] + b"\x00" * 64 + raw[164:])
    with pytest.raises(data.DataError, match="corrupted or truncated") as error:
        data.prepare_mnist(seed_from=seed_dir, root=root, force=True, quiet=True)
    assert "train-labels-idx1-ubyte.gz" in str(error.value) and "\n" not in str(error.value)
    assert _tree_digest(root) == before, "a failed seed changed the data folder"


def test_bad_archive_into_an_empty_root_leaves_nothing(tmp_path, seed_dir):
    root = tmp_path / "data"
    (seed_dir / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(b"not mnist"))
    with pytest.raises(data.DataError):
        data.prepare_mnist(seed_from=seed_dir, root=root, quiet=True)
    assert not (root / "MNIST").exists()


def test_seed_folder_missing_a_file(tmp_path, seed_dir):
    (seed_dir / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(data.DataError, match="lacks t10k-labels-idx1-ubyte.gz"):
        data.prepare_mnist(seed_from=seed_dir, root=tmp_path / "data", quiet=True)
    assert not (tmp_path / "data" / "MNIST").exists()


def test_no_network_and_no_seed_gives_one_clear_paragraph(tmp_path, monkeypatch):
    # The real download path, pointed at a closed local port: no traffic leaves the machine.
    monkeypatch.setattr(data.MNIST, "mirrors", [f"http://127.0.0.1:{free_port()}/"])
    with pytest.raises(data.DataError) as error:
        data.prepare_mnist(root=tmp_path / "data", quiet=True)
    message = str(error.value)
    assert "MNIST_FROM" in message and "\n" not in message
    assert not (tmp_path / "data" / "MNIST").exists()
    assert not [p for p in (tmp_path / "data").iterdir()], "a failed download left files behind"


def test_missing_data_is_reported_not_downloaded(tmp_path):
    with pytest.raises(data.DataError, match="make data"):
        data.mnist_dataset(root=tmp_path / "nothing")


def test_data_root_follows_course_data(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA", str(tmp_path))
    assert data.data_root() == tmp_path.resolve()


def test_command_line_reports_failure_with_exit_code(tmp_path, capsys):
    assert data.main(["--from", str(tmp_path / "absent")]) == 2
    assert "does not exist" in capsys.readouterr().err


# distort_digits: the augmentation of 06's recipe and the draws of final_model's hidden check

BLANK = (0 - data.MEAN) / data.STD  # a normalised black pixel
WHITE = (1 - data.MEAN) / data.STD


def test_distort_digits_draws_only_from_its_generator_and_leaves_the_input_alone():
    images = torch.rand(16, 1, 28, 28)
    kept = images.clone()
    first = data.distort_digits(images, torch.Generator().manual_seed(7), neighbours=images)
    again = data.distort_digits(images, torch.Generator().manual_seed(7), neighbours=images)
    other = data.distort_digits(images, torch.Generator().manual_seed(8), neighbours=images)
    assert torch.equal(images, kept)
    assert first.shape == images.shape and first.dtype == torch.float32
    assert torch.equal(first, again), "one seed, one set of copies"
    assert not torch.allclose(first, other)


def test_distort_digits_moves_a_digit_by_no_more_than_its_limits():
    # a bright 4 x 4 square at the centre: its centre of mass moves by the shift and the bend (turns and
    # scaling are about the centre), a few pixels at most; each copy moves differently
    square = torch.full((200, 1, 28, 28), BLANK)
    square[..., 12:16, 12:16] = WHITE
    copies = data.distort_digits(square, torch.Generator().manual_seed(0)) * data.STD + data.MEAN
    mass = copies.clamp(min=0).sum((1, 2, 3))
    grid = torch.arange(28.0)
    centre_x = (copies.clamp(min=0).sum(2)[:, 0] * grid).sum(1) / mass
    centre_y = (copies.clamp(min=0).sum(3)[:, 0] * grid).sum(1) / mass
    offsets = torch.stack([centre_x - 13.5, centre_y - 13.5], 1).norm(dim=1)
    assert offsets.max() < data.SHIFT_PIXELS * 2 ** 0.5 + 4, "a digit should stay near its place"
    assert offsets.std() > 0.5, "each copy should be moved differently"


def test_distort_digits_puts_neighbours_only_at_the_edges():
    blank = torch.full((64, 1, 28, 28), BLANK)
    white = torch.full((5, 1, 28, 28), WHITE)
    copies = data.distort_digits(blank, torch.Generator().manual_seed(0), neighbours=white)
    reach = 28 - data.NEIGHBOUR_GAP[1]  # columns every neighbour covers, on each side
    assert torch.allclose(copies[..., :reach], torch.tensor(WHITE))
    assert torch.allclose(copies[..., -reach:], torch.tensor(WHITE))
    middle = slice(28 - data.NEIGHBOUR_GAP[0], data.NEIGHBOUR_GAP[0])  # never covered
    assert torch.allclose(copies[..., middle], torch.tensor(BLANK))
    assert torch.allclose(data.distort_digits(blank, torch.Generator().manual_seed(0)), blank, atol=1e-6)


def test_the_bend_is_white_noise_blurred_with_mirrored_edges():
    import torch.nn.functional as F
    radius = int(3 * data.BEND_SMOOTHING)
    kernel = torch.exp(-torch.arange(-radius, radius + 1.0) ** 2 / (2 * data.BEND_SMOOTHING ** 2))
    kernel /= kernel.sum()
    noise = torch.rand(3, 1, 28, 28)
    by_convolution = F.conv2d(F.conv2d(F.pad(noise, (radius,) * 4, mode="reflect"), kernel.view(1, 1, 1, -1)),
                              kernel.view(1, 1, -1, 1))
    matrix = data._smoothing_matrix()
    assert torch.allclose(matrix @ noise @ matrix.T, by_convolution, atol=1e-6)
