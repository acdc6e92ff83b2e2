"""The parts of the workshop hub that JupyterHub does not ship (hub/jupyterhub_config.py wires them in).

- ``Settings``: what the host chose, read from ``COURSE_HUB_*`` variables (``make hub`` sets them);
  the two passwords from a secrets file only the host can read (``make hub-secrets`` writes it), so
  they never appear in a command line that ``ps`` shows every attendee.
- ``WorkshopSpawner``: JupyterHub's own LocalProcessSpawner, with each hub user running as a system
  user of their own, ``<prefix><name>`` (``jupyter-alice``), created with a private home on first
  start, as The Littlest JupyterHub does. Separate uids and 0700 homes are what keep one attendee's
  kernel out of another's files; the prefix keeps a self-chosen name from ever meaning an existing
  account (nobody can sign up as ``root``). With PAM the hub users *are* system accounts: no prefix,
  nothing created.
- ``prepare_host``: the exchange and the hub's state folder, and the masters (solutions/, tests/, .git,
  grading/) closed to attendees' kernels and open to the instructor's group.
- ``shared_environment``: where .venv's Python lives under a private home (pyenv or conda under /root), a copy
  of that interpreter under /opt that every account can run, with a venv on it that reads .venv's packages:
  the attendees' servers run from there, the host's .venv stays as it is.
- Each server's Jupyter configuration is the lab face of its role (lab/student, lab/instructor; see
  autograder/lab/faces.py) with hub/<role> over it: only what a room with a real exchange changes.
"""
from __future__ import annotations

import functools
import os
import pwd
import re
import shutil
import stat
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from jupyterhub.spawner import LocalProcessSpawner
from traitlets import Unicode

HUB_DIR = Path(__file__).resolve().parent
REPO = HUB_DIR.parent
VENV_BIN = REPO / ".venv" / "bin"
COURSE_ID = "pytorch-course"  # autograder/grading/nbgrader_config.py's course id: the exchange folder is named after it
# Hub names become part of system user names (at most 32 characters on Linux), so keep them short and plain.
USERNAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,19}$"
# Folders of the checkout that attendees' kernels must not read: the masters with their hidden tests, the
# test suite (its catalogues hold correct answers), git's history of both, and grades.
PRIVATE_FOLDERS = ("solutions", "tests", ".git", "grading")


class HubSetupError(RuntimeError):
    pass


SECRET_KEYS = {"HUB_PASSWORD": "COURSE_HUB_PASSWORD", "HUB_ADMIN_PASSWORD": "COURSE_HUB_ADMIN_PASSWORD"}


def read_secrets(path: Path) -> dict[str, str]:
    """``HUB_PASSWORD=...`` and ``HUB_ADMIN_PASSWORD=...`` lines of the host's secrets file, as the
    ``COURSE_HUB_*`` names; refused unless only its owner can read it."""
    if not path.is_file():
        return {}
    mode = path.stat().st_mode
    if mode & 0o077:
        raise HubSetupError(f"{path} holds the hub's passwords but others can read it (mode {stat.filemode(mode)}): "
                            f"run `chmod 600 {path}` (or `make hub-secrets` to write it again), then start the hub.")
    found = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() in SECRET_KEYS:
            found[SECRET_KEYS[key.strip()]] = value.strip()
    return found


