"""An IPython shell in this process whose outputs are recorded as notebook outputs, as a Jupyter kernel sends them.

:class:`ReportShell` runs a report's cells with IPython's semantics (the
last expression is shown, ``display()`` works, magics, top-level ``await``)
and collects, per cell, the same nbformat outputs an executed notebook has:
``stream`` (``stdout``/``stderr``, consecutive writes merged),
``display_data`` and ``execute_result``. Matplotlib draws with the inline
backend of ``matplotlib-inline``, as in a kernel: figures left open at the end
of a cell, or passed to ``plt.show()``, become PNG ``display_data`` outputs.

:func:`report_shell` creates the shell and undoes, when the block ends, what
running code in the process changed: the working directory, ``sys.path``,
``sys.stdout``/``sys.stderr``, ``sys.modules["__main__"]``, builtins,
warning filters and how warnings are shown (in a cell: on its ``stderr``),
``MPLBACKEND`` and which IPython shell is the current one.
Matplotlib, once imported, stays on the inline backend.
"""

from __future__ import annotations

import base64
import builtins
import contextlib
import io
import os
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
from IPython.core.displayhook import DisplayHook
from IPython.core.displaypub import DisplayPublisher
from IPython.core.interactiveshell import InteractiveShell
from traitlets import Type
from traitlets.config import Config, SingletonConfigurable

#: What ipykernel sets ``MPLBACKEND`` to (unless it is set already).
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"

_CONFIG = {"HistoryManager": {"enabled": False}, "InteractiveShell": {"colors": "nocolor"}}


class _OutputStream(io.TextIOBase):
    """``sys.stdout`` or ``sys.stderr`` while a cell runs: text becomes ``stream`` outputs of the cell."""

    def __init__(self, shell: ReportShell, name: str) -> None:
        super().__init__()
        self.shell = shell
        self.name = name

    @property
    def encoding(self) -> str:
        """The text encoding (what code that checks ``sys.stdout.encoding`` sees)."""
        return "utf-8"

    def writable(self) -> bool:
        """Always writable."""
        return True

    def write(self, text: str) -> int:
        """Append ``text`` to the cell's last output if that is this stream, else start a new one."""
        if not text:
            return 0
        outputs = self.shell.outputs
        if outputs and outputs[-1].output_type == "stream" and outputs[-1].name == self.name:
            outputs[-1].text += text
        else:
            outputs.append(nbformat.v4.new_output("stream", name=self.name, text=text))
        return len(text)


class _RecordingPublisher(DisplayPublisher):
    """Turns ``display()`` calls into ``display_data`` outputs of the running cell."""

    def publish(self, data: dict[str, Any], metadata: dict[str, Any] | None = None, *args: Any, **kwargs: Any) -> None:
        """Record one display (``transient`` and ``update`` have no meaning in a static report)."""
        output = nbformat.v4.new_output("display_data", data=_json_data(data), metadata=metadata or {})
        self.shell.outputs.append(output)

    def clear_output(self, wait: bool = False) -> None:
        """Drop the outputs of the running cell, as a notebook does."""
        self.shell.outputs.clear()


class _RecordingDisplayHook(DisplayHook):
    """Turns the value of a cell's last expression into an ``execute_result`` output (no ``Out[n]`` prompt)."""

    def start_displayhook(self) -> None:
        """Nothing to prepare."""

    def write_output_prompt(self) -> None:
        """No prompt."""

    def write_format_data(self, format_dict: dict[str, Any], md_dict: dict[str, Any] | None = None) -> None:
        """Record the result in every format IPython computed."""
        output = nbformat.v4.new_output(
            "execute_result", data=_json_data(format_dict), metadata=md_dict or {}, execution_count=self.prompt_count
        )
        self.shell.outputs.append(output)

    def finish_displayhook(self) -> None:
        """Nothing to print."""


class ReportShell(InteractiveShell):
    """IPython shell that records each cell's outputs in :attr:`outputs` and its traceback in :attr:`traceback`.

    Create it with :func:`report_shell`, which also makes it the current shell.
    """

    display_pub_class = Type(_RecordingPublisher)
    displayhook_class = Type(_RecordingDisplayHook)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.outputs: list[nbformat.NotebookNode] = []
        self.traceback: str | None = None

    def enable_gui(self, gui: str | None = None) -> None:
        """No GUI event loop: figures are inline."""

    def start_cell(self) -> None:
        """Start collecting the outputs and traceback of a new cell."""
        self.outputs = []
        self.traceback = None

    def _showtraceback(self, etype: type, evalue: BaseException, stb: list[str]) -> None:
        """Keep the traceback IPython formatted (user frames only) instead of printing it."""
        self.traceback = self.InteractiveTB.stb2text(stb)


