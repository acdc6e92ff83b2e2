"""Run a student's kernel in a sandbox: its own working copy, no network, limits, a clean env.

Mechanisms, each used when the system provides it and reported by ``describe()``:

- bubblewrap (``bwrap``): the kernel sees the system read-only, a private /tmp and home, the
  Python environment, the course helpers and MNIST read-only, and its own working copy as
  the only writable place. The repository (solutions/, other notebooks), the grading folder
  (gradebook, other submissions) and the rest of /tmp and /work are not mounted at all. No
  network namespace is shared, so no network: the kernel talks to the grader over Unix
  sockets in its working copy. PIDs are namespaced, and the sandbox dies with the grader.
- ``prlimit``: an address-space limit (a 50 GB allocation fails in the student's cell, it does
  not take the machine), CPU-time and file-size limits. The address-space limit is off on the
  CUDA lane, where the driver reserves large virtual ranges.
- a scrubbed environment: only PATH, HOME, LANG, the course's variables and thread settings.
- time: nbgrader's per-cell timeout, plus a wall-clock limit per notebook enforced by the grader,
  which kills the sandbox.

Without bubblewrap, grading still runs, with limits and a clean environment only, and every
result says so (``protection`` in the results, a warning in intake.txt): never silently.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from traitlets import Integer

from . import REPO_ROOT
from nbgrader.preprocessors import Execute

def memory_gb() -> float:
    return float(os.environ.get("COURSE_GRADE_MEMORY_GB", "6"))


def notebook_timeout() -> int:
    return int(os.environ.get("COURSE_NOTEBOOK_TIMEOUT", "900"))


KEEP_ENV = ("PATH", "LANG", "LC_ALL", "TZ", "COURSE_DEVICE", "COURSE_DATA", "OMP_NUM_THREADS",
            "MKL_NUM_THREADS", "CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES", "NVIDIA_DRIVER_CAPABILITIES",
            "LD_LIBRARY_PATH", "PYTHONHASHSEED")
KERNEL_DIED, TIME_LIMIT, NOT_RUN = "KernelDied", "NotebookTimeLimit", "NotRun"


def bwrap() -> str | None:
    return shutil.which("bwrap")


def _cuda_lane() -> bool:
    return os.environ.get("COURSE_DEVICE", "auto") in ("cuda", "auto") and Path("/dev/nvidiactl").exists()


def describe() -> str:
    """One line on what protects a student's kernel on this machine."""
    limits = []
    if shutil.which("prlimit"):
        limits.append("no memory limit (CUDA lane)" if _cuda_lane() else f"memory {memory_gb():g} GiB")
    else:
        limits.append("NO resource limits (prlimit missing)")
    limits.append(f"notebook wall clock {notebook_timeout()} s")
    if bwrap():
        return ("bubblewrap sandbox: no network, read-only system, solutions/grading/other submissions "
                "not mounted, writes only to its working copy; " + ", ".join(limits) + "; scrubbed environment")
    return ("UNSANDBOXED FILESYSTEM AND NETWORK: bubblewrap is not installed (`apt install bubblewrap`), "
            "so student code can read files and reach the network; " + ", ".join(limits) + "; scrubbed environment")


def _python_roots() -> list[Path]:
    roots = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(), Path(sys.executable).resolve().parent.parent}
    return sorted(roots)


def sandbox_command(cmd: list[str], workdir: Path, extra_writable: list[Path] = ()) -> list[str]:
    """``cmd`` wrapped in prlimit and, when available, bubblewrap; ``workdir`` is writable."""
    workdir = Path(workdir).resolve()
    wrapped = list(cmd)
    if shutil.which("prlimit"):
        limits = ["--cpu=3600", "--fsize=1073741824", "--core=0"]
        if not _cuda_lane():
            limits.append(f"--as={int(memory_gb() * 2**30)}")
        wrapped = [shutil.which("prlimit"), *limits, "--", *wrapped]
    tool = bwrap()
    if not tool:
        return wrapped
    from coursekit.data import data_root
    args = [tool, "--die-with-parent", "--new-session", "--unshare-all", "--cap-drop", "ALL",
            "--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc", "--proc", "/proc", "--dev", "/dev",
            "--tmpfs", "/tmp", "--tmpfs", "/home", "--tmpfs", "/root", "--tmpfs", "/run", "--tmpfs", "/var"]
    for link in ("bin", "lib", "lib64", "sbin"):
        target = Path("/") / link
        if target.is_symlink():
            args += ["--symlink", os.readlink(target), str(target)]
        elif target.exists():
            args += ["--ro-bind", str(target), str(target)]
    for path in _python_roots():  # the interpreter and its packages (a pyenv, a venv, conda...)
        args += ["--ro-bind", str(path), str(path)]
    args += ["--ro-bind", str(REPO_ROOT / "coursekit"), str(REPO_ROOT / "coursekit")]
    args += ["--ro-bind", str(REPO_ROOT / "autograder"), str(REPO_ROOT / "autograder")]
    if data_root().exists():
        args += ["--ro-bind", str(data_root()), str(data_root())]
    for gpu in sorted(Path("/dev").glob("nvidia*")):
        args += ["--dev-bind", str(gpu), str(gpu)]
    for path in extra_writable:
        args += ["--bind", str(path), str(path)]
    args += ["--bind", str(workdir), str(workdir), "--chdir", str(workdir),
             "--setenv", "HOME", "/tmp", "--setenv", "MPLCONFIGDIR", "/tmp/matplotlib"]
    return args + ["--", *wrapped]


