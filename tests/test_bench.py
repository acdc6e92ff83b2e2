"""The benchmark's quick mode runs end to end, so the benchmark code cannot rot."""
import pytest

from autograder import bench


@pytest.mark.slow
def test_quick_benchmark_produces_every_table(capsys):
    assert bench.main(["--quick"]) == 0
    table = capsys.readouterr().out
    for heading in ("### 1. MNIST", "### 2. Course run time", "### 3. Grading", "### 4. Set-up"):
        assert heading in table
    assert "course reference" in table and "pytorch/examples" in table and "stock nbgrader" in table
    assert "FAILED" not in table, "a master failed its own checks during the benchmark"
