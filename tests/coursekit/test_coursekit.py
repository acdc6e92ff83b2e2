"""The notebook helpers: device selection, seeding, and checks a learner can read."""
import numpy as np
import pytest
import torch

import coursekit
from coursekit import checks, device
from coursekit.checks import CheckFailed


def _resolve(monkeypatch, value):
    monkeypatch.setenv("COURSE_DEVICE", value)
    return coursekit.DEVICE


def test_device_choices(monkeypatch):
    assert _resolve(monkeypatch, "cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert _resolve(monkeypatch, "auto").type == expected
    assert _resolve(monkeypatch, " AUTO ").type == expected


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_requested_but_absent_is_a_clear_error(monkeypatch):
    with pytest.raises(device.DeviceError, match="COURSE_DEVICE=cpu"):
        _resolve(monkeypatch, "cuda")


def test_unknown_device_is_a_clear_error(monkeypatch):
    with pytest.raises(device.DeviceError, match="one of cpu, cuda, auto"):
        _resolve(monkeypatch, "tpu")


def test_seed_everything_repeats():
    coursekit.seed_everything(3)
    a = (torch.rand(3), np.random.rand(), torch.randn(2, generator=coursekit.seed_everything(3)))
    coursekit.seed_everything(3)
    b = (torch.rand(3), np.random.rand(), torch.randn(2, generator=coursekit.seed_everything(3)))
    assert torch.equal(a[0], b[0]) and a[1] == b[1] and torch.equal(a[2], b[2])


def _message(fn, *args, **kwargs) -> str:
    with pytest.raises(CheckFailed) as error:
        fn(*args, **kwargs)
    text = str(error.value)
    assert "\n" not in text, "check messages are one line"
    return text


def test_expect_close_names_the_first_basic_mistake():
    expected = torch.ones(2, 3)
    assert "expected a torch.Tensor, got builtins.list" in _message(checks.expect_close, [[1.0] * 3] * 2, expected)
    assert "numpy.ndarray" in _message(checks.expect_close, np.ones((2, 3)), expected)
    assert "expected shape (2, 3), got (3, 2)" in _message(checks.expect_close, torch.ones(3, 2), expected)
    assert "expected dtype torch.float32, got torch.float64" in _message(
        checks.expect_close, torch.ones(2, 3, dtype=torch.float64), expected)
    text = _message(checks.expect_close, torch.tensor([[1.0, 1, 1], [1, 5, 1]]), expected, hint="look again")
    assert "index (1, 1): expected 1, got 5" in text and text.endswith("Hint: look again")
    checks.expect_close(torch.ones(2, 3) + 1e-7, expected)


def test_checks_refuse_subclasses_that_lie():
    class Liar(torch.Tensor):
        def __eq__(self, other):
            return True

    fake = torch.zeros(2, 3).as_subclass(Liar)
    assert "got" in _message(checks.expect_close, fake, torch.ones(2, 3))

    class AlwaysEqual:
        def __eq__(self, other):
            return True

    assert "expected a builtins.int" in _message(checks.expect_equal, AlwaysEqual(), 3)


def test_expect_number_wants_python_numbers():
    assert ".item()" in _message(checks.expect_number, torch.tensor(2.0), 2.0)
    checks.expect_number(2.0000001, 2.0)
    assert "expected 2, got 3" in _message(checks.expect_number, 3.0, 2.0)
    checks.expect_number(np.float64(0.75), 0.75)  # a subclass of float: what ndarray.mean() returns
    assert "Python number" in _message(checks.expect_number, True, 1.0)


def test_expect_raises():
    with checks.expect_raises(RuntimeError):
        raise RuntimeError("boom")
    assert "nothing was raised" in _message(lambda: checks.expect_raises(ValueError).__exit__(None, None, None))


@pytest.mark.slow
def test_self_check_reports_like_make_check(tmp_path, capsys, monkeypatch):
    import nbformat
    from autograder.authoring import masters
    solved = tmp_path / "00_getting_started.ipynb"
    nbformat.write(masters.student_copy("00_getting_started"), str(solved))
    monkeypatch.setenv("JPY_SESSION_NAME", str(solved))
    assert coursekit.self_check() is True
    assert "2 of 2 visible checks passed" in capsys.readouterr().out
    blank = tmp_path / "blank.ipynb"
    nbformat.write(masters.student_copy("00_getting_started", solve=False), str(blank))
    assert coursekit.self_check(blank) is False
    assert "0 of 2 visible checks passed" in capsys.readouterr().out
    monkeypatch.delenv("JPY_SESSION_NAME")
    with pytest.raises(ValueError, match="self_check\\('01_tensors.ipynb'\\)"):
        coursekit.self_check()


def _run_in_kernel(client, code: str) -> tuple[str, list[dict]]:
    """Execute ``code`` in a real IPython kernel: the reply's status and the error messages it showed."""
    errors = []

    def keep_errors(message):
        if message["msg_type"] == "error":
            errors.append(message["content"])

    reply = client.execute_interactive(code, output_hook=keep_errors, timeout=60)
    return reply["content"]["status"], errors


@pytest.mark.slow
def test_a_failed_check_in_a_real_kernel_shows_one_line():
    from jupyter_client.manager import start_new_kernel
    from autograder.settings import REPO_ROOT
    manager, client = start_new_kernel(kernel_name="python3", cwd=str(REPO_ROOT))
    try:
        _run_in_kernel(client, "import torch\nfrom coursekit import checks")
        # the chained case of issue 16: torch's assert_close fails inside expect_close
        status, errors = _run_in_kernel(client, "checks.expect_close(torch.zeros(2), torch.ones(2), name='y')")
        assert status == "error" and len(errors) == 1
        shown = "\n".join(errors[0]["traceback"])
        assert len(errors[0]["traceback"]) == 1, shown
        assert "During handling" not in shown and "Tensor-likes" not in shown, shown
        assert errors[0]["ename"] == "CheckFailed" and "y: values differ" in errors[0]["evalue"]
        assert shown.endswith(errors[0]["evalue"])
        # a check that fails while the test cell handles another error does not show that one either
        status, errors = _run_in_kernel(
            client, "try:\n    1 / 0\nexcept ZeroDivisionError:\n    checks.expect(False, 'x should not be zero')")
        assert status == "error" and errors[0]["traceback"][-1].endswith("x should not be zero")
        assert "ZeroDivisionError" not in "\n".join(errors[0]["traceback"])
        # the learner's own errors keep their full traceback: it points at their code
        status, errors = _run_in_kernel(client, "def f():\n    raise ValueError('mine')\nf()")
        assert status == "error" and len(errors[0]["traceback"]) > 1
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
