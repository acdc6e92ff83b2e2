"""The student's kernel in a sandbox: nothing of the host to write, no network, limits, a clean env.

Mechanisms, each used when the system provides it and reported by ``describe()``:

- bubblewrap (``bwrap``): the kernel sees the system, the Python environment, ``coursekit/`` and
  MNIST read-only, and only size-capped in-memory folders (tmpfs) to write: its working folder
  ``/tmp/work`` (empty at start), ``/tmp``, home, and ``/run`` where it creates its Unix sockets.
  No host folder is writable, so nothing the student leaves behind (symlinks, FIFOs, huge files)
  exists outside the sandbox, and it all vanishes with it. The grader reaches the sockets through
  descriptors it opens once, as the kernel starts, without following links (``PinnedSockets``),
  never through a path the kernel could later replace. The repository (solutions/, course/), the grading folder and
  the rest of the file system are not mounted. No network namespace is shared: no network.
- an unprivileged user: when the grader runs as root, the sandbox runs as a uid of its own
  (``setpriv``), so the process-count limit applies and no root power crosses into it.
- ``prlimit``: address space (a 50 GB allocation fails in the student's cell; off on the CUDA lane,
  where the driver maps large virtual ranges), CPU time, file size, open files, processes.
- a scrubbed environment: only PATH, locale, the course's variables and thread settings.
- time: nbclient's per-cell timeout, plus a wall-clock limit per notebook that kills the sandbox.
- the kernel's stderr goes to a per-submission log (``logs/`` in the grading folder), capped and
  with control characters removed, never to the instructor's terminal.

Without bubblewrap, grading still runs with limits, a clean environment and an empty working
folder of its own, and every result says so (``describe()``, intake.txt): never silently.
"""
from __future__ import annotations

import functools
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from traitlets import Type, Unicode

from autograder.settings import REPO_ROOT, memory_gb, notebook_timeout


KEEP_ENV = ("PATH", "LANG", "LC_ALL", "TZ", "COURSE_DEVICE", "COURSE_DATA", "OMP_NUM_THREADS",
            "MKL_NUM_THREADS", "CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES", "NVIDIA_DRIVER_CAPABILITIES",
            "LD_LIBRARY_PATH", "PYTHONHASHSEED")
KERNEL_DIED, TIME_LIMIT, NOT_RUN = "KernelDied", "NotebookTimeLimit", "NotRun"

# Caps inside the sandbox (tmpfs sizes in MiB; processes and threads; bytes of stderr kept).
TMP_MIB, SMALL_MIB, SOCKETS_MIB = 512, 16, 1
MAX_PROCESSES = 256
STDERR_LOG_BYTES = 256 * 1024
SANDBOX_HOME = "/tmp/work"
SANDBOX_MPLCONFIGDIR = "/tmp/matplotlib"
SOCKET_DIR = "/run"


def bwrap() -> str | None:
    return shutil.which("bwrap")


def _cuda_lane() -> bool:
    return os.environ.get("COURSE_DEVICE", "auto") in ("cuda", "auto") and Path("/dev/nvidiactl").exists()


def sandbox_uid() -> int | None:
    """The uid the kernel runs as when the grader is root (with bubblewrap): one per grading process,
    so the process-count limit of one kernel never counts another's. None otherwise."""
    if os.geteuid() != 0 or not bwrap() or not shutil.which("setpriv"):
        return None
    return 200_000 + os.getpid() % 100_000


def describe() -> str:
    """One line on what protects a student's kernel on this machine."""
    limits = []
    if shutil.which("prlimit"):
        limits.append("no memory limit (CUDA lane)" if _cuda_lane() else f"memory {memory_gb():g} GiB")
        if sandbox_uid() is not None:
            limits.append(f"{MAX_PROCESSES} processes")
    else:
        limits.append("NO resource limits (prlimit missing)")
    limits.append(f"notebook wall clock {notebook_timeout()} s")
    user = "an unprivileged uid" if sandbox_uid() is not None else "the grader's user"
    if bwrap():
        return (f"bubblewrap sandbox as {user}: no network, read-only system, no host folder writable "
                f"(in-memory folders capped at {TMP_MIB} MiB), solutions/grading/other submissions not mounted; "
                + ", ".join(limits) + "; scrubbed environment; verdicts from the judge outside the kernel")
    return ("UNSANDBOXED FILESYSTEM AND NETWORK: bubblewrap is not installed (`apt install bubblewrap`), "
            "so student code can read files and reach the network; " + ", ".join(limits)
            + "; scrubbed environment; verdicts from the judge outside the kernel")


