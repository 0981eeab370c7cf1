"""JupyterHub configuration of `make hub` (read by ``jupyterhub -f``; see classroom/README.md).

Everything specific to one hub comes from the settings file that ``python -m classroom up``
writes (``$MLCOURSE_HUB_SETTINGS``): ports, folders, the class list, limits, the edition.
"""
import json
import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821 — provided by JupyterHub when it reads this file
s = json.loads(Path(os.environ["MLCOURSE_HUB_SETTINGS"]).read_text())
sys.path.insert(0, s["repo"])  # the spawner lives in classroom/
from classroom.edition import pull_path  # noqa: E402
private = Path(s["private"])

# --- where: loopback only -----------------------------------------------------------------
c.JupyterHub.bind_url = f"http://127.0.0.1:{s['port']}"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{s['hub_port']}"
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{s['proxy_api_port']}"
c.ConfigurableHTTPProxy.command = [s["proxy"]]
c.ConfigurableHTTPProxy.pid_file = str(private / "proxy.pid")
c.ConfigurableHTTPProxy.auth_token = s["proxy_token"]
c.JupyterHub.pid_file = str(private / "jupyterhub.pid")
c.JupyterHub.db_url = f"sqlite:///{private / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(private / "jupyterhub_cookie_secret")
c.JupyterHub.cleanup_servers = True   # stopping the hub stops every student's server
c.JupyterHub.cleanup_proxy = True

# --- who: the roster's local accounts, passwords checked by PAM -------------------------
c.JupyterHub.authenticator_class = "pam"
c.Authenticator.allowed_users = set(s["students"])
c.Authenticator.admin_users = set()
c.PAMAuthenticator.open_sessions = False  # no systemd-logind here; the spawner sets uid/gid itself

# --- each student's server: their uid, their home, limits, the edition pulled on start --
c.JupyterHub.spawner_class = "classroom.spawner.LimitedSpawner"
c.Spawner.cmd = [s["singleuser"]]
c.Spawner.ip = "127.0.0.1"
c.Spawner.mem_limit = s["mem_limit"]
c.Spawner.cpu_limit = s["cpu_limit"]
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.Spawner.environment = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
c.Spawner.args = ["--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                  *s.get("server_args", [])]
# Every start goes through the nbgitpuller link: the edition arrives on first login and
# each later start merges the newest release (the student's changes win every conflict).
c.Spawner.default_url = "/" + pull_path(s["edition_url"], s["edition_dir"], s["branch"])
