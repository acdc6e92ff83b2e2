"""The sandbox command itself, without a kernel: seconds, needs bubblewrap."""
import os
import subprocess
import sys

import pytest

from autograder.judging import sandbox

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


# A student's cell that replaces its kernel's socket files with links to a host socket, then closes
# its stdin socket so that the grader's side of that channel reconnects: to whatever the path holds now.
RELINK_SOCKETS = """
import glob, os, time
for path in glob.glob("{folder}/k-*"):
    os.unlink(path)
    os.symlink({canary!r}, path)
get_ipython().kernel.stdin_socket.close()
time.sleep(3)  # ZeroMQ reconnects every 0.1 s
print("relinked", len(glob.glob("{folder}/k-*")))
"""


def test_the_grader_never_follows_a_link_the_kernel_left_for_its_sockets(tmp_path, canary_socket):
    """The grader connects to the kernel through descriptors pinned at start, so a link in place of a
    socket file leads nowhere, and the kernel keeps working."""
    from nbformat.v4 import new_code_cell, new_notebook

    from autograder.judging.executor import CourseClient
    canary, seen = canary_socket
    folder = sandbox.SOCKET_DIR if sandbox.bwrap() else "$(dirname of the connection file)"
    code = RELINK_SOCKETS.format(folder=folder, canary=str(canary))
    if not sandbox.bwrap():  # the sockets lie beside the connection file, in the kernel's private folder
        code = "import os\n" + code.replace('"$(dirname of the connection file)', 'os.path.dirname(get_ipython().kernel.connection_file) + "')
    nb = new_notebook(cells=[new_code_cell(code), new_code_cell("print(6 * 7)")])
    CourseClient(nb, timeout=60, kernel_name="python3", kernel_manager_class=sandbox.SandboxedKernelManager,
                 resources={"metadata": {"path": str(tmp_path)}}).execute()
    assert "relinked 5" in nb.cells[0].outputs[0]["text"], nb.cells[0].outputs
    assert not seen, f"the grader connected {len(seen)} times to a socket the student's links named"
    assert nb.cells[1].outputs[0]["text"].strip() == "42", "the kernel stopped answering"
