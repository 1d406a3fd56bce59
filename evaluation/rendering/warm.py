"""A warm render process: the reports of a run share one process that has imported the renderer once.

A render pays about 0.7 s for importing pandas, matplotlib, IPython and
jupytext before it executes a cell. With ``python -m evaluation render --warm``
the first render of a run starts a server in the background; every render
connects to the server, which has imported those once and forks one child per
report. The child runs the same command line (the CLI's ``main``, which
starts the server as ``python -m evaluation render-server``) in
the client's working directory and environment, with the client's standard
output and error, so that its log, outputs, messages and exit status are those
of an ordinary render. Snakemake still sees one job and one set of outputs per
report.

The server listens on a Unix socket in a folder only its user can enter. The
socket's name holds a key of the Python executable and of the size and
modification time of every file of the package, so a server never renders
with code older than the client's. It exits after :data:`IDLE_SECONDS` without
a request. Whenever the server cannot be reached, or a child ends without an
answer, the client renders in its own process: ``--warm`` changes the time a
render takes, never its result.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import importlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

IDLE_SECONDS = 20.0  # the server exits after this long without a request
START_SECONDS = 3.0  # a render that started the server waits this long for it to accept, then renders itself
REQUEST_SECONDS = 10.0  # a child that has not received its whole request by then exits
REPLY_SECONDS = 600.0  # a client that has no answer by then renders in its own process
PACKAGE = Path(__file__).resolve().parent.parent
# imported by the server before it forks, so that no child pays for them; none changes global state on import
# (the report helpers, which set matplotlib's rcParams, are imported by each report as in a process of its own)
WARM_MODULES = ("evaluation.stages.render", "pandas", "IPython.display", "matplotlib.pyplot")


def socket_path() -> Path:
    """The server's socket for this Python executable and this version of the package's files."""
    digest = hashlib.sha256(sys.executable.encode())
    for path in sorted(PACKAGE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            info = path.stat()
            digest.update(f"{path.relative_to(PACKAGE)}:{info.st_size}:{info.st_mtime_ns};".encode())
    folder = Path(tempfile.gettempdir()) / f"lokaldemokrati-render-{os.getuid()}"
    return folder / f"{digest.hexdigest()[:16]}.sock"


def render_warm(argv: list[str]) -> int | None:
    """Run the render command ``argv`` in the warm server; ``None`` when the caller must render itself.

    Starts the server when none is listening and waits up to :data:`START_SECONDS` for it to accept.
    """
    path = socket_path()
    if not _private(path.parent):
        return None
    client = _connect(path)
    if client is None:
        _start_server(path)
        deadline = time.monotonic() + START_SECONDS
        while client is None and time.monotonic() < deadline:
            time.sleep(0.02)
            client = _connect(path)
    if client is None:
        return None
    with client:
        client.settimeout(REPLY_SECONDS)  # a child that hangs costs this long, not the run
        request = json.dumps({"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ)}).encode()
        try:
            socket.send_fds(client, [len(request).to_bytes(8, "big") + request], [1, 2])
            reply = b"".join(iter(lambda: client.recv(4096), b""))
        except OSError:
            return None
    return int(reply) if reply.strip().isdigit() else None


def _private(folder: Path) -> bool:
    """Whether ``folder`` is (made) a folder of this user that no one else can enter."""
    with contextlib.suppress(FileExistsError):
        folder.mkdir(mode=0o700)
    info = folder.lstat()
    return folder.is_dir() and not folder.is_symlink() and info.st_uid == os.getuid() and not info.st_mode & 0o077


def _connect(path: Path) -> socket.socket | None:
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        client.connect(str(path))
    except OSError:
        client.close()
        return None
    return client


def _start_server(path: Path) -> None:
    """Start a server on ``path``, detached from this process (it outlives the render that started it)."""
    subprocess.Popen(
        [sys.executable, "-m", "evaluation", "render-server", str(path)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        cwd=PACKAGE.parent,
    )


def serve(path: Path, run: Callable[[list[str]], int]) -> None:
    """Listen on ``path``, import the renderer, then fork one child per request until idle for :data:`IDLE_SECONDS`.

    Each child calls ``run`` (the CLI's ``main``) with the request's command line and exits with its status.

    The socket is bound before the imports, so that of two servers started at once one serves and the other
    exits at once, and requests made during the imports wait in the queue.
    """
    server = _bind(path)
    if server is None:
        return
    try:
        server.listen(16)
        for module in WARM_MODULES:
            importlib.import_module(module)
        gc.freeze()  # the imported objects stay shared with the children instead of being copied on collection
        server.settimeout(IDLE_SECONDS)
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # finished children are reaped by the kernel
        while True:
            try:
                connection, _ = server.accept()
            except TimeoutError:
                return
            if os.fork() == 0:
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the render waits for pandoc and Typst
                server.close()
                _serve_one(connection, run)
            connection.close()
    finally:
        server.close()
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _bind(path: Path) -> socket.socket | None:
    """A socket bound to ``path`` (readable by this user only); ``None`` when another server listens there.

    A socket file left by a server that died is removed.
    """
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(0o177)
    try:
        for _ in range(2):
            try:
                server.bind(str(path))
                return server
            except OSError:
                live = _connect(path)
                if live is not None:
                    live.close()
                    break
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
    finally:
        os.umask(old_umask)
    server.close()
    return None


def _serve_one(connection: socket.socket, run: Callable[[list[str]], int]) -> None:
    """In a forked child: run the request's command line with the client's streams, answer its exit status."""
    status = 1
    try:
        connection.settimeout(REQUEST_SECONDS)
        data, fds, _, _ = socket.recv_fds(connection, 4096, 2)
        while len(data) < 8 or len(data) < 8 + int.from_bytes(data[:8], "big"):
            more = connection.recv(4096)
            if not more:  # a probe of a server starting at the same time (_bind), or a client that went away
                return
            data += more
        request = json.loads(data[8:])
        connection.settimeout(None)  # the render takes as long as it takes (its own time limit applies)
        for fd, target in zip(fds, (1, 2), strict=True):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        status = run(request["argv"])
    except SystemExit as exc:  # argparse errors
        status = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - the client's stderr gets the traceback, as in its own process
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(OSError):
            sys.stdout.flush()
            sys.stderr.flush()
            connection.sendall(str(status).encode())
        os._exit(status)