@dataclass
class Settings:
    ip: str = "0.0.0.0"
    port: int = 8000
    hub_port: int = 8081
    proxy_api_port: int = 8001
    auth: str = "shared"          # "shared": one room password, names chosen at login; "pam": system accounts
    password: str = ""            # shared: the attendees' password (8 characters or more)
    admin_password: str = ""      # shared: the instructor's password (32 characters or more)
    instructor: str = "instructor"
    max_servers: int = 60         # attendees' servers running at once; 0 means no limit
    idle_timeout: int = 3600      # seconds before an idle server is stopped (its files stay)
    state: Path = HUB_DIR / "state"
    exchange: Path = Path("/srv/nbgrader/exchange")
    homes: Path = Path("/home")
    prefix: str = "jupyter-"
    runtime: Path = Path("/opt/pytorch-course-python")  # the interpreter's copy, if attendees cannot reach it
    user_bin: Path = VENV_BIN     # where attendees' servers find python and jupyterhub-singleuser (prepare_host)

    @classmethod
    def from_env(cls, env=os.environ) -> "Settings":
        def number(name: str, default: int) -> int:
            value = env.get(name, "")
            if not value:
                return default
            if not value.isdigit():
                raise HubSetupError(f"{name}={value!r} is not a whole number of "
                                    f"{'seconds' if 'TIMEOUT' in name else 'ports or servers'}; "
                                    f"set it to a number such as {default}, or leave it unset for {default}.")
            return int(value)

        state = Path(env.get("COURSE_HUB_STATE") or cls.state).resolve()
        secrets = read_secrets(Path(env.get("COURSE_HUB_SECRETS") or state / "secrets"))
        s = cls(
            ip=env.get("COURSE_HUB_IP") or cls.ip,
            port=number("COURSE_HUB_PORT", cls.port),
            hub_port=number("COURSE_HUB_HUB_PORT", cls.hub_port),
            proxy_api_port=number("COURSE_HUB_PROXY_API_PORT", cls.proxy_api_port),
            auth=env.get("COURSE_HUB_AUTH") or cls.auth,
            password=env.get("COURSE_HUB_PASSWORD") or secrets.get("COURSE_HUB_PASSWORD", ""),
            admin_password=env.get("COURSE_HUB_ADMIN_PASSWORD") or secrets.get("COURSE_HUB_ADMIN_PASSWORD", ""),
            instructor=env.get("COURSE_HUB_INSTRUCTOR") or cls.instructor,
            max_servers=number("COURSE_HUB_MAX_USERS", cls.max_servers),
            idle_timeout=number("COURSE_HUB_IDLE_TIMEOUT", cls.idle_timeout),
            state=state,
            exchange=Path(env.get("COURSE_HUB_EXCHANGE") or cls.exchange).resolve(),
            homes=Path(env.get("COURSE_HUB_HOMES") or cls.homes).resolve(),
            prefix=env.get("COURSE_HUB_USER_PREFIX", cls.prefix),
            runtime=Path(env.get("COURSE_HUB_RUNTIME") or cls.runtime).resolve(),
        )
        s.check()
        return s

    def check(self) -> None:
        if self.auth not in ("shared", "pam"):
            raise HubSetupError(f"COURSE_HUB_AUTH={self.auth!r}: choose 'shared' (one workshop password, attendees "
                                "pick their names) or 'pam' (the machine's own accounts and passwords).")
        if self.auth == "shared":
            if len(self.password) < 8:
                raise HubSetupError("The attendees' workshop password is missing or shorter than 8 characters: "
                                    "run `make hub-secrets` (it asks for the room's password and the instructor's, "
                                    "and keeps them in hub/state/secrets, readable by root only), then `sudo make hub`.")
            if len(self.admin_password) < 32 or self.admin_password == self.password:
                raise HubSetupError("The instructor's password must be at least 32 characters and differ from the "
                                    "attendees' one (it opens Formgrader and every attendee's server): run "
                                    "`make hub-secrets` again (it can make one for you), then `sudo make hub`.")
            if not re.match(r"^[a-z][a-z0-9_.-]*-$|^[a-z][a-z0-9_.-]*_$", self.prefix):
                raise HubSetupError(f"COURSE_HUB_USER_PREFIX={self.prefix!r}: with self-chosen names the system "
                                    "users need a prefix ending in '-' or '_' (default 'jupyter-') so that no name "
                                    "can mean an existing account.")
        if not re.match(USERNAME_PATTERN, self.instructor):
            raise HubSetupError(f"COURSE_HUB_INSTRUCTOR={self.instructor!r}: use lowercase letters, digits, '.', "
                                "'_' or '-', at most 20 characters.")
        if os.geteuid() != 0:
            raise HubSetupError("The hub must run as root: it creates a system user per attendee and starts each "
                                "server as that user. Run it with sudo: sudo make hub ...")

    def system_name(self, hub_name: str) -> str:
        return hub_name if self.auth == "pam" else self.prefix + hub_name


@functools.lru_cache(maxsize=1)
def settings() -> Settings:
    """The hub's settings, read once from the hub's environment."""
    return Settings.from_env()


