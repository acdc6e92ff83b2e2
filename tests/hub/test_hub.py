"""The workshop hub (hub/, `make hub`): a real JupyterHub on 127.0.0.1 with two attendees and an instructor.

The slow test walks a workshop through HTTP, as browsers would: log in, spawn, release through Formgrader,
fetch and submit through the Assignment List, collect, grade with the course's grader, and read grades.csv.
Where Chromium and Playwright are installed (`make browser`), an attendee also logs in through the login form
of a real browser and opens the notebook she fetched (screenshots hub-*.png beside test_browser.py's).
It needs root (the hub creates a system user per attendee; all of them carry a prefix unique to the run and
are removed at the end) and the proxy from `make hub-deps`.
"""
from __future__ import annotations

import csv
import json
import os
import pwd
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

from autograder.settings import REPO_ROOT
from autograder.grading.intake import collect
from labserver import free_port

sys.path.insert(0, str(REPO_ROOT / "hub"))
import workshop  # noqa: E402

ASSIGNMENT = "00_getting_started"
ROOM_PASSWORD = "the-room-password"
ADMIN_PASSWORD = "instructor-" + "x" * 32


# ---- fast checks -------------------------------------------------------------------------------------------

def test_intake_reads_nbgrader_collect_layout(tmp_path):
    """What Formgrader's Collect writes (submitted/<student>/<assignment>/ with timestamp.txt and
    submission_secret.txt) grades as is."""
    folder = tmp_path / "submitted" / "alice" / ASSIGNMENT
    folder.mkdir(parents=True)
    (folder / f"{ASSIGNMENT}.ipynb").write_text("{}")
    (folder / "timestamp.txt").write_text("2026-12-02 08:00:00.000000 UTC")
    (folder / "submission_secret.txt").write_text("ab" * 64)
    (tmp_path / "submitted" / "bob").mkdir()
    (tmp_path / "submitted" / "bob" / "timestamp.txt").write_text("not where nbgrader puts it")
    intake = collect(tmp_path / "submitted", [ASSIGNMENT, "01_tensors"], tmp_path / "work")
    assert list(intake.submissions) == [("alice", ASSIGNMENT)]
    assert intake.problems == ["unknown file: bob/timestamp.txt (not a notebook or a zip archive), ignored"]


