"""Tests of report rendering: the built-in engine end to end, and the Quarto command (faked)."""

from __future__ import annotations

import base64
import builtins
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from shared import TESTS

from evaluation.cli import main, parse_param
from evaluation.errors import RenderError
from evaluation.rendering.document import EXECUTE_DEFAULTS, Document, load_yaml, read_document, split_options
from evaluation.rendering.engine import render_report, resolve_engine
from evaluation.rendering.execute import execute_notebook
from evaluation.rendering.markdown import fenced, notebook_to_markdown

FIXTURE = TESTS / "fixtures" / "reports" / "mini.qmd"
PARAMS = {"municipality": "Bærum", "year": 2023}
_REAL_WHICH = shutil.which


def _which_without_quarto(command: str, *args: object, **kwargs: object) -> str | None:
    return None if command == "quarto" else _REAL_WHICH(command, *args, **kwargs)


@pytest.fixture(autouse=True)
def no_quarto(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every test behave as on a machine without the Quarto CLI (unless it fakes one)."""
    monkeypatch.setattr(shutil, "which", _which_without_quarto)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Render the fixture once (engine auto, no Quarto) to HTML and PDF."""
    out = tmp_path_factory.mktemp("rendered")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(shutil, "which", _which_without_quarto)
        engine = render_report(FIXTURE, PARAMS, out / "html" / "mini.html", out / "pdf" / "mini.pdf")
    return {
        "engine": engine,
        "html": (out / "html" / "mini.html").read_text(encoding="utf-8"),
        "pdf": out / "pdf" / "mini.pdf",
    }


@pytest.fixture(scope="module")
def pdf_text(rendered: dict[str, object]) -> str:
    """Text extracted from the rendered PDF with poppler's pdftotext."""
    if _REAL_WHICH("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    command = ["pdftotext", "-enc", "UTF-8", str(rendered["pdf"]), "-"]
    result = subprocess.run(command, capture_output=True, check=True)
    return result.stdout.decode("utf-8")


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --- built-in engine, end to end -------------------------------------------------------------


def test_auto_engine_is_builtin_without_quarto(rendered: dict[str, object]) -> None:
    assert rendered["engine"] == "builtin"


def test_parameters_override_defaults(rendered: dict[str, object]) -> None:
    html = rendered["html"]
    assert "Kommune: <strong>Bærum</strong>, valgår 2023." in html
    assert '<div class="cell-output">\n<pre><code>Parameterverdi: year=2023</code></pre>' in html
    assert "Standardkommune" not in html


def test_figures_are_embedded_with_alt_text_and_caption(rendered: dict[str, object]) -> None:
    figure = r"<figure>\s*(<img [^>]*>)\s*<figcaption>(.*?)</figcaption>"
    figures = re.findall(figure, rendered["html"], re.DOTALL)
    assert [(" ".join(caption.split())) for _, caption in figures] == [
        "Valgdeltakelse etter valgår (andel av stemmeberettigede).",
        "Andel i Bærum",
    ]
    (plot, _), (markdown_image, _) = figures
    assert 'src="data:image/png;base64,' in plot and 'src="data:image/png;base64,' in markdown_image
    assert 'alt="Linjediagram: valgdeltakelsen stiger fra 0,60 i 2015 til 0,68 i 2023."' in plot
    assert 'alt="Stolpediagram: Oslo 0,68 og Malmö 0,64."' in markdown_image  # from fig-alt


def test_partial_is_included_and_code_runs_in_the_source_folder(rendered: dict[str, object]) -> None:
    assert "Fra delfilen: metode og datagrunnlag" in rendered["html"]
    assert "Arbeidsmappe riktig: True" in rendered["html"]


def test_cell_options_are_honoured(rendered: dict[str, object]) -> None:
    html = rendered["html"]
    assert "SKJULT_UTDATA" not in html  # include: false
    assert "ADVARSEL_SKAL_IKKE_VISES" not in html  # warning: false
    assert "Etter advarselen" in html
    assert "import warnings" not in html  # echo: false from the front matter
    assert "denne cellen skal vises, men ikke kjøres" in html  # echo: true, eval: false
    assert "#|" not in html


def test_markdown_table_from_code(rendered: dict[str, object]) -> None:
    table = re.search(r'<table id="tbl-andel">.*?</table>', rendered["html"], re.DOTALL).group(0)
    assert "<caption>Andel som stemte, etter kommune</caption>" in table
    assert '<td style="text-align: left;">Malmö</td>' in table


def test_title_block_and_language(rendered: dict[str, object]) -> None:
    html = rendered["html"]
    assert re.search(r'<html [^>]*lang="nb"', html)
    assert "<title>Minirapport: deltakelse i kommunene</title>" in html
    assert '<p class="subtitle">Testdokument for rendering av rapporter</p>' in html
    assert "blåbærsyltetøy, ÆØÅ, smörgåsbord" in html


def test_html_is_self_contained(rendered: dict[str, object]) -> None:
    html = rendered["html"]
    resource = r"<(?:script|img|link|iframe|source|video|audio)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//"
    assert not re.search(resource, html, re.IGNORECASE)
    assert not re.search(r"url\(\s*[\"']?(?:https?:)?//|@import", html, re.IGNORECASE)


def test_pdf_has_text_with_parameters_and_nordic_letters(rendered: dict[str, object], pdf_text: str) -> None:
    pdf = rendered["pdf"].read_bytes()
    assert pdf.startswith(b"%PDF")
    assert b"/Alt(Linjediagram: valgdeltakelsen stiger" in pdf  # figure alt text in the tagged PDF
    assert "Kommune: Bærum, valgår 2023." in pdf_text
    assert "blåbærsyltetøy, ÆØÅ, smörgåsbord, Ä og Ö" in " ".join(pdf_text.split())
    assert "Figur 1: Valgdeltakelse etter valgår" in pdf_text
    assert "Figur 2: Andel i Bærum" in pdf_text
    assert "SKJULT_UTDATA" not in pdf_text


def test_html_only_output_is_left_out_of_the_pdf(rendered: dict[str, object], pdf_text: str) -> None:
    assert "BARE_I_HTML" in rendered["html"]
    assert "BARE_I_HTML" not in pdf_text


def test_failing_cell_raises_render_error_naming_the_cell(tmp_path: Path) -> None:
    source = _write(
        tmp_path / "broken.qmd",
        '---\ntitle: "Feil"\n---\n\n```{python}\nshare = 1\n```\n\n'
        "```{python}\n#| echo: false\nratio = share / 0\n```\n",
    )
    with pytest.raises(RenderError) as error:
        render_report(source, {}, tmp_path / "broken.html", None, engine="builtin")
    message = str(error.value)
    assert f"{source}: code cell 2 (`ratio = share / 0`)" in message
    assert "ZeroDivisionError" in message
    assert "\x1b[" not in message
    assert not (tmp_path / "broken.html").exists()


def test_time_limit_stops_a_hanging_cell(tmp_path: Path) -> None:
    source = _write(tmp_path / "slow.qmd", "```{python}\nimport time\ntime.sleep(60)\n```\n")
    with pytest.raises(RenderError, match=r"code cell 1 \(`import time`\) did not finish within the time limit"):
        render_report(source, {}, tmp_path / "slow.html", None, engine="builtin", timeout=2)


def test_images_next_to_the_report_are_embedded_without_a_kernel(tmp_path: Path) -> None:
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20"/></svg>'
    _write(tmp_path / "logo.svg", svg)
    source = _write(tmp_path / "static.qmd", '![Logoen](logo.svg){fig-alt="Svart rektangel"}\n')
    html, pdf = tmp_path / "out" / "static.html", tmp_path / "out" / "static.pdf"
    cwd = os.getcwd()
    assert render_report(source, {}, html, pdf, engine="builtin") == "builtin"
    assert os.getcwd() == cwd  # the parallel conversions leave the working directory alone
    image = re.search(r"<img [^>]*>", html.read_text(encoding="utf-8")).group(0)
    assert 'src="data:image/svg+xml;base64,' in image and 'alt="Svart rektangel"' in image
    assert b"/Alt(Svart rektangel)" in pdf.read_bytes()


def test_cli_renders_html_only(tmp_path: Path) -> None:
    source = _write(
        tmp_path / "cli.qmd",
        '---\ntitle: "CLI"\nlang: en\n---\n\n```{python}\n#| tags: [parameters]\ncode = "0000"\nlang = "nb"\n```\n\n'
        '```{python}\n#| echo: false\nprint(f"kode {code!r} språk {lang!r}")\n```\n',
    )
    html = tmp_path / "out" / "cli.html"
    status = main(["render", str(source), "--param", 'code="0301"', "--param", "lang=no", "--html", str(html)])
    assert status == 0
    text = html.read_text(encoding="utf-8")
    assert "kode &#39;0301&#39; språk &#39;no&#39;" in text
    assert re.search(r'<html [^>]*lang="no"', text)


def _executed_outputs(tmp_path: Path, name: str, text: str) -> list[list[dict[str, object]]]:
    """Read and execute a report; the outputs of each code cell."""
    source = _write(tmp_path / name, text)
    document = read_document(source)
    execute_notebook(document.notebook, tmp_path, 30, source)
    return [cell.get("outputs", []) for cell in document.notebook.cells if cell.cell_type == "code"]


def test_outputs_are_recorded_in_order_as_a_kernel_sends_them(tmp_path: Path) -> None:
    outputs = _executed_outputs(
        tmp_path,
        "order.qmd",
        "```{python}\nfrom IPython.display import Markdown, display\nimport warnings\n"
        'print("a")\nprint("b")\ndisplay(Markdown("**c**"))\nwarnings.warn("SYNLIG")\n21 * 2\n```\n\n'
        "```{python}\n_ + 1;\n```\n",
    )
    first, second = outputs
    assert [o["output_type"] for o in first] == ["stream", "display_data", "stream", "execute_result"]
    assert first[0]["name"] == "stdout" and first[0]["text"] == "a\nb\n"  # consecutive writes merged
    assert first[1]["data"]["text/markdown"] == "**c**"
    assert first[2]["name"] == "stderr" and "UserWarning: SYNLIG" in first[2]["text"]
    assert first[3]["data"] == {"text/plain": "42"}
    assert second == []  # a trailing semicolon hides the result


def test_execution_leaves_the_process_as_it_was(tmp_path: Path) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    before = (os.getcwd(), sys.stdout, sys.modules["__main__"], list(sys.path), os.environ.get("MPLBACKEND"))
    had_ipython = hasattr(builtins, "__IPYTHON__")
    had_shell = InteractiveShell.initialized()
    outputs = _executed_outputs(tmp_path, "state.qmd", "```{python}\nimport os\nprint(os.getcwd())\n```\n")
    assert outputs[0][0]["text"].strip() == str(tmp_path.resolve())
    assert (os.getcwd(), sys.stdout, sys.modules["__main__"], list(sys.path), os.environ.get("MPLBACKEND")) == before
    assert hasattr(builtins, "__IPYTHON__") == had_ipython and InteractiveShell.initialized() == had_shell


def test_figures_are_shown_in_every_render_of_one_process(tmp_path: Path) -> None:
    text = (
        "```{python}\nimport matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()\n```\n\n"
        "```{python}\nfig, ax = plt.subplots()\nax.bar([1], [2])\n```\n"
    )
    for name in ("first.qmd", "second.qmd"):
        shown, left_open = _executed_outputs(tmp_path, name, text)
        assert [o["output_type"] for o in shown] == ["display_data"] and "image/png" in shown[0]["data"]
        assert any(o["output_type"] == "display_data" and "image/png" in o["data"] for o in left_open), name


def test_an_exception_that_is_not_an_exception_subclass_names_the_cell(tmp_path: Path) -> None:
    source = _write(tmp_path / "exit.qmd", '```{python}\nraise SystemExit("stopp")\n```\n')
    with pytest.raises(RenderError, match=r"code cell 1 \(`raise SystemExit\(\"stopp\"\)`\) raised SystemExit: stopp"):
        render_report(source, {}, tmp_path / "exit.html", None, engine="builtin")


# --- engine selection and the Quarto command (faked) -----------------------------------------


def test_resolve_engine() -> None:
    assert resolve_engine("auto") == "builtin"
    assert resolve_engine("builtin") == "builtin"
    with pytest.raises(RenderError, match="quarto command is not on PATH"):
        resolve_engine("quarto")
    with pytest.raises(RenderError, match="unknown render engine"):
        resolve_engine("knitr")


class FakeQuarto:
    """Stands in for ``subprocess.run``: records commands and writes the requested output file."""

    def __init__(self, returncode: int = 0, stderr: str = "") -> None:
        self.calls: list[dict[str, object]] = []
        self.returncode = returncode
        self.stderr = stderr

    def __call__(self, command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        cwd = Path(kwargs["cwd"])
        files = sorted(path.name for path in cwd.iterdir())
        self.calls.append({"command": command, "cwd": cwd, "env": kwargs["env"], "files": files})
        if self.returncode == 0:
            (cwd / command[command.index("--output") + 1]).write_text(command[4], encoding="utf-8")
        return subprocess.CompletedProcess(command, self.returncode, "", self.stderr)


@pytest.fixture
def fake_quarto(monkeypatch: pytest.MonkeyPatch) -> FakeQuarto:
    """A Quarto CLI on PATH whose runs are recorded instead of executed."""
    fake = FakeQuarto()
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: "/opt/quarto/bin/quarto" if name == "quarto" else None)
    monkeypatch.setattr(subprocess, "run", fake)
    return fake


def test_quarto_commands(fake_quarto: FakeQuarto, tmp_path: Path) -> None:
    params = {
        "municipality": "Malmö",
        "lang": "sv",
        "year": 2023,
        "code": "0301",
        "groups": ["a", "b"],
        "data": tmp_path,
    }
    engine = render_report(FIXTURE, params, tmp_path / "o" / "r.html", tmp_path / "o" / "r.pdf")
    assert engine == "quarto"
    html_call, pdf_call = fake_quarto.calls
    assert html_call["command"][:2] == pdf_call["command"][:2] == ["/opt/quarto/bin/quarto", "render"]
    assert html_call["command"][3:5] == ["--to", "html"] and pdf_call["command"][3:5] == ["--to", "typst"]
    copy = Path(html_call["command"][2])
    assert copy.name == "mini.qmd" and copy.parent == html_call["cwd"] != FIXTURE.parent
    assert {"mini.qmd", "_metode.qmd"} <= set(html_call["files"])
    expected_params = [
        "-M",
        'lang:"sv"',
        "-P",
        'municipality:"Malmö"',
        "-P",
        'lang:"sv"',
        "-P",
        "year:2023",
        "-P",
        'code:"0301"',
        "-P",
        'groups:["a", "b"]',
        "-P",
        f'data:"{tmp_path}"',
    ]
    common = ["--execute-dir", str(FIXTURE.parent.resolve())]
    embed = ["-M", "embed-resources:true"]
    assert html_call["command"][5:] == ["--output", "mini.html", *common, *embed, *expected_params]
    assert pdf_call["command"][5:] == ["--output", "mini.pdf", *common, *expected_params]
    assert html_call["env"]["QUARTO_PYTHON"] == sys.executable
    assert (tmp_path / "o" / "r.html").read_text() == "html"
    assert (tmp_path / "o" / "r.pdf").read_text() == "typst"


def test_quarto_failure_raises_with_its_stderr(fake_quarto: FakeQuarto, tmp_path: Path) -> None:
    fake_quarto.returncode, fake_quarto.stderr = 1, "ERROR: NameError: name 'x' is not defined"
    with pytest.raises(RenderError, match="(?s)exit code 1.*name 'x' is not defined"):
        render_report(FIXTURE, {}, tmp_path / "r.html", None, engine="quarto")


# --- units ------------------------------------------------------------------------------------


def test_parse_param() -> None:
    assert parse_param("year=2024") == ("year", 2024)
    assert parse_param("lang=no") == ("lang", "no")
    assert parse_param('code="0301"') == ("code", "0301")
    assert parse_param("title=a=b") == ("title", "a=b")
    with pytest.raises(RenderError, match="name=value"):
        parse_param("year")


@pytest.mark.parametrize("params", [{"not-an-identifier": 1}, {"when": object()}, {"share": float("nan")}])
def test_invalid_parameters_are_rejected(params: dict[str, object], tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="parameter"):
        render_report(FIXTURE, params, tmp_path / "r.html", None, engine="builtin")


def test_cell_options_are_yaml_with_yaml12_booleans() -> None:
    options, code = split_options("#| fig-cap: |\n#|   Two\n#|   lines\n#| lang: no\n#| echo: false\nx = 1", "t")
    assert options == {"fig-cap": "Two\nlines\n", "lang": "no", "echo": False}
    assert code == "x = 1"
    assert load_yaml("a: yes", "t") == {"a": "yes"}


def _document(*outputs: dict[str, object], **options: object) -> Document:
    cell = nbformat.v4.new_code_cell("show()")
    cell.outputs = [nbformat.from_dict(output) for output in outputs]
    cell.metadata["quarto"] = {**EXECUTE_DEFAULTS, "echo": False, **options}
    cell.metadata["cell_name"] = "doc: code cell 1"
    return Document(Path("doc.qmd"), {}, nbformat.v4.new_notebook(cells=[cell]))


def _display(data: dict[str, str]) -> dict[str, object]:
    return {"output_type": "display_data", "metadata": {}, "data": data}


def test_html_output_is_dropped_from_pdf_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    html_only = _display({"text/html": "<b>x</b>", "text/plain": "X"})
    both = _display({"text/html": "<b>y</b>", "text/markdown": "**y**"})
    document = _document(html_only, both)
    expected_html = "```{=html}\n<b>x</b>\n```\n\n```{=html}\n<b>y</b>\n```\n"
    assert notebook_to_markdown(document, "html", tmp_path) == expected_html
    assert notebook_to_markdown(document, "typst", tmp_path) == "**y**\n"
    assert "doc: code cell 1: HTML output has no Markdown form" in caplog.text


def test_stream_outputs_and_asis(tmp_path: Path) -> None:
    stdout = {"output_type": "stream", "name": "stdout", "text": "**bold**\n"}
    stderr = {"output_type": "stream", "name": "stderr", "text": "UserWarning: careful\n"}
    assert notebook_to_markdown(_document(stdout, stderr), "html", tmp_path) == (
        "::: {.cell-output}\n```\n**bold**\n```\n:::\n\n"
        "::: {.cell-output-stderr}\n```\nUserWarning: careful\n```\n:::\n"
    )
    asis = _document(stdout, stderr, output="asis", warning=False)
    assert notebook_to_markdown(asis, "html", tmp_path) == "**bold**\n"


def test_data_uri_images_in_markdown_become_files(tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\nfake"
    encoded = base64.b64encode(png).decode("ascii")
    markdown = f'![Andel](data:image/png;base64,{encoded}){{fig-alt="Stolper"}} og [lenke](https://example.org)'
    document = _document(_display({"text/markdown": markdown, "text/plain": "<Markdown>"}))
    assert notebook_to_markdown(document, "typst", tmp_path) == (
        '![Andel](cell1-image1.png){fig-alt="Stolper"} og [lenke](https://example.org)\n'
    )
    assert (tmp_path / "cell1-image1.png").read_bytes() == png


def test_fence_is_longer_than_backticks_inside() -> None:
    assert fenced("a\n````\nb", "{.x}") == "`````{.x}\na\n````\nb\n`````"


def test_source_date_epoch_makes_the_pdf_reproducible(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = _write(tmp_path / "same.qmd", '---\ntitle: "Samme"\n---\n\nTekst.\n')
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764806400")  # 2025-12-04
    first, second = tmp_path / "a" / "same.pdf", tmp_path / "b" / "same.pdf"
    render_report(source, {}, tmp_path / "a" / "same.html", first, engine="builtin")
    render_report(source, {}, tmp_path / "b" / "same.html", second, engine="builtin")
    assert first.read_bytes() == second.read_bytes()
    assert b"D:20251204" in first.read_bytes()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(RenderError, match="SOURCE_DATE_EPOCH must be whole seconds"):
        render_report(source, {}, tmp_path / "c" / "same.html", tmp_path / "c" / "same.pdf", engine="builtin")