def scrubbed_env(env: dict | None) -> dict:
    source = env or os.environ
    clean = {k: v for k, v in source.items() if k in KEEP_ENV}
    clean.update({"HOME": "/tmp" if bwrap() else str(Path(source.get("HOME", "/tmp"))),
                  "PYTHONNOUSERSITE": "1", "MPLBACKEND": "module://matplotlib_inline.backend_inline",
                  "JUPYTER_PLATFORM_DIRS": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1"})
    return clean


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel launched inside the sandbox, talking to the grader over Unix sockets.

    The sockets live in a short private folder under /tmp (a socket path must stay under
    108 bytes), shared with the sandbox and removed with the kernel.
    """

    async def _async_pre_start_kernel(self, **kw):
        workdir = Path(kw.get("cwd") or os.getcwd()).resolve()
        self._ipc_dir = Path(tempfile.mkdtemp(prefix="ck-", dir="/tmp"))
        self.transport = "ipc"
        self.ip = str(self._ipc_dir / "k")
        self.connection_file = str(self._ipc_dir / "connection.json")
        # A signal would reach bubblewrap, not the kernel: interrupt through the control channel.
        self.kernel_spec.interrupt_mode = "message"
        kernel_cmd, kw = await super()._async_pre_start_kernel(**kw)
        kw["env"] = scrubbed_env(kw.get("env"))
        kw["stdout"] = subprocess.DEVNULL  # the kernel's banner; errors still reach stderr
        # In its own PID namespace the kernel's parent is the sandbox's init, not the grader:
        # ipykernel would take that for an orphaned kernel and exit. bwrap --die-with-parent
        # (and the grader's kill) take care of orphans instead.
        kernel_cmd = [*kernel_cmd, "--IPKernelApp.parent_handle=0"]
        return sandbox_command(kernel_cmd, workdir, [self._ipc_dir]), kw

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart)
        shutil.rmtree(getattr(self, "_ipc_dir", ""), ignore_errors=True)


class SandboxedExecute(Execute):
    """nbgrader's Execute in the sandbox, with a notebook time limit and a kernel allowed to die.

    Stock nbgrader gives up on the whole notebook when the kernel dies; here the cells that ran
    keep their results, the cell that killed the kernel and those after it get an error output,
    and grading goes on.
    """

    notebook_timeout = Integer(900, help="wall-clock seconds for the whole notebook").tag(config=True)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", SandboxedKernelManager)
        super().__init__(*args, **kwargs)

    def preprocess(self, nb, resources=None, km=None):
        self._stopped_by: str | None = None
        self._timed_out = False
        timer = threading.Timer(self.notebook_timeout, self._time_up)
        timer.daemon = True
        timer.start()
        try:
            return super().preprocess(nb, resources, km)
        finally:
            timer.cancel()

    def _time_up(self) -> None:
        self._timed_out = True
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except OSError:
                process.kill()

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if self._stopped_by:
            cell.outputs = [_error(NOT_RUN, f"not run: {self._stopped_by} in an earlier cell")]
            return cell, resources
        try:
            return super().preprocess_cell(cell, resources, index)
        except CellTimeoutError:
            # Interrupted at its time limit, then silent: note it and go on. If the kernel is gone,
            # the next cell raises DeadKernelError and the run stops there.
            cell.outputs.append(_error("CellTimeoutError", "the cell did not stop when interrupted at its time limit"))
            return cell, resources
        except DeadKernelError:
            if self._timed_out:
                self._stopped_by = f"the notebook ran past its {self.notebook_timeout} s limit"
                cell.outputs.append(_error(TIME_LIMIT, self._stopped_by))
            else:
                self._stopped_by = "the kernel died (os._exit, a crash, or the memory limit)"
                cell.outputs.append(_error(KERNEL_DIED, self._stopped_by))
            return cell, resources


def _error(ename: str, evalue: str):
    from nbformat.v4 import new_output
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])
