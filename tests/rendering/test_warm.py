"""The warm render process: same outputs, messages and exit status as a render in the caller's own process."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest
from shared import TESTS

from evaluation.cli import main
from evaluation.rendering import warm

FIXTURE = TESTS / "fixtures" / "reports" / "mini.qmd"


@pytest.fixture
def server_socket(monkeypatch: pytest.MonkeyPatch):
    """A socket path of this test's own (short: Unix socket paths are limited to about 100 bytes); its server is
    stopped afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="ld-warm-"))
    path = folder / "render.sock"
    monkeypatch.setattr(warm, "socket_path", lambda: path)
    yield path
    for process in _servers(path):
        process.kill()
    shutil.rmtree(folder, ignore_errors=True)


def _servers(path: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        if str(path) in (process.info["cmdline"] or []):
            found.append(process)
    return found


def _running_children(server: psutil.Process) -> list[psutil.Process]:
    """The server's children that have not exited (one that exits while listed does not count)."""
    running = []
    for child in server.children():
        try:
            if child.status() not in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD):
                running.append(child)
        except psutil.NoSuchProcess:
            continue
    return running


def _wait_for_no_children(server: psutil.Process, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while _running_children(server) and time.monotonic() < deadline:
        time.sleep(0.05)


def _argv(source: Path, html: Path) -> list[str]:
    return ["render", str(source), "--param", 'municipality="Bærum"', "--html", str(html), "--engine", "builtin"]


def test_warm_render_writes_what_an_ordinary_render_writes(tmp_path: Path, server_socket: Path) -> None:
    ordinary, warmed = tmp_path / "ordinary.html", tmp_path / "warm.html"
    # in a fresh process: this one's matplotlib settings may have been changed by other tests
    subprocess.run([sys.executable, "-m", "evaluation", *_argv(FIXTURE, ordinary)], check=True, capture_output=True)
    assert warm.render_warm(_argv(FIXTURE, warmed)) == 0  # served: a fallback would return None
    assert warmed.read_bytes() == ordinary.read_bytes()
    again = tmp_path / "again.html"
    assert main([*_argv(FIXTURE, again), "--warm"]) == 0  # through the CLI, by the server already running
    assert again.read_bytes() == ordinary.read_bytes()
    assert len(_servers(server_socket)) == 1


def test_warm_render_fails_with_the_message_and_status_of_an_ordinary_render(
    tmp_path: Path, server_socket: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.qmd"
    broken.write_text("```{python}\nratio = 1 / 0\n```\n", encoding="utf-8")
    assert warm.render_warm(_argv(broken, tmp_path / "broken.html")) == 1
    error = capfd.readouterr().err
    assert "error: render:" in error and "ZeroDivisionError" in error and str(broken) in error
    assert not (tmp_path / "broken.html").exists()


def test_a_connection_without_a_request_leaves_no_process_behind(server_socket: Path) -> None:
    server = subprocess.Popen([sys.executable, "-m", "evaluation", "render-server", str(server_socket)])
    try:
        deadline = time.monotonic() + 30
        while warm._connect(server_socket) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        # that connection (a probe, as a second server starting at the same time makes) and this one send nothing
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        probe.connect(str(server_socket))
        probe.close()
        process = psutil.Process(server.pid)
        deadline = time.monotonic() + 30  # the server imports the renderer first, then accepts the probe
        idle = False
        while not idle and time.monotonic() < deadline:
            idle = process.cpu_percent(interval=0.5) < 50 and not _running_children(process)
        assert idle, (process.cpu_percent(interval=0.5), _running_children(process))  # not spinning, no child left
    finally:
        server.kill()
        server.wait()


def test_a_folder_others_can_enter_is_not_used(tmp_path: Path, server_socket: Path) -> None:
    os.chmod(server_socket.parent, 0o755)
    assert warm.render_warm(_argv(FIXTURE, tmp_path / "refused.html")) is None
    assert _servers(server_socket) == []
    html = tmp_path / "own.html"
    assert main([*_argv(FIXTURE, html), "--warm"]) == 0  # the CLI then renders in its own process
    assert html.exists()


def test_the_socket_name_changes_when_a_file_of_the_package_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = tmp_path / "module.py"
    module.write_text("x = 1\n", encoding="utf-8")
    monkeypatch.setattr(warm, "PACKAGE", tmp_path)
    before = warm.socket_path()
    os.utime(module, ns=(0, module.stat().st_mtime_ns + 1_000_000))
    assert warm.socket_path() != before
    assert warm.socket_path().parent == before.parent