def test_collected_submissions_keep_their_hand_in_time_for_formgrader(tmp_path):
    """Formgrader shows a submission's scores only when the gradebook has the time from timestamp.txt."""
    from nbgrader.utils import parse_utc
    from autograder.grading.batch import Grader
    from autograder.grading.intake import submitted_times
    from autograder.authoring.release import assignments
    from autograder.grading.results import Result
    from autograder.grading.course_dir import Workspace
    for student, stamp in (("alice", "2026-12-02 08:00:00.000000 UTC"), ("bob", "not a time")):
        folder = tmp_path / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        shutil.copy(REPO_ROOT / "course" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", folder)
        (folder / "timestamp.txt").write_text(stamp)
    times = submitted_times(collect(tmp_path / "submitted", assignments(), tmp_path / "work"))
    assert times == {("alice", ASSIGNMENT): parse_utc("2026-12-02 08:00:00.000000 UTC")}
    ws = Workspace(tmp_path / "grading")
    ws.prepare([ASSIGNMENT])
    Grader(tmp_path / "grading")._merge(ws, [Result(s, ASSIGNMENT, "graded") for s in ("alice", "bob")], times)
    with ws.gradebook() as gradebook:
        assert gradebook.find_submission(ASSIGNMENT, "alice").timestamp == times["alice", ASSIGNMENT]
        assert gradebook.find_submission(ASSIGNMENT, "bob").timestamp is None


def _settings_error(**env) -> str:
    base = {"COURSE_HUB_PASSWORD": ROOM_PASSWORD, "COURSE_HUB_ADMIN_PASSWORD": ADMIN_PASSWORD}
    base.update(env)
    with pytest.raises(workshop.HubSetupError) as error:
        workshop.Settings.from_env(base)
    return str(error.value)


def _command_lines() -> list[str]:
    lines = []
    for entry in Path("/proc").iterdir():
        try:
            lines.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except OSError:
            continue
    return lines


@pytest.mark.skipif(os.geteuid() != 0, reason="the settings check also asks for root")
def test_hub_passwords_come_from_a_file_only_the_host_reads(tmp_path):
    secrets = tmp_path / "secrets"
    secrets.write_text(f"HUB_PASSWORD={ROOM_PASSWORD}\nHUB_ADMIN_PASSWORD={ADMIN_PASSWORD}\n")
    secrets.chmod(0o600)
    ok = workshop.Settings.from_env({"COURSE_HUB_SECRETS": str(secrets)})
    assert (ok.password, ok.admin_password) == (ROOM_PASSWORD, ADMIN_PASSWORD)
    secrets.chmod(0o644)
    with pytest.raises(workshop.HubSetupError, match="chmod 600"):
        workshop.Settings.from_env({"COURSE_HUB_SECRETS": str(secrets)})
    # make refuses a password on its command line before starting anything
    made = subprocess.run(["make", "-C", str(REPO_ROOT), "hub", f"HUB_ADMIN_PASSWORD={ADMIN_PASSWORD}"],
                          capture_output=True, text=True, timeout=60)
    assert made.returncode == 2 and "make hub-secrets" in made.stderr and "setup" not in made.stdout


@pytest.mark.skipif(os.geteuid() != 0, reason="the settings check also asks for root")
def test_hub_settings_refuse_what_would_be_unsafe():
    assert "shorter than 8" in _settings_error(COURSE_HUB_PASSWORD="short")
    assert "at least 32" in _settings_error(COURSE_HUB_ADMIN_PASSWORD="too-short-for-the-instructor")
    assert "differ" in _settings_error(COURSE_HUB_ADMIN_PASSWORD="p" * 40, COURSE_HUB_PASSWORD="p" * 40)
    assert "'shared'" in _settings_error(COURSE_HUB_AUTH="ldap")
    assert "prefix" in _settings_error(COURSE_HUB_USER_PREFIX="")  # a self-chosen "root" must not be root
    assert "whole number" in _settings_error(COURSE_HUB_PORT="80a")
    ok = workshop.Settings.from_env({"COURSE_HUB_PASSWORD": ROOM_PASSWORD, "COURSE_HUB_ADMIN_PASSWORD": ADMIN_PASSWORD})
    assert ok.system_name("alice") == "jupyter-alice" and ok.auth == "shared"


def test_hub_configuration_is_only_what_a_room_changes_over_the_lab_faces():
    """hub/<role> comes first on JUPYTER_CONFIG_PATH, before the lab face lab/<role> (autograder/lab/faces.py): it says
    only what a room with an exchange changes (the Assignment List, the instructor's framing policy), never what
    the face already says."""
    for role in ("student", "instructor"):
        hub, lab = REPO_ROOT / "hub" / role, REPO_ROOT / "lab" / role
        for name, keys in (("labconfig/page_config.json", ("disabledExtensions",)),
                           ("jupyter_server_config.json", ("ServerApp", "jpserver_extensions"))):
            ours, face = json.loads((hub / name).read_text()), json.loads((lab / name).read_text())
            for key in keys:
                ours, face = ours.get(key, {}), face.get(key, {})
            assert ours, f"hub/{role}/{name} changes nothing: remove it"
            repeated = [k for k, value in ours.items() if face.get(k) == value]
            assert not repeated, f"hub/{role}/{name} repeats lab/{role}: {repeated}"
        # the instructor's Formgrader may be framed by her own lab (the hub's origin), never by any site
        policy = json.loads((hub / "jupyter_server_config.json").read_text())["ServerApp"].get("tornado_settings", {})
        assert policy.get("headers", {}).get("Content-Security-Policy") == (
            "frame-ancestors 'self'" if role == "instructor" else None)


def test_remove_system_users_refuses_a_broad_prefix():
    for prefix in ("", "j", "jup", "jupyter"):
        with pytest.raises(workshop.HubSetupError):
            workshop.remove_system_users(prefix)


# ---- the workshop, end to end ------------------------------------------------------------------------------

def _hub_command(tmp_path: Path, private_python: bool) -> list[str]:
    """jupyterhub; with ``private_python``, in a private mount namespace where .venv is built on a Python inside
    a 0700 home in the test's folder (as with pyenv or conda under /root): .venv's bin/ and pyvenv.cfg are
    replaced there by copies pointing at that home, so the hub must run its attendees from a copy it makes
    (hub/workshop.py's shared_environment). Nothing outside that namespace changes."""
    command = [str(workshop.VENV_BIN / "jupyterhub"), "-f", str(REPO_ROOT / "hub" / "jupyterhub_config.py")]
    if not private_python:
        return command
    if not shutil.which("unshare"):
        pytest.skip("simulating a Python in a private home needs unshare (util-linux)")
    home = tmp_path / "private-home"
    (home / "python").mkdir(parents=True)
    home.chmod(0o700)
    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    bin_dir = tmp_path / "venv-bin"
    bin_dir.mkdir()
    for entry in workshop.VENV_BIN.iterdir():
        if entry.is_symlink() and entry.name.startswith("python"):
            (bin_dir / entry.name).symlink_to(home / "python" / "bin" / version)
        elif entry.is_file():
            shutil.copy2(entry, bin_dir / entry.name)
    config = workshop.VENV_BIN.parent / "pyvenv.cfg"
    (tmp_path / "pyvenv.cfg").write_text(re.sub(r"(?m)^home = .*$", f"home = {home / 'python' / 'bin'}",
                                                config.read_text()))
    script = ('set -e; mount --bind "$1" "$2/python"; mount --bind "$3" "$4"; mount --bind "$5" "$6"; '
              'shift 6; exec "$@"')
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh",
            os.path.realpath(sys.base_prefix), str(home), str(bin_dir), str(workshop.VENV_BIN),
            str(tmp_path / "pyvenv.cfg"), str(config), *command]


