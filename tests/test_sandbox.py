"""The sandbox command itself, without a kernel: seconds, needs bubblewrap."""
import os
import subprocess
import sys

import pytest

from autograder import sandbox

needs_bwrap = pytest.mark.skipif(not sandbox.bwrap(), reason="bubblewrap is not installed (make sandbox)")


def _run_inside(code: str, tmp_path) -> subprocess.CompletedProcess:
    uid = 200000 + os.getpid() % 100000 if os.geteuid() == 0 else None
    command = sandbox.sandbox_command([sys.executable, "-c", code], tmp_path, uid)
    return subprocess.run(command, capture_output=True, text=True, env=sandbox.scrubbed_env(None), timeout=120)


@needs_bwrap
def test_kernels_reuse_the_hosts_font_list(tmp_path):
    assert sandbox.host_font_list() is not None, "the grader's matplotlib has no font list to share"
    done = _run_inside("import logging; logging.basicConfig(level=logging.INFO)\n"
                       "import matplotlib.font_manager\nprint('fonts', len(matplotlib.font_manager.fontManager.ttflist))",
                       tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "fonts" in done.stdout and int(done.stdout.split()[-1]) > 0
    assert "generated new fontManager" not in done.stderr, "the kernel scanned every font again"


@needs_bwrap
def test_the_shared_font_list_is_read_only(tmp_path):
    name = sandbox.host_font_list().name
    done = _run_inside(f"open('{sandbox.SANDBOX_MPLCONFIGDIR}/{name}', 'a').write('x')", tmp_path)
    assert done.returncode != 0 and ("Read-only" in done.stderr or "Permission" in done.stderr), done.stderr[-500:]