def _python_roots() -> list[Path]:
    roots = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(), Path(sys.executable).resolve().parent.parent}
    # The packages where they really are: the workshop hub's copy of the interpreter links .venv's in (hub/workshop.py).
    import site
    packages = {Path(p).resolve() for p in site.getsitepackages()}
    return sorted(roots | {p for p in packages if not any(p.is_relative_to(root) for root in roots)})


def sandbox_command(cmd: list[str], host_dir: Path, uid: int | None = None) -> list[str]:
    """``cmd`` wrapped in prlimit and, when available, bubblewrap (and setpriv to ``uid`` inside it).

    ``host_dir`` (the connection file's folder) is mounted read-only at the same path. As root,
    bubblewrap sets the sandbox up without a user namespace and the command then drops to ``uid``
    (a real unprivileged uid, so RLIMIT_NPROC holds); as another user it uses a user namespace."""
    limits = ["--cpu=3600", f"--fsize={2**30}", "--core=0", "--nofile=4096"]
    if uid is not None:
        limits.append(f"--nproc={MAX_PROCESSES}")
    if not _cuda_lane():
        limits.append(f"--as={int(memory_gb() * 2**30)}")
    wrapped = [shutil.which("prlimit"), *limits, "--", *cmd] if shutil.which("prlimit") else list(cmd)
    tool = bwrap()
    if not tool:
        return wrapped
    if uid is not None:
        wrapped = [shutil.which("setpriv"), f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                   "--inh-caps=-all", "--bounding-set=-all", "--", *wrapped]
        isolation = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
                     "--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        isolation = ["--unshare-all", "--cap-drop", "ALL"]
    from coursekit.data import data_root
    args = [tool, "--die-with-parent", "--new-session", *isolation,
            "--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc", "--proc", "/proc", "--dev", "/dev"]
    for folder, mib, perms in (("/tmp", TMP_MIB, "1777"), ("/home", SMALL_MIB, "0755"), ("/root", SMALL_MIB, "0755"),
                               ("/var", SMALL_MIB, "0755"), (SOCKET_DIR, SOCKETS_MIB, "0777")):
        args += ["--perms", perms, "--size", str(mib * 2**20), "--tmpfs", folder]
    for link in ("bin", "lib", "lib64", "sbin"):
        target = Path("/") / link
        if target.is_symlink():
            args += ["--symlink", os.readlink(target), str(target)]
        elif target.exists():
            args += ["--ro-bind", str(target), str(target)]
    binds = [*_python_roots(), REPO_ROOT / "coursekit"]  # the interpreter and its packages, the helpers
    if data_root().exists():
        binds.append(data_root().resolve())
    binds.append(Path(host_dir).resolve())
    args += _parent_dirs(binds)  # bwrap would create them 0700: unreadable for the kernel's uid
    for path in binds:
        args += ["--ro-bind", str(path), str(path)]
    for gpu in sorted(Path("/dev").glob("nvidia*")):
        args += ["--dev-bind", str(gpu), str(gpu)]
    args += ["--perms", "0777", "--dir", SANDBOX_HOME, "--chdir", SANDBOX_HOME,
             "--setenv", "HOME", "/tmp", "--perms", "0777", "--dir", SANDBOX_MPLCONFIGDIR,
             "--setenv", "MPLCONFIGDIR", SANDBOX_MPLCONFIGDIR]
    fonts = host_font_list()
    if fonts:  # read-only in a writable folder: matplotlib reads it instead of scanning every font again
        args += ["--ro-bind", str(fonts), f"{SANDBOX_MPLCONFIGDIR}/{fonts.name}"]
    return args + ["--", *wrapped]


@functools.lru_cache(maxsize=1)
def host_font_list() -> Path | None:
    """matplotlib's font list as the grader's own matplotlib built it. Without it every sandboxed
    kernel that draws a figure spends about half a second rebuilding the same list in its tmpfs."""
    try:
        import matplotlib
        from matplotlib import font_manager  # loads the host's list, or builds it once
        path = Path(matplotlib.get_cachedir()) / f"fontlist-v{font_manager.FontManager.__version__}.json"
    except Exception:  # no usable matplotlib here: kernels build their own list, as before
        return None
    return path if path.is_file() else None


def _parent_dirs(binds: list[Path]) -> list[str]:
    covered = [Path(p) for p in ("/usr", "/etc", "/proc", "/dev")] + [Path(p) for p in binds]
    parents = sorted({parent for path in binds for parent in Path(path).parents if parent != Path("/")},
                     key=lambda p: len(p.parts))
    args = []
    for parent in parents:
        if any(parent == c or c in parent.parents for c in covered):
            continue
        args += ["--perms", "0755", "--dir", str(parent)]
    return args


