"""JupyterHub for a whole class: the nbgitpuller link for a hub, and an end-to-end check of that path on this machine.

    python tools/hub.py link https://hub.example.edu [--chapter 01_forgetting] [--repo URL] [--branch main]
    python tools/hub.py e2e [--chapter 02_metrics] [--proxy PATH/configurable-http-proxy]

`link` prints the link to hand to students: opening it logs them into the hub, starts their server, pulls
the course into ~/cl-course with nbgitpuller (their own edits are kept on later pulls) and opens the chapter.
`e2e` runs the whole path locally: a JupyterHub on 127.0.0.1 (dummy authenticator, local process spawner),
the course as a bare clone of this checkout's committed HEAD, a user whose server pulls it through the
nbgitpuller link, and every code cell of one chapter run in that user's kernel in fast mode. It needs
`configurable-http-proxy` (npm) and the `hub` extra; it prints each phase's seconds and exits 1 on failure.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPO = "https://github.com/" + os.environ.get("CL_COURSE_REPO", "cl-course/cl-course")
USER = "student"


def link(hub: str, repo: str = REPO, branch: str = "main", chapter: str | None = None) -> str:
    """The nbgitpuller link that pulls `repo` into each user's home on `hub` and opens a chapter in JupyterLab."""
    folder = urllib.parse.urlparse(repo).path.rstrip("/").split("/")[-1]  # nbgitpuller clones into this folder
    urlpath = f"lab/tree/{folder}/notebooks" + (f"/{chapter}.ipynb" if chapter else "")
    query = urllib.parse.urlencode({"repo": repo, "urlpath": urlpath, "branch": branch})
    return f"{hub.rstrip('/')}/hub/user-redirect/git-pull?{query}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _proxy(path: str | None) -> str:
    for candidate in (path, os.environ.get("CHP"), shutil.which("configurable-http-proxy"),
                      str(Path(sys.prefix) / "node_modules" / ".bin" / "configurable-http-proxy")):
        if candidate and Path(candidate).exists():
            return str(Path(candidate).resolve())  # the hub runs in its own folder: a relative path breaks there
    raise SystemExit("configurable-http-proxy not found: npm install --prefix .venv configurable-http-proxy "
                     "(make hub-test does it), or pass --proxy")


def _config(work: Path, port: int, token: str, proxy: str) -> Path:
    bin_dir = Path(sys.executable).parent
    env = {"CL_FAST": "1", "TQDM_DISABLE": "1", "MPLBACKEND": "Agg",
           # the course's package as pulled, as a hub image with the course installed would have it
           "PYTHONPATH": str(work / "home" / USER / "cl-course")}
    if os.environ.get("CL_HELPERS_DATA"):
        env["CL_HELPERS_DATA"] = os.environ["CL_HELPERS_DATA"]
    config = f"""
c.JupyterHub.bind_url = "http://127.0.0.1:{port}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {_free_port()}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{_free_port()}"
c.ConfigurableHTTPProxy.command = [{proxy!r}]
c.ConfigurableHTTPProxy.pid_file = {str(work / "proxy.pid")!r}
c.JupyterHub.db_url = "sqlite:///{work / 'hub.sqlite'}"
c.JupyterHub.cookie_secret_file = {str(work / "cookie_secret")!r}
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allow_all = True
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = {str(work / "home" / "{username}")!r}
c.Spawner.cmd = [{str(bin_dir / "jupyterhub-singleuser")!r}]
c.Spawner.args = {["--allow-root"] if os.geteuid() == 0 else []!r}
c.Spawner.environment = {env!r}
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180
c.JupyterHub.services = [{{"name": "e2e", "api_token": {token!r}}}]
c.JupyterHub.load_roles = [{{"name": "e2e", "services": ["e2e"],
                             "scopes": ["admin:users", "admin:servers", "tokens", "access:servers"]}}]
"""
    path = work / "jupyterhub_config.py"
    path.write_text(config, encoding="utf-8")
    return path


def _api(url: str, token: str, method: str = "GET", body: dict | None = None, timeout: float = 30):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        text = resp.read().decode()
        return json.loads(text) if text.strip().startswith(("{", "[")) else text


def _open_as_student(base: str, url: str) -> str:
    """Log in through the hub's login form (any password: dummy authenticator) and open `url`; the page's HTML."""
    import http.cookiejar

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with opener.open(f"{base}/hub/login", timeout=60) as resp:
        xsrf = resp.read().decode().split('name="_xsrf" value="', 1)[1].split('"', 1)[0]
    form = urllib.parse.urlencode({"username": USER, "password": "any", "_xsrf": xsrf}).encode()
    opener.open(urllib.request.Request(f"{base}/hub/login", data=form), timeout=60).close()
    with opener.open(url, timeout=120) as resp:
        return resp.read().decode()


def _wait(what: str, check, timeout: float) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if check():
                return
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{what}: not ready after {timeout:.0f} s")