@contextlib.contextmanager
def report_shell(cwd: Path) -> Iterator[ReportShell]:
    """Create a :class:`ReportShell` working in ``cwd``; restore the process state afterwards.

    While the block runs, the shell is the current IPython shell (what
    ``display()`` and ``get_ipython()`` use), ``cwd`` is the working directory
    and first on ``sys.path`` (as the folder of a kernel started there), and
    ``sys.stdout``/``sys.stderr`` (and so warnings) write to the running cell's outputs.

    Parameters
    ----------
    cwd : Path
        Working directory of the code.

    Yields
    ------
    ReportShell
        The shell; call :meth:`ReportShell.start_cell` before each cell.
    """
    saved_cwd, saved_path, saved_builtins = os.getcwd(), list(sys.path), dict(vars(builtins))
    saved_streams, saved_main = (sys.stdout, sys.stderr), sys.modules.get("__main__")
    saved_backend = os.environ.get("MPLBACKEND")
    singletons = [klass for klass in ReportShell.mro() if _is_singleton(klass)]
    saved_instances = {klass: klass.__dict__.get("_instance") for klass in singletons}
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _print_warning
            shell = ReportShell(config=Config(_CONFIG))
            for klass in singletons:
                klass._instance = shell
            _use_inline_figures(shell)
            os.chdir(cwd)
            sys.path.insert(0, str(Path(cwd).resolve()))
            sys.stdout, sys.stderr = _OutputStream(shell, "stdout"), _OutputStream(shell, "stderr")
            yield shell
    finally:
        sys.stdout, sys.stderr = saved_streams
        os.chdir(saved_cwd)
        sys.path[:] = saved_path
        if saved_main is not None:
            sys.modules["__main__"] = saved_main
        for name in set(vars(builtins)) - set(saved_builtins):
            delattr(builtins, name)
        vars(builtins).update(saved_builtins)
        _set_environment("MPLBACKEND", saved_backend)
        for klass, instance in saved_instances.items():
            klass._instance = instance


def _use_inline_figures(shell: ReportShell) -> None:
    """Draw matplotlib figures with the inline backend, shown in ``shell``.

    If matplotlib is not imported yet, ``MPLBACKEND`` chooses the backend, as
    ipykernel does, and ``matplotlib-inline`` registers with the current shell
    when the report draws its first figure (importing matplotlib only when a
    report uses it). Otherwise the backend is switched now.
    """
    if "matplotlib" not in sys.modules:
        os.environ.setdefault("MPLBACKEND", INLINE_BACKEND)
        return
    from IPython.core.pylabtools import select_figure_formats
    from matplotlib_inline.config import InlineBackend

    shell.enable_matplotlib("inline")
    settings = InlineBackend.instance()
    # matplotlib-inline selects the figure formats only for the first shell of a process
    select_figure_formats(shell, settings.figure_formats, **settings.print_figure_kwargs)


def _print_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: object = None,
    line: str | None = None,
) -> None:
    """Write a warning to ``sys.stderr`` (the cell's ``stderr`` output), even where the caller records or logs them."""
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def _is_singleton(klass: type) -> bool:
    """Whether ``klass`` keeps its own current instance (as traitlets' ``instance()`` sets it)."""
    return issubclass(klass, SingletonConfigurable) and klass is not SingletonConfigurable


def _set_environment(name: str, value: str | None) -> None:
    """Set or (for ``None``) remove an environment variable."""
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def _json_data(data: dict[str, Any]) -> dict[str, Any]:
    """MIME bundle as a notebook stores it: binary images base64-encoded, text as ``str``."""
    stored = {}
    for mime, value in data.items():
        if isinstance(value, bytes):
            text_like = mime.startswith("text/") or mime.endswith(("+xml", "json"))
            value = value.decode("utf-8") if text_like else base64.b64encode(value).decode("ascii")
        stored[mime] = value
    return stored