def ensure_system_user(name: str, homes: Path) -> pwd.struct_passwd:
    """The system user ``name``, created with a private home under ``homes`` if it does not exist."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        homes.mkdir(parents=True, exist_ok=True)
        subprocess.run(["useradd", "--create-home", "--home-dir", str(homes / name), "--shell", "/bin/bash",
                        "--user-group", "--comment", "workshop hub user", name],
                       check=True, capture_output=True, text=True)
        entry = pwd.getpwnam(name)
    if entry.pw_uid < 1000:
        raise HubSetupError(f"The system user {name} is a system account (uid {entry.pw_uid}); the hub never starts "
                            "servers as one. Choose another name or another COURSE_HUB_USER_PREFIX.")
    home = Path(entry.pw_dir)
    if not home.is_dir():  # PAM accounts without a home yet
        home.mkdir(parents=True)
        os.chown(home, entry.pw_uid, entry.pw_gid)
    os.chmod(home, 0o700)  # useradd follows the distribution's HOME_MODE, often 0755: never readable by others
    return entry


class WorkshopSpawner(LocalProcessSpawner):
    """LocalProcessSpawner running hub user ``alice`` as system user ``<prefix>alice`` (created on first start)."""

    system_user = Unicode(help="The system user this server runs as.")

    def _settings(self) -> Settings:
        return settings()

    def _system_entry(self) -> pwd.struct_passwd:
        settings = self._settings()
        name = settings.system_name(self.user.name)
        if settings.auth == "pam":
            try:
                entry = pwd.getpwnam(name)
            except KeyError:
                raise HubSetupError(f"{name} has no system account on this machine") from None
            return entry
        return ensure_system_user(name, settings.homes)

    async def start(self):
        entry = self._system_entry()
        if self.user.admin:
            instructor_course(entry)
        self.system_user = entry.pw_name
        self.notebook_dir = entry.pw_dir
        return await super().start()

    def make_preexec_fn(self, name):
        return super().make_preexec_fn(self.system_user)

    def user_env(self, env):
        entry = pwd.getpwnam(self.system_user)
        env.update(USER=entry.pw_name, LOGNAME=entry.pw_name, HOME=entry.pw_dir, SHELL=entry.pw_shell or "/bin/bash")
        role = "instructor" if self.user.admin else "student"
        # The role's lab face (Formgrader for the instructor only, the course's Validate button for attendees)
        # with hub/<role> over it: nbgrader's exchange and Assignment List, and the instructor's framing policy.
        from autograder.lab.faces import lab_environment
        env = lab_environment(role, env, overrides=[HUB_DIR / role])
        env["COURSE_HUB_EXCHANGE"] = str(self._settings().exchange)
        bin_dir = self._settings().user_bin
        env["COURSE_HUB_PYTHON"] = str(bin_dir / "python")  # what `make hub-grade` runs the grader with
        env["PATH"] = f"{bin_dir}:{env.get('PATH') or '/usr/local/bin:/usr/bin:/bin'}"
        return env


def instructor_course(entry: pwd.struct_passwd) -> Path:
    """~/course for the instructor: Formgrader needs the course folder inside the server's root, so it holds
    links to the checkout's masters and releases (hub/instructor/nbgrader_config.py points nbgrader there);
    ~/grading for the collected submissions, the gradebook and the grader's output."""
    course, grading = Path(entry.pw_dir) / "course", Path(entry.pw_dir) / "grading"
    for folder in (course, grading):  # grading/: nbgrader's gradebook cannot create its own folder
        if not folder.is_dir():
            folder.mkdir(mode=0o700)
            os.chown(folder, entry.pw_uid, entry.pw_gid)
    for name in ("solutions", "course"):
        link = course / name
        if not link.is_symlink() and not link.exists():
            link.symlink_to(REPO / name)
            os.chown(link, entry.pw_uid, entry.pw_gid, follow_symlinks=False)
    return course


def close_to_others(folder: Path, gid: int) -> None:
    """``folder`` passable by its owner and group ``gid`` only. Closing the folder itself is enough: nobody
    else can reach anything inside, including files made later (the files keep their own modes)."""
    st = os.stat(folder)
    os.chown(folder, -1, gid)
    os.chmod(folder, (stat.S_IMODE(st.st_mode) & 0o7700) | 0o050)


def closed_folders(path: Path) -> list[Path]:
    """The folders on the way to ``path`` that other users cannot pass (no o+x)."""
    path = Path(os.path.realpath(path))
    return [p for p in [*reversed(path.parents), path] if p.is_dir() and not os.stat(p).st_mode & stat.S_IXOTH]


