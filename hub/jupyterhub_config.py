# JupyterHub for a workshop room. `sudo make hub ...` runs `jupyterhub -f hub/jupyterhub_config.py`; what the host
# chooses comes in as COURSE_HUB_* variables (hub/workshop.py reads and checks them; README "For workshop hosts").
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from workshop import HUB_DIR, USERNAME_PATTERN, HubSetupError, prepare_host, settings  # noqa: E402

c = get_config()  # noqa: F821 (provided by traitlets when JupyterHub loads this file)
try:
    s = settings()
    prepare_host(s)
except HubSetupError as error:
    sys.exit(f"error: {error}")  # one paragraph saying what to do, not a traceback

c.JupyterHub.ip = s.ip
c.JupyterHub.port = s.port
c.JupyterHub.hub_ip = "127.0.0.1"  # only the proxy and the servers on this machine talk to the hub itself
c.JupyterHub.hub_port = s.hub_port
c.JupyterHub.db_url = f"sqlite:///{s.state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(s.state / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(s.state / "jupyterhub.pid")
c.ConfigurableHTTPProxy.command = [str(HUB_DIR / "node_modules" / ".bin" / "configurable-http-proxy")]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{s.proxy_api_port}"
c.ConfigurableHTTPProxy.pid_file = str(s.state / "proxy.pid")
c.JupyterHub.cleanup_servers = True  # stopping the hub stops every attendee's server

# Who may log in.
c.Authenticator.admin_users = {s.instructor}
c.Authenticator.username_pattern = USERNAME_PATTERN
if s.auth == "shared":
    # One password for the room; each attendee types a name of their choosing, which becomes their account.
    c.JupyterHub.authenticator_class = "shared-password"
    c.SharedPasswordAuthenticator.user_password = s.password
    c.SharedPasswordAuthenticator.admin_password = s.admin_password
    c.Authenticator.allow_all = True
else:
    # The machine's accounts and passwords; anyone with an account may join.
    c.JupyterHub.authenticator_class = "pam"
    c.Authenticator.allow_all = True
    c.Authenticator.delete_invalid_users = True

# Each user's own server, as their own system user (hub/workshop.py says why).
c.JupyterHub.spawner_class = "workshop.WorkshopSpawner"
c.Spawner.cmd = [str(s.user_bin / "jupyterhub-singleuser")]  # .venv's, or its copy (prepare_host)
c.Spawner.default_url = "/lab"  # the notebooks arrive with Assignment List's Fetch, not before
c.Spawner.start_timeout = 120  # a loaded 2-core machine starting several JupyterLabs at once
c.Spawner.http_timeout = 120
c.Spawner.env_keep = ["LANG", "LC_ALL", "COURSE_DEVICE", "COURSE_DATA", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                      "CUDA_VISIBLE_DEVICES"]
c.Spawner.environment = {"COURSE_DEVICE": os.environ.get("COURSE_DEVICE", "auto")}
c.JupyterHub.active_server_limit = s.max_servers
c.JupyterHub.concurrent_spawn_limit = 20

# Idle servers are stopped (their files stay) by JupyterHub's own culler, run by the hub as a service.
c.JupyterHub.services = [{
    "name": "idle-culler",
    "command": [sys.executable, "-m", "jupyterhub_idle_culler", f"--timeout={s.idle_timeout}"],
}]
c.JupyterHub.load_roles = [{
    "name": "idle-culler",
    "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
    "services": ["idle-culler"],
}]