class Room:
    """The hub of one test and HTTP as each person's browser would speak it (with their own API token)."""

    def __init__(self, base: str):
        import requests
        self.requests = requests
        self.base = base
        self.tokens: dict[str, str] = {}
        self.runtime: Path | None = None  # where the hub may copy the interpreter (COURSE_HUB_RUNTIME)

    def login(self, name: str, password: str) -> None:
        session = self.requests.Session()
        session.get(f"{self.base}/hub/login").raise_for_status()
        reply = session.post(f"{self.base}/hub/login", allow_redirects=False,
                             data={"username": name, "password": password, "_xsrf": session.cookies["_xsrf"]})
        assert reply.status_code == 302, f"{name} could not log in: {reply.status_code} {reply.text[:300]}"
        reply = session.post(f"{self.base}/hub/api/users/{name}/tokens", json={"note": "test_hub"},
                             headers={"X-XSRFToken": session.cookies["_xsrf"]})
        reply.raise_for_status()
        self.tokens[name] = reply.json()["token"]

    def call(self, who: str, method: str, path: str, **kwargs):
        headers = {"Authorization": f"token {self.tokens[who]}"}
        return self.requests.request(method, f"{self.base}{path}", headers=headers, timeout=120, **kwargs)

    def ok(self, who: str, method: str, path: str, **kwargs):
        reply = self.call(who, method, path, **kwargs)
        assert reply.status_code < 300, f"{who} {method} {path}: {reply.status_code} {reply.text[:500]}"
        return reply

    def wait_ready(self, name: str, deadline: float) -> None:
        while time.time() < deadline:
            user = self.ok(name, "GET", f"/hub/api/users/{name}").json()
            server = user["servers"].get("")
            if server and server["ready"]:
                return
            assert user["pending"] or server, f"{name}'s server failed to start: {user}"
            time.sleep(1)
        raise AssertionError(f"{name}'s server was not ready in time")

    def run_code(self, who: str, code: str) -> dict:
        """Run ``code`` in a new kernel of ``who``'s server (Jupyter's REST and websocket API); its stdout
        and the error name, if any."""
        from tornado.httpclient import HTTPRequest
        from tornado.ioloop import IOLoop
        from tornado.websocket import websocket_connect
        kernel = self.ok(who, "POST", f"/user/{who}/api/kernels", json={"name": "python3"}).json()["id"]
        url = f"{self.base.replace('http', 'ws', 1)}/user/{who}/api/kernels/{kernel}/channels"

        async def talk() -> dict:
            socket_ = await websocket_connect(HTTPRequest(url, headers={"Authorization": f"token {self.tokens[who]}"}))
            msg_id = uuid.uuid4().hex
            socket_.write_message(json.dumps({
                "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": who, "session": msg_id,
                           "version": "5.3"},
                "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
                "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                            "allow_stdin": False, "stop_on_error": True}}))
            out, error = [], None
            while True:
                message = json.loads(await socket_.read_message())
                if message.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind = message["msg_type"]
                if kind == "stream":
                    out.append(message["content"]["text"])
                elif kind == "error":
                    error = message["content"]["ename"]
                elif kind == "status" and message["content"]["execution_state"] == "idle":
                    socket_.close()
                    return {"stdout": "".join(out), "error": error}

        try:
            return IOLoop.current().run_sync(talk, timeout=600)  # grading two notebooks on a loaded machine
        finally:
            self.call(who, "DELETE", f"/user/{who}/api/kernels/{kernel}")


def _answer(room: Room, who: str, code: str) -> None:
    path = f"/user/{who}/api/contents/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
    notebook = room.ok(who, "GET", path).json()["content"]
    cell = next(c for c in notebook["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == "ex_fahrenheit")
    cell["source"] = code
    room.ok(who, "PUT", path, json={"type": "notebook", "format": "json", "content": notebook})


def _disabled_lab_plugins(room: Room, who: str) -> list[str]:
    """The plugins JupyterLab's page config turns off for ``who`` (what the browser would load)."""
    page = room.ok(who, "GET", f"/user/{who}/lab").text
    config = page.split('id="jupyter-config-data" type="application/json">')[1].split("</script>")[0]
    return json.loads(config).get("disabledExtensions", [])


@contextmanager
def _logged_in(room: Room, who: str, password: str, profile: Path, step: str, login_shot: str | None = None):
    """A Chromium page where ``who`` logged in through the hub's login form and landed in her JupyterLab, or None
    (with a note) without Chromium or Playwright: the rest of the workshop is still checked. Screenshots go
    where tests/lab/test_browser.py puts its own; the browser process ends with the block."""
    from labserver import CHROMIUM, CHROMIUM_FLAGS, SHOTS
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print(f"{step} skipped: playwright is not installed (make browser)")
        yield None
        return
    if not CHROMIUM.is_file():
        print(f"{step} skipped: {CHROMIUM} is missing (make browser, or set COURSE_CHROMIUM)")
        yield None
        return
    SHOTS.mkdir(parents=True, exist_ok=True)
    started = time.time()
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": 1400, "height": 900})
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.goto(f"{room.base}/hub/login")
            page.fill("#username_input", who)
            page.fill("#password_input", password)
            if login_shot:
                page.screenshot(path=str(SHOTS / login_shot))
            page.click("#login_submit")
            page.wait_for_url(re.compile(rf"/user/{who}/lab"), timeout=60_000)
            yield page
        finally:
            context.close()  # ends the browser process Playwright started
    print(f"{step}: {time.time() - started:.0f} s")


def _browser_opens_the_fetched_notebook(room: Room, who: str, profile: Path) -> None:
    """``who`` logs in through the hub's login form in Chromium, lands in her JupyterLab, opens the fetched
    notebook from the file browser and finds nbgrader's Assignment List, with the notebook in it, and no
    Formgrader."""
    from labserver import SHOTS
    with _logged_in(room, who, ROOM_PASSWORD, profile, "hub browser step", "hub-1-login.png") as page:
        if page is None:
            return
        # The fetched folder in her file browser, opened as an attendee would: double-clicks.
        listing = page.locator(".jp-DirListing-content")
        listing.get_by_text(ASSIGNMENT, exact=True).dblclick(timeout=90_000)
        listing.get_by_text(f"{ASSIGNMENT}.ipynb", exact=True).dblclick(timeout=30_000)
        heading = page.locator(".jp-Notebook .jp-MarkdownOutput h1").filter(has_text="00 · Getting started")
        heading.wait_for(timeout=60_000)
        assert heading.is_visible()
        page.screenshot(path=str(SHOTS / "hub-2-notebook.png"))
        # one Validate button, the course's (progress, then "k of n checks passed"), not nbgrader's too
        page.locator(".course-validate-button").wait_for(timeout=30_000)
        assert page.locator(".jp-Toolbar-item").filter(has_text="Validate").count() == 1
        # nbgrader's menu offers the Assignment List and no Formgrader; the list shows what she fetched.
        page.locator(".lm-MenuBar-itemLabel").filter(has_text="Nbgrader").click(timeout=30_000)
        items = page.locator(".lm-Menu-itemLabel:visible").all_inner_texts()
        assert "Assignment List" in items and not any("Formgrader" in item for item in items), items
        page.locator(".lm-Menu-itemLabel:visible").filter(has_text="Assignment List").click()
        page.locator("#fetched_assignments_list").filter(has_text=ASSIGNMENT).wait_for(timeout=30_000)
        page.screenshot(path=str(SHOTS / "hub-3-assignment-list.png"))
        # and no "get notified about Jupyter news?" pop-up greeted her
        assert page.locator(".jp-toast-message, .Toastify__toast").filter(has_text=re.compile("news", re.I)).count() == 0


def _browser_opens_formgrader_in_the_lab(room: Room, who: str, profile: Path) -> None:
    """The instructor logs in through the hub's form in Chromium and opens Nbgrader -> Formgrader in her lab: the
    panel's frame shows Formgrader's assignment list, not a refusal to be framed (screenshot hub-4-formgrader.png)."""
    from labserver import SHOTS
    with _logged_in(room, who, ADMIN_PASSWORD, profile, "hub Formgrader browser step") as page:
        if page is None:
            return
        page.locator(".lm-MenuBar-itemLabel").filter(has_text="Nbgrader").click(timeout=90_000)
        page.locator(".lm-Menu-itemLabel:visible").filter(has_text="Formgrader").click()
        frame = page.frame_locator("#formgrader-iframe iframe")  # nbgrader's panel (its labextension)
        frame.get_by_text(ASSIGNMENT, exact=True).first.wait_for(timeout=60_000)
        page.screenshot(path=str(SHOTS / "hub-4-formgrader.png"))


def _processes_of(uids: set[int]) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid in uids:
                    pids.append(int(entry.name))
            except FileNotFoundError:
                pass
    return pids


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")[:200]
    except OSError:
        return "(ended)"


@contextmanager
def running_hub(tmp_path: Path, prefix: str, private_python: bool = False, **settings: str):
    """A hub of this checkout on free ports of 127.0.0.1, with its state, exchange, homes and any copy of the
    interpreter (COURSE_HUB_RUNTIME) in fresh folders; at the end the hub and everything it started are stopped,
    the accounts of ``prefix`` removed, those folders removed and the checkout's folders that the hub closed
    put back as they were. ``private_python``: see _hub_command."""
    if os.geteuid() != 0 or not shutil.which("useradd"):
        pytest.skip("the hub runs as root: it creates a system user per attendee")
    proxy = REPO_ROOT / "hub" / "node_modules" / ".bin" / "configurable-http-proxy"
    assert proxy.exists(), "the hub's proxy is missing: run `make hub-deps` (make test does)"
    if workshop.closed_folders(REPO_ROOT):  # the hub refuses such a checkout, with the message check_reachable gives
        pytest.skip(f"this checkout ({REPO_ROOT}) is in a folder other accounts cannot enter")
    command = _hub_command(tmp_path, private_python)
    port = free_port()
    # Homes and the exchange need folders every account can pass through (pytest's tmp_path is private).
    shared = Path(tempfile.mkdtemp(prefix="test_hub-"))
    os.chmod(shared, 0o755)
    # The passwords come from the host's secrets file, as `make hub-secrets` writes it: never a command line.
    secrets = tmp_path / "state" / "secrets"
    secrets.parent.mkdir(parents=True, exist_ok=True)
    secrets.write_text(f"HUB_PASSWORD={ROOM_PASSWORD}\nHUB_ADMIN_PASSWORD={ADMIN_PASSWORD}\n")
    secrets.chmod(0o600)
    env = {k: v for k, v in os.environ.items() if k not in ("COURSE_HUB_PASSWORD", "COURSE_HUB_ADMIN_PASSWORD")}
    env.update(COURSE_HUB_IP="127.0.0.1", COURSE_HUB_PORT=str(port),
               COURSE_HUB_HUB_PORT=str(free_port()), COURSE_HUB_PROXY_API_PORT=str(free_port()),
               COURSE_HUB_USER_PREFIX=prefix, COURSE_HUB_STATE=str(tmp_path / "state"),
               COURSE_HUB_EXCHANGE=str(shared / "exchange"), COURSE_HUB_HOMES=str(shared / "homes"),
               COURSE_HUB_RUNTIME=str(shared / "runtime"),
               COURSE_HUB_IDLE_TIMEOUT="600", COURSE_DEVICE="cpu")
    env.update(settings)
    # The hub closes the checkout's masters to attendees: put them back as they were afterwards.
    private = {REPO_ROOT / folder: os.stat(REPO_ROOT / folder) for folder in workshop.PRIVATE_FOLDERS
               if (REPO_ROOT / folder).is_dir()}
    log = open(tmp_path / "hub.log", "w")
    hub = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    room = Room(f"http://127.0.0.1:{port}")
    room.runtime = shared / "runtime"
    started = time.time()
    try:
        import requests
        while True:
            assert hub.poll() is None, f"the hub exited: {(tmp_path / 'hub.log').read_text()[-3000:]}"
            try:
                if requests.get(f"{room.base}/hub/api", timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.time() - started < 150, "the hub did not answer within 150 s"  # copying the interpreter
            time.sleep(0.5)
        yield room
    finally:
        if hub.poll() is None:
            hub.send_signal(signal.SIGTERM)  # the hub stops every server it started (cleanup_servers)
            try:
                hub.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(hub.pid, signal.SIGKILL)
                hub.wait()
        log.close()
        uids = {e.pw_uid for e in pwd.getpwall() if e.pw_name.startswith(prefix)}
        # A kernel notices that its stopped server is gone and exits by itself ("Parent appears to have exited")
        # within a few seconds: give that time before calling what is still running left behind.
        grace = time.time() + 15
        while (left := _processes_of(uids)) and time.time() < grace:
            time.sleep(0.5)
        left = {pid: _command_line(pid) for pid in left}
        for pid in left:  # stragglers of this test's own users only, by pid
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.5 if left else 0)
        removed = workshop.remove_system_users(prefix)
        shutil.rmtree(shared, ignore_errors=True)
        for folder, saved in private.items():
            os.chown(folder, -1, saved.st_gid)
            os.chmod(folder, stat.S_IMODE(saved.st_mode))
        print(f"hub: {time.time() - started:.0f} s; removed users {removed}")
    # Reached only when the test passed: then nothing may be left behind either.
    assert not left, f"the hub left processes of its users running: {left}"
    assert not any(e.pw_name.startswith(prefix) for e in pwd.getpwall())


@pytest.mark.slow
def test_workshop_room_hand_out_hand_in_and_grade(tmp_path):
    prefix = f"t{uuid.uuid4().hex[:6]}-"  # unique to this run: only these accounts are ever removed
    teacher, alice, bob = "teacher", "alice", "bob"
    # .venv's Python sits in a 0700 home (simulated, see _hub_command): the room must work all the same.
    with running_hub(tmp_path, prefix, private_python=True, COURSE_HUB_INSTRUCTOR=teacher) as room:
        # Everyone logs in and starts their server; the instructor's password makes them the admin.
        room.login(teacher, ADMIN_PASSWORD)
        room.login(alice, ROOM_PASSWORD)
        room.login(bob, ROOM_PASSWORD)
        with ThreadPoolExecutor(3) as pool:  # as a room does: everyone at once
            list(pool.map(lambda name: room.ok(name, "POST", f"/hub/api/users/{name}/server"), (teacher, alice, bob)))
        deadline = time.time() + 150
        for name in (teacher, alice, bob):
            room.wait_ready(name, deadline)
        assert room.ok(teacher, "GET", f"/hub/api/users/{teacher}").json()["admin"] is True
        assert room.ok(alice, "GET", f"/hub/api/users/{alice}").json()["admin"] is False
        # With the hub, its proxy, the culler and three servers running, no process shows a password.
        shown = [line for line in _command_lines() if ADMIN_PASSWORD in line or ROOM_PASSWORD in line]
        assert not shown, f"a password is on a command line: {shown[0][:200]}"
        # The idle culler runs as the hub's service, with the rights it needs to see who is idle.
        assert "idle-culler" in room.ok(teacher, "GET", "/hub/api/services").json()
        assert re.search(r" 200 GET /hub/api/users\?\S* \(idle-culler@", (tmp_path / "hub.log").read_text()), \
            "the idle culler could not list the hub's users"

        # Two faces: Formgrader for the instructor only; attendees have the Assignment List.
        formgrader = room.call(teacher, "GET", f"/user/{teacher}/formgrader")
        assert formgrader.status_code == 200
        # The instructor's lab may frame Formgrader (same origin only); attendees' servers keep JupyterHub's 'none'.
        assert formgrader.headers["Content-Security-Policy"] == "frame-ancestors 'self'", formgrader.headers
        assert "frame-ancestors 'none'" in room.ok(alice, "GET", f"/user/{alice}/lab").headers["Content-Security-Policy"]
        assert room.call(alice, "GET", f"/user/{alice}/formgrader").status_code == 404
        assert "@jupyter/nbgrader:formgrader" in _disabled_lab_plugins(room, alice)
        assert "@jupyter/nbgrader:assignment-list" not in _disabled_lab_plugins(room, alice)
        assert "@jupyter/nbgrader:formgrader" not in _disabled_lab_plugins(room, teacher)

        # Hand out: the instructor releases 00 through Formgrader; each attendee fetches it.
        released = room.ok(teacher, "POST", f"/user/{teacher}/formgrader/api/assignment/{ASSIGNMENT}/release").json()
        assert released["success"], released
        for name in (alice, bob):
            listing = room.ok(name, "POST", f"/user/{name}/assignments/fetch",
                              data={"assignment_id": ASSIGNMENT, "course_id": workshop.COURSE_ID}).json()
            assert any(a["assignment_id"] == ASSIGNMENT and a["status"] == "fetched" for a in listing["value"]), listing
        # In a real browser: alice logs in through the form and opens what she fetched.
        _browser_opens_the_fetched_notebook(room, alice, tmp_path / "chromium-profile")

        # Each answers through the contents API (alice right, bob forgets the +32) and hands in.
        _answer(room, alice, "def to_fahrenheit(celsius):\n    return celsius * 9 / 5 + 32\n")
        _answer(room, bob, "def to_fahrenheit(celsius):\n    return celsius * 9 / 5\n")
        for name in (alice, bob):
            listing = room.ok(name, "POST", f"/user/{name}/assignments/submit",
                              data={"assignment_id": ASSIGNMENT, "course_id": workshop.COURSE_ID}).json()
            assert listing.get("success", True) and any(a["status"] == "submitted" for a in listing["value"]), listing

        # One attendee cannot reach the other: not through the hub ...
        bobs_notebook = f"/user/{bob}/api/contents/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
        assert room.call(alice, "GET", bobs_notebook).status_code in (403, 404)
        assert room.call(alice, "PUT", bobs_notebook, json={"type": "file", "format": "text",
                                                             "content": "x"}).status_code in (403, 404)
        assert room.call(alice, "POST", f"/user/{bob}/api/kernels").status_code in (403, 404)
        # ... nor from alice's kernel, which runs as her own system user: bob's home and the masters are closed.
        bob_home = Path(pwd.getpwnam(prefix + bob).pw_dir)
        assert bob_home.stat().st_uid == pwd.getpwnam(prefix + bob).pw_uid and bob_home.stat().st_mode & 0o077 == 0
        probe = room.run_code(alice, (
            "import os, sys, getpass\nprint(getpass.getuser())\nprint(sys.prefix)\n"
            f"for attempt in (lambda: os.listdir({str(bob_home)!r}),\n"
            f"                lambda: open({str(bob_home / ASSIGNMENT / (ASSIGNMENT + '.ipynb'))!r}).read(),\n"
            f"                lambda: open({str(bob_home / 'planted.txt')!r}, 'w'),\n"
            f"                lambda: os.listdir({str(REPO_ROOT / 'solutions')!r})):\n"
            "    try:\n        attempt(); print('REACHED')\n    except PermissionError:\n        print('denied')\n"))
        # (her kernel runs the hub's copy of the interpreter: .venv's own is in a home she cannot enter)
        assert probe == {"stdout": f"{prefix}{alice}\n{room.runtime / 'venv'}\ndenied\ndenied\ndenied\ndenied\n",
                         "error": None}, probe

        # Hand in: the instructor collects through Formgrader and grades with the course's grader.
        collected = room.ok(teacher, "POST", f"/user/{teacher}/formgrader/api/assignment/{ASSIGNMENT}/collect").json()
        assert collected["success"], collected
        grading = Path(pwd.getpwnam(prefix + teacher).pw_dir) / "grading"
        for name in (alice, bob):
            assert (grading / "submitted" / name / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").is_file()
        graded = room.run_code(teacher, (
            "import subprocess\n"
            f"done = subprocess.run(['make', '-C', {str(REPO_ROOT)!r}, 'hub-grade', 'WORKERS=2'],\n"
            "                      capture_output=True, text=True)\n"
            "print(done.returncode); print(done.stdout[-3000:]); print(done.stderr[-3000:])"))
        assert graded["stdout"].startswith("0\n"), graded
        with open(grading / "grades.csv", newline="") as handle:
            rows = {row["student"]: row for row in csv.DictReader(handle)}
        assert set(rows) == {alice, bob}, rows
        column = f"{ASSIGNMENT}:test_fahrenheit"
        assert float(rows[alice][column]) == 2.0 and float(rows[bob][column]) == 0.0, rows
        assert float(rows[alice]["total"]) == float(rows[bob]["total"]) + 2.0, rows
        # Formgrader reads the same gradebook: both attendees' submissions are there, with their scores.
        submissions = room.ok(teacher, "GET", f"/user/{teacher}/formgrader/api/submissions/{ASSIGNMENT}").json()
        assert sorted(s["student"] for s in submissions) == [alice, bob], submissions
        assert {s["student"]: s["score"] for s in submissions}[alice] == float(rows[alice]["total"]), submissions

        # Feedback: the instructor releases it through Formgrader; each attendee fetches her own page from the
        # Assignment List, filed under the time she handed in.
        released = room.ok(teacher, "POST", f"/user/{teacher}/formgrader/api/assignment/{ASSIGNMENT}/release_feedback")
        assert released.json()["success"], released.text[:2000]
        for name in (alice, bob):
            room.ok(name, "POST", f"/user/{name}/assignments/fetch_feedback",
                    data={"assignment_id": ASSIGNMENT, "course_id": workshop.COURSE_ID})
            handed_in = (grading / "submitted" / name / ASSIGNMENT / "timestamp.txt").read_text().strip()
            home = Path(pwd.getpwnam(prefix + name).pw_dir)
            pages = sorted((home / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html"))
            assert [page.parent.name for page in pages] == [handed_in], pages
            # her own page (alice's and bob's scores differ), now hers
            assert f"{ASSIGNMENT} (Score: {float(rows[name]['total'])} /" in pages[0].read_text()
            assert pages[0].stat().st_uid == pwd.getpwnam(prefix + name).pw_uid

        # In a real browser: the instructor opens Formgrader inside her lab, as nbgrader's menu does.
        _browser_opens_formgrader_in_the_lab(room, teacher, tmp_path / "chromium-teacher")


@pytest.mark.slow
def test_pam_room_uses_the_machines_accounts(tmp_path):
    """HUB_AUTH=pam: the machine's accounts and passwords; the server runs as that very account."""
    if os.geteuid() != 0 or not shutil.which("chpasswd"):
        pytest.skip("needs root to create the accounts")
    prefix = f"p{uuid.uuid4().hex[:6]}-"
    teacher, carol = prefix + "teacher", prefix + "carol"
    try:
        for name in (teacher, carol):
            workshop.ensure_system_user(name, Path(tempfile.gettempdir()) / f"test_hub-homes-{prefix}")
            subprocess.run(["chpasswd"], input=f"{name}:{name}-Passw0rd\n", text=True, check=True)
        os.chmod(Path(tempfile.gettempdir()) / f"test_hub-homes-{prefix}", 0o755)
        with running_hub(tmp_path, prefix, COURSE_HUB_AUTH="pam", COURSE_HUB_INSTRUCTOR=teacher) as room:
            import requests
            session = requests.Session()
            session.get(f"{room.base}/hub/login").raise_for_status()
            wrong = session.post(f"{room.base}/hub/login", allow_redirects=False,
                                 data={"username": carol, "password": "not-her-password",
                                       "_xsrf": session.cookies["_xsrf"]})
            assert wrong.status_code != 302, "a wrong system password logged in"
            room.login(carol, f"{carol}-Passw0rd")
            room.ok(carol, "POST", f"/hub/api/users/{carol}/server")
            room.wait_ready(carol, time.time() + 120)
            assert room.run_code(carol, "import getpass; print(getpass.getuser())") == {"stdout": f"{carol}\n",
                                                                                       "error": None}
            assert room.call(carol, "GET", f"/user/{carol}/formgrader").status_code == 404
    finally:
        workshop.remove_system_users(prefix)
        shutil.rmtree(Path(tempfile.gettempdir()) / f"test_hub-homes-{prefix}", ignore_errors=True)