def check_reachable() -> None:
    """Attendees' servers run the course's packages as other users: they must reach the checkout and .venv
    (the interpreter itself can be copied, see shared_environment; the checkout cannot)."""
    closed = sorted({str(p) for target in (VENV_BIN, REPO / "coursekit") for p in closed_folders(target)})
    if closed:
        raise HubSetupError(
            f"Attendees' accounts cannot reach the course's checkout ({REPO}): {', '.join(closed)} cannot be "
            "entered by other users. Put the checkout where every account can read it (for example "
            "/opt/pytorch-course: move it there, then `make setup` and `sudo make hub`).")


def interpreter_reachable() -> bool:
    python = Path(os.path.realpath(VENV_BIN / "python"))
    return not any(closed_folders(p) for p in (python, Path(sys.base_prefix)))


def _copy_interpreter(target: Path) -> None:
    """This interpreter (the one .venv is built on) into ``target``: its binary, its standard library and the
    shared libraries it loads from folders other accounts cannot enter (libpython of a pyenv build, conda's)."""
    base, version = Path(sys.base_prefix), f"python{sys.version_info[0]}.{sys.version_info[1]}"
    binary = Path(os.path.realpath(VENV_BIN / "python"))
    (target / "bin").mkdir(parents=True)
    (target / "lib").mkdir()
    shutil.copy2(binary, target / "bin" / version)
    # site-packages stays behind (the venv has its own), and so do the standard library's own tests and the
    # bytecode only `python -O` reads.
    shutil.copytree(base / "lib" / version, target / "lib" / version, symlinks=True,
                    ignore=shutil.ignore_patterns("site-packages", "test", "tests", "idle_test", "*.opt-?.pyc"))
    dynload = sorted((base / "lib" / version / "lib-dynload").glob("*.so"))
    linked = subprocess.run(["ldd", str(binary), *map(str, dynload)], capture_output=True,
                            text=True).stdout if shutil.which("ldd") else ""  # without it, the check below says so
    private = {Path(found) for found in re.findall(r"=> (/\S+) \(", linked) if closed_folders(Path(found).parent)}
    for library in private:
        shutil.copy2(library, target / "lib" / library.name)
    if private:
        # The binary looks for them where it was built (an absolute RUNPATH such as /root/.pyenv/.../lib):
        # point it at the copy's lib/ instead, in place, padded with NULs like conda's relocation does.
        built = (sysconfig.get_config_var("LIBDIR") or "").encode()
        relative = b"$ORIGIN/../lib"
        data = (target / "bin" / version).read_bytes()
        if built and len(built) >= len(relative) and b"\0" + built + b"\0" in data:
            data = data.replace(b"\0" + built + b"\0", b"\0" + relative.ljust(len(built), b"\0") + b"\0")
            (target / "bin" / version).write_bytes(data)
    subprocess.run(["chmod", "-R", "u+rwX,go+rX,go-w", str(target)], check=True)


