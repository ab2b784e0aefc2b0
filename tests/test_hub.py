"""The nbgitpuller link for a JupyterHub (the end-to-end hub run is `make hub-test`, about 25 s once installed)."""
import subprocess
import sys
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import hub  # noqa: E402


def test_link_pulls_the_repository_and_opens_the_chapter():
    url = hub.link("https://hub.example.edu/", "https://github.com/cl-course/cl-course", "main", "02_metrics")
    base, query = url.split("?", 1)
    assert base == "https://hub.example.edu/hub/user-redirect/git-pull"
    assert urllib.parse.parse_qs(query) == {"repo": ["https://github.com/cl-course/cl-course"], "branch": ["main"],
                                            "urlpath": ["lab/tree/cl-course/notebooks/02_metrics.ipynb"]}
    # nbgitpuller clones into the repository's last path part, ".git" included
    assert "lab%2Ftree%2Fcourse.git%2Fnotebooks" in hub.link("https://h", "file:///srv/course.git")


def test_make_hub_link_needs_a_hub_address():
    p = subprocess.run([sys.executable, str(ROOT / "tools" / "hub.py"), "link", "hub.example.edu"],
                       capture_output=True, text=True)
    assert p.returncode == 2 and "http(s) address" in p.stderr and not p.stdout


def test_proxy_path_is_made_absolute(tmp_path, monkeypatch):
    # `make hub-test` passes .venv/node_modules/.bin/configurable-http-proxy, but the hub runs in a folder of its
    # own: a relative path there is "No such file" and the hub never starts.
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "configurable-http-proxy").write_text("")
    monkeypatch.chdir(tmp_path)
    assert hub._proxy("bin/configurable-http-proxy") == str(tmp_path / "bin" / "configurable-http-proxy")