def scrubbed_env(env: dict | None) -> dict:
    source = env or os.environ
    clean = {k: v for k, v in source.items() if k in KEEP_ENV}
    clean.update({"HOME": "/tmp" if bwrap() else str(Path(source.get("HOME", "/tmp"))),
                  "PYTHONNOUSERSITE": "1", "MPLBACKEND": "module://matplotlib_inline.backend_inline",
                  "JUPYTER_PLATFORM_DIRS": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1"})
    return clean


class PinnedSockets:
    """Mixin for a kernel manager or client: each channel connects through a descriptor of the
    kernel's socket file, opened once without following links, never through its path.

    The socket files lie in a folder the student's code can write (the sandbox's ``/run``). A path
    resolved there later, when ZeroMQ connects or reconnects, would follow any link the student left
    in place of a socket, and an absolute link resolves against the grader's (root's) file system:
    the grader would connect to any host socket the student names. A descriptor opened with
    O_PATH|O_NOFOLLOW before any student code ran is the socket itself; ``/proc/self/fd/N`` reaches
    that inode whatever the folder holds afterwards."""

    _pinned: dict[str, int] | None = None

    def _make_url(self, channel: str) -> str:
        if self._pinned is None:
            return super()._make_url(channel)
        return f"ipc:///proc/self/fd/{self._pinned[channel]}"


CHANNELS = ("shell", "iopub", "stdin", "hb", "control")


def pin_sockets(root: str, folder: str, prefix: str, ports: dict[str, int], alive,
                wait: float = 60.0) -> dict[str, int]:
    """Descriptors of the kernel's socket files ``<root>/<folder>/<prefix>-<port>``, one per channel.

    ``root`` is the grader's (``/proc/<pid>/root``, the sandbox's root, or the private host folder);
    below it every component is opened with O_NOFOLLOW and each socket file must be a socket. Waits
    for the kernel to create them, which it does before it runs any student code."""
    base = os.open(root, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    pinned: dict[str, int] = {}
    try:
        for part in Path(folder).parts:
            inner = os.open(part, os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=base)
            os.close(base)
            base = inner
        deadline = time.monotonic() + wait
        for channel in CHANNELS:
            name = f"{prefix}-{ports[channel]}"
            while True:
                try:
                    fd = os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=base)
                    break
                except FileNotFoundError:
                    if time.monotonic() > deadline or not alive():
                        raise RuntimeError(f"the kernel did not create its {channel} socket") from None
                    time.sleep(0.01)
            pinned[channel] = fd
            if not stat.S_ISSOCK(os.fstat(fd).st_mode):
                raise RuntimeError(f"the kernel's {channel} socket is not a socket: refusing to connect to it")
    except BaseException:
        close_pinned(pinned)
        raise
    finally:
        os.close(base)
    return pinned


def close_pinned(pinned: dict[str, int] | None) -> None:
    for fd in (pinned or {}).values():
        try:
            os.close(fd)
        except OSError:
            pass


class SandboxedKernelClient(PinnedSockets, AsyncKernelClient):
    """The grader's client of a sandboxed kernel: it connects through its own copies of the
    manager's socket descriptors, and closes them when its channels stop."""

    def stop_channels(self) -> None:
        super().stop_channels()
        close_pinned(self._pinned)
        self._pinned = None


class SandboxedKernelManager(PinnedSockets, AsyncKernelManager):
    """A kernel launched inside the sandbox, talking to the grader over Unix sockets.

    With bubblewrap, the kernel creates its sockets in the sandbox's own ``/run`` (a tmpfs); the
    grader opens them through ``/proc/<pid>/root/run`` once, as the kernel starts, and connects through
    those descriptors only (``PinnedSockets``). The connection file sits in a private host folder
    mounted read-only. Without bubblewrap, the sockets lie in that private folder, pinned the same way.
    """

    stderr_log = Unicode("", help="file that receives the kernel's stderr (capped); empty: discarded").tag(config=True)
    client_factory = Type(SandboxedKernelClient, klass=AsyncKernelClient)

    async def _async_pre_start_kernel(self, **kw):
        self._host_dir = Path(tempfile.mkdtemp(prefix="ck-"))
        self._uid = sandbox_uid()
        self.transport = "ipc"
        self.ip = f"{SOCKET_DIR}/k" if bwrap() else str(self._host_dir / "k")
        self.connection_file = str(self._host_dir / "connection.json")
        # A signal would reach bubblewrap, not the kernel: interrupt through the control channel.
        self.kernel_spec.interrupt_mode = "message"
        kernel_cmd, kw = await super()._async_pre_start_kernel(**kw)
        if self._uid is not None:
            for path in (self._host_dir, Path(self.connection_file)):
                os.chown(path, self._uid, self._uid)
        kw["env"] = scrubbed_env(kw.get("env"))
        kw["cwd"] = str(self._host_dir)
        kw["stdout"] = subprocess.DEVNULL  # the kernel's banner
        kw["stderr"] = subprocess.PIPE
        # In its own PID namespace the kernel's parent is the sandbox's init, not the grader:
        # ipykernel would take that for an orphaned kernel and exit. bwrap --die-with-parent
        # (and the grader's kill) take care of orphans instead.
        kernel_cmd = [*kernel_cmd, "--IPKernelApp.parent_handle=0"]
        return sandbox_command(kernel_cmd, self._host_dir, self._uid), kw

    async def _async_post_start_kernel(self, **kw) -> None:
        process = getattr(self.provisioner, "process", None)
        if process is not None:
            self._process = process
            _started_here(process)
        if process is not None and process.stderr is not None:  # the kernel's stderr, into its log
            threading.Thread(target=_drain, args=(process.stderr, self.stderr_log), daemon=True).start()
        root, folder = str(self._host_dir), "."
        if bwrap() and process is not None:
            # bwrap's child sets the sandbox up (its root changes on the way) and only then starts the
            # command: the command's root is the sandbox's, for good.
            command = _sandbox_child(_sandbox_child(process.pid))
            root, folder = f"/proc/{command}/root", SOCKET_DIR.lstrip("/")
        ports = {channel: getattr(self, f"{channel}_port") for channel in CHANNELS}
        alive = (lambda: process.poll() is None) if process is not None else (lambda: True)
        self._pinned = pin_sockets(root, folder, Path(self.ip).name, ports, alive)
        await super()._async_post_start_kernel(**kw)

    def client(self, **kwargs):
        import zmq
        kc = super().client(**kwargs)
        if self._pinned is not None:  # the same sockets, through descriptors the client owns
            kc._pinned = {channel: os.dup(fd) for channel, fd in self._pinned.items()}
        # No message from the kernel may be larger than this: a hostile kernel cannot make the
        # grader hold gigabytes (the judge's plain data is capped lower still).
        kc.context.setsockopt(zmq.MAXMSGSIZE, 192 * 2**20)
        return kc

    def cleanup_ipc_files(self) -> None:
        """Nothing to remove by path: the sockets vanish with the sandbox's /run (or the private folder),
        and ``ip`` names a path inside the sandbox, which on the host could be anything."""

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart)
        _forget(getattr(self, "_process", None))
        close_pinned(self._pinned)
        self._pinned = None
        shutil.rmtree(getattr(self, "_host_dir", ""), ignore_errors=True)


def _sandbox_child(pid: int, wait: float = 10.0) -> int:
    """The first child of ``pid`` (bwrap's child, or the command that child starts)."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            children = []
        if children:
            return int(children[0])
        time.sleep(0.005)
    raise RuntimeError("the sandbox did not start its kernel (bubblewrap gave no child process)")


_CONTROL = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|[\x00-\x08\x0b-\x1f\x7f]")


def _drain(stream, log_path: str, limit: int = STDERR_LOG_BYTES) -> None:
    """Copy the kernel's stderr into its log, without control characters, up to ``limit`` bytes."""
    written = 0
    sink = open(log_path, "ab") if log_path else None
    try:
        for chunk in iter(lambda: stream.read1(65536), b""):
            if sink is None or written >= limit:
                continue  # keep reading, so the kernel never blocks on a full pipe
            clean = _CONTROL.sub(b"", chunk)[: limit - written]
            sink.write(clean)
            written += len(clean)
            if written >= limit:
                sink.write(b"\n[... the rest of the kernel's stderr was not kept]\n")
            sink.flush()
    except (OSError, ValueError):
        pass
    finally:
        if sink:
            sink.close()


# Sandboxes started by each grading thread, so that the grader's per-submission limit can kill the
# kernel of the submission it stops (autograder/grading/worker.py), and only that one.
_live: dict[int, list] = {}
_live_lock = threading.Lock()


def _started_here(process) -> None:
    with _live_lock:
        running = [p for p in _live.get(threading.get_ident(), []) if p.poll() is None]
        _live[threading.get_ident()] = running + [process]


def _forget(process) -> None:
    with _live_lock:
        for thread, processes in list(_live.items()):
            _live[thread] = [p for p in processes if p is not process]
            if not _live[thread]:
                del _live[thread]


def kill_sandboxes_of(thread: int) -> None:
    """Kill every sandbox that ``thread`` started and that is still running."""
    with _live_lock:
        processes = _live.pop(thread, [])
    for process in processes:
        kill_sandbox(process)


def kill_sandbox(process) -> None:
    """Kill the sandbox's whole process group (the kernel and whatever it started)."""
    if process is not None and process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except OSError:
            process.kill()