def shared_environment(runtime: Path) -> Path:
    """A venv under ``runtime`` that every account can run: a copy of .venv's interpreter (made again only when
    that interpreter changed) with .venv's packages, data and configuration linked in, and .venv's commands
    rewritten to start it. Returns its bin folder."""
    binary = Path(os.path.realpath(VENV_BIN / "python"))
    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    source = f"{binary} {binary.stat().st_size} {binary.stat().st_mtime_ns}\n"
    runtime.mkdir(parents=True, exist_ok=True)
    if runtime.is_symlink() or runtime.stat().st_uid != os.geteuid():
        raise HubSetupError(f"{runtime}, where the hub copies the course's Python for attendees, belongs to someone "
                            "else or is a link: remove it, or name a folder of root's with COURSE_HUB_RUNTIME.")
    os.chmod(runtime, 0o755)
    python, stamp = runtime / "python", runtime / "python" / "SOURCE"
    if not (stamp.is_file() and stamp.read_text() == source):
        building = runtime / "python.new"
        shutil.rmtree(building, ignore_errors=True)
        _copy_interpreter(building)
        (building / "SOURCE").write_text(source)
        shutil.rmtree(python, ignore_errors=True)
        building.rename(python)
    venv = runtime / "venv"
    shutil.rmtree(venv, ignore_errors=True)  # cheap, and always in step with .venv's packages
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text(f"home = {python / 'bin'}\ninclude-system-site-packages = false\n"
                                     f"version = {'.'.join(map(str, sys.version_info[:3]))}\n")
    for name in (version, "python3", "python"):
        (venv / "bin" / name).symlink_to(python / "bin" / version)
    for name in ("lib", "lib64", "share", "etc"):  # the packages, Jupyter's data (JupyterLab) and configuration
        if (VENV_BIN.parent / name).exists():
            (venv / name).symlink_to(VENV_BIN.parent / name)
    shebangs = tuple(f"#!{VENV_BIN / name}".encode() for name in (version, "python3", "python"))
    for command in VENV_BIN.iterdir():
        if command.name.startswith("python") or not command.is_file():
            continue
        with open(command, "rb") as handle:
            first, rest = handle.readline(), handle.read()
        if first.rstrip() in shebangs:
            target = venv / "bin" / command.name
            target.write_bytes(f"#!{venv / 'bin' / 'python'}\n".encode() + rest)
            target.chmod(0o755)
    os.chmod(venv, 0o755)
    # The proof: an account with no rights of its own starts it and imports the course's packages.
    tried = subprocess.run([str(venv / "bin" / "python"), "-c", "import jupyterhub, autograder"],
                           capture_output=True, text=True, user=65534, group=65534, extra_groups=[],
                           cwd="/", env={"PATH": "/usr/bin:/bin"})
    if tried.returncode:
        raise HubSetupError(
            f"The copy of the course's Python in {runtime}, made because attendees cannot reach {binary}, does not "
            f"start for other accounts: {tried.stderr.strip()[-400:]}. Build .venv from a system-wide Python "
            "instead: rm -rf .venv && make setup PYTHON=/usr/bin/python3.11, then `sudo make hub`.")
    return venv / "bin"


def prepare_host(settings: Settings) -> pwd.struct_passwd:
    """Folders the hub needs, owned and protected as the exchange and the masters require, and the Python the
    attendees' servers run (.venv's own, or shared_environment's copy)."""
    check_reachable()
    if not interpreter_reachable():
        settings.user_bin = shared_environment(settings.runtime)
    settings.state.mkdir(parents=True, exist_ok=True)
    os.chmod(settings.state, 0o700)  # the hub's database and cookie secret
    if settings.auth == "pam":
        try:
            instructor = pwd.getpwnam(settings.instructor)
        except KeyError:
            raise HubSetupError(f"With HUB_AUTH=pam the instructor logs in with a system account, and there is no "
                                f"account {settings.instructor!r}: create it (sudo adduser {settings.instructor}) or "
                                "name yours with HUB_INSTRUCTOR=<account>.") from None
    else:
        instructor = ensure_system_user(settings.system_name(settings.instructor), settings.homes)
    # nbgrader's exchange: everyone may create in its root (nbgrader checks that), the sticky bit keeps them
    # from removing each other's folders, and the course's folder belongs to the instructor from the start so
    # no attendee can claim it. nbgrader creates outbound/ (readable) and inbound/ (write-only, 0733) in it.
    settings.exchange.mkdir(parents=True, exist_ok=True)
    os.chmod(settings.exchange, 0o1777)
    course = settings.exchange / COURSE_ID
    course.mkdir(exist_ok=True)
    os.chown(course, instructor.pw_uid, instructor.pw_gid)
    os.chmod(course, 0o755)
    for folder in PRIVATE_FOLDERS:
        if (REPO / folder).is_dir():
            close_to_others(REPO / folder, instructor.pw_gid)
    return instructor


def remove_system_users(prefix: str) -> list[str]:
    """Remove every system user whose name starts with ``prefix``, and their homes (after the hub and its
    servers stopped). For tests and the end of a workshop; refuses a prefix that could match ordinary accounts."""
    if len(prefix) < 4 or not prefix.endswith(("-", "_")):
        raise HubSetupError(f"refusing to remove users by the prefix {prefix!r}: give the hub's full prefix")
    removed = []
    for entry in pwd.getpwall():
        if entry.pw_name.startswith(prefix) and entry.pw_uid >= 1000:
            subprocess.run(["userdel", "--remove", entry.pw_name], capture_output=True)
            removed.append(entry.pw_name)
    return removed