def _execute(ws, code: str, timeout: float) -> str:
    """Run code in a kernel over its websocket (Jupyter's JSON protocol); the printed text, or raise on error."""
    msg_id = uuid.uuid4().hex
    ws.send(json.dumps({"header": {"msg_id": msg_id, "msg_type": "execute_request", "username": USER,
                                   "session": uuid.uuid4().hex, "date": "", "version": "5.3"},
                        "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
                        "content": {"code": code, "silent": False, "store_history": True,
                                    "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}}))
    out, end = [], time.monotonic() + timeout
    while time.monotonic() < end:
        ws.settimeout(max(1.0, end - time.monotonic()))
        msg = json.loads(ws.recv())
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            out.append(content["text"])
        elif kind == "error":
            raise RuntimeError(f"{content['ename']}: {content['evalue']}")
        elif kind == "execute_reply":
            return "".join(out)
    raise TimeoutError(f"cell still running after {timeout:.0f} s: {code[:80]!r}")


def e2e(chapter: str = "02_metrics", proxy: str | None = None, keep: bool = False) -> dict[str, float]:
    """Hub up, user's server up, course pulled through the link, chapter run: seconds per phase."""
    import nbformat
    import websocket

    times, t0 = {}, time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="cl-hub-"))
    (work / "home" / USER).mkdir(parents=True)
    branch = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--abbrev-ref", "HEAD"], check=True,
                            capture_output=True, text=True).stdout.strip()
    subprocess.run(["git", "clone", "-q", "--bare", str(ROOT), str(work / "remote" / "cl-course")], check=True)
    port, token = _free_port(), secrets.token_hex(16)
    base = f"http://127.0.0.1:{port}"
    log = (work / "hub.log").open("w")
    hub = subprocess.Popen([str(Path(sys.executable).parent / "jupyterhub"), "-f",
                            str(_config(work, port, token, _proxy(proxy)))],
                           cwd=work, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait("the hub", lambda: _api(f"{base}/hub/api/", token), 90)
        times["hub started"] = time.monotonic() - t0
        _api(f"{base}/hub/api/users/{USER}", token, "POST", {})
        user_token = _api(f"{base}/hub/api/users/{USER}/tokens", token, "POST", {"note": "e2e"})["token"]
        # What a student does: open the link. The hub starts their server and hands over to nbgitpuller.
        url = link(base, f"file://{work / 'remote' / 'cl-course'}", branch, chapter)
        _api(f"{base}/hub/api/users/{USER}/server", token, "POST", {})
        _wait("the user's server",
              lambda: _api(f"{base}/hub/api/users/{USER}", token)["servers"].get("", {}).get("ready"), 180)
        times["server started"] = time.monotonic() - t0
        page = _open_as_student(base, url)
        if "nbgitpuller" not in page.lower():
            raise RuntimeError(f"the link did not reach nbgitpuller: {page[:300]}")
        query = urllib.parse.urlparse(url).query
        stream = _api(f"{base}/user/{USER}/git-pull/api?{query}", user_token, timeout=300)
        events = [json.loads(line[5:]) for line in stream.splitlines() if line.startswith("data:")]
        if not events or events[-1].get("phase") != "finished":
            raise RuntimeError(f"nbgitpuller did not finish: {events[-3:]}")
        notebook = work / "home" / USER / "cl-course" / "notebooks" / f"{chapter}.ipynb"
        if not notebook.exists():
            raise RuntimeError(f"{notebook} was not pulled")
        times["course pulled"] = time.monotonic() - t0
        kernel = _api(f"{base}/user/{USER}/api/kernels", user_token, "POST", {"name": "python3"})
        ws = websocket.create_connection(
            f"ws://127.0.0.1:{port}/user/{USER}/api/kernels/{kernel['id']}/channels",
            header=[f"Authorization: token {user_token}"], timeout=60)
        try:
            _execute(ws, f"import os; os.chdir({str(notebook.parent)!r})", 120)
            cells = [c.source for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code"]
            for source in cells:
                _execute(ws, source, 600)
            where = _execute(ws, "import cl_helpers; print(cl_helpers.__file__)", 60)
        finally:
            ws.close()
        if not where.strip().startswith(str(work / "home" / USER / "cl-course")):
            raise RuntimeError(f"the kernel used cl_helpers from {where.strip()}, not the pulled course")
        times[f"{chapter}: {len(cells)} code cells ran"] = time.monotonic() - t0
        return times
    except Exception:
        log.flush()
        print((work / "hub.log").read_text(errors="replace")[-4000:], file=sys.stderr)
        raise
    finally:
        try:
            os.killpg(hub.pid, signal.SIGTERM)  # the hub stops its proxy and the user's server
            hub.wait(30)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            os.killpg(hub.pid, signal.SIGKILL)
        log.close()
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("link", help="print the nbgitpuller link for a hub")
    p.add_argument("hub", help="the hub's address, e.g. https://hub.example.edu")
    p.add_argument("--repo", default=REPO)
    p.add_argument("--branch", default="main")
    p.add_argument("--chapter", default=None, help="open this chapter, e.g. 01_forgetting (default: the folder)")
    p = sub.add_parser("e2e", help="a local hub, a user pulling the course, one chapter run in fast mode")
    p.add_argument("--chapter", default="02_metrics")
    p.add_argument("--proxy", default=None, help="path of configurable-http-proxy")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, home)")
    args = parser.parse_args(argv)
    if args.command == "link":
        if not urllib.parse.urlparse(args.hub).scheme.startswith("http"):
            print(f"hub-link: HUB must be the hub's http(s) address, got {args.hub!r}", file=sys.stderr)
            return 2
        print(link(args.hub, args.repo, args.branch, args.chapter))
        return 0
    for phase, seconds in e2e(args.chapter, args.proxy, args.keep).items():
        print(f"{seconds:7.1f} s  {phase}")
    print("hub end-to-end: passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
