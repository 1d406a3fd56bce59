"""Accessibility of the rendered reports in all four languages, and the data behind every figure and table.

No accessibility checker from PyPI or npm works here without a network
(axe-core needs its script and a driven browser), so the points are checked
directly in the rendered HTML, parsed with lxml:

- the document's ``lang`` (and ``xml:lang``) is the report language, and its
  title starts with the report's heading;
- every image has a text alternative;
- every table has header cells (``<th>`` in ``<thead>``, one per column);
- every text colour in the page's styles has a contrast of at least 4.5:1
  (WCAG 2.x, success criterion 1.4.3) against every background colour in
  them (a stricter test than each rule's own pair), and so do the text
  colours of the figures against their background;
- every figure and table is followed by its source line and a CSV download
  embedded as a ``data:`` link, which holds no value of a suppressed row.

English is the language of the shared pipeline run (all its reports, HTML and
PDF); the other three languages render the programme report, one pilot report
and both appendices from the same results (HTML only, about 10 s each).
"""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from lxml import html as lxml_html
from matplotlib.colors import to_rgb
from report_run import LANG, ensure_tools, pdf_text, pipeline_folder, reports
from shared import REPO

from evaluation.rendering.engine import render_report
from evaluation.reporting.downloads import KEY_COLUMNS
from evaluation.reporting.i18n import LANGUAGES

pytestmark = pytest.mark.e2e

MIN_CONTRAST = 4.5
OTHER_REPORTS = ("programme", "pilot", "data_quality", "methods")
_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_CUSTOM = re.compile(r"(--[\w-]+)\s*:\s*([^;]+)")
_VAR = re.compile(r"var\((--[\w-]+)\)")
_NOT_A_COLOUR = {"inherit", "initial", "unset", "currentcolor", "transparent", "none"}


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, list[Path]]:
    """HTML reports per language: the shared run's in English, fresh renders of its results in the others."""
    run = pipeline_folder(tmp_path_factory)
    results = run / "data" / "processed" / "results"
    pilot = pd.read_csv(results / "pilots.csv", dtype={"unit_code": str})["unit_code"].iloc[0]
    found = {LANG: reports(run, "html")}
    for lang in (lang for lang in LANGUAGES if lang != LANG):
        out = tmp_path_factory.mktemp(f"a11y_{lang}")
        params = {"results": str(results), "variables": str(REPO / "config" / "variables.yaml"), "lang": lang}
        for name in OTHER_REPORTS:
            extra = {"municipality": pilot} if name == "pilot" else {}
            source = REPO / "reports" / f"{name}.qmd"
            render_report(source, {**params, **extra, "demo": True}, out / f"{name}.html", None, engine="builtin")
        found[lang] = sorted(out.glob("*.html"))
    return found


def _trees(pages: dict[str, list[Path]], lang: str) -> dict[str, lxml_html.HtmlElement]:
    return {p.name: lxml_html.fromstring(p.read_bytes()) for p in pages[lang]}


def luminance(colour: str) -> float:
    """Relative luminance of an sRGB colour (WCAG 2.x)."""
    channels = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in to_rgb(colour)]
    return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two colours (1 to 21)."""
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def style_colours(css: str) -> tuple[set[str], set[str]]:
    """Text colours (``color``) and background colours (``background``, ``background-color``) in a stylesheet.

    Custom properties (``var(--name)``) are resolved; a value that is no colour
    keyword and does not parse as a colour fails the test rather than being skipped.
    """
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    custom = dict(_CUSTOM.findall(css))
    foreground, background = set(), set()
    for _, body in _RULE.findall(css):
        for declaration in body.split(";"):
            if ":" not in declaration or declaration.strip().startswith("--"):
                continue
            prop, value = (part.strip() for part in declaration.split(":", 1))
            value = _VAR.sub(lambda m: custom[m[1]].strip(), value)
            if prop == "color":
                target = foreground
            elif prop in ("background", "background-color"):
                target = background
                value = value.split()[0]
            else:
                continue
            if value.lower() in _NOT_A_COLOUR:
                continue
            to_rgb(value)  # raises on a colour we cannot read
            target.add(value)
    return foreground, background


@pytest.mark.parametrize("lang", LANGUAGES)
def test_document_language_is_the_report_language(pages, lang):
    for name, tree in _trees(pages, lang).items():
        assert tree.get("lang") == lang, name
        assert tree.get("xml:lang") == lang, name


@pytest.mark.parametrize("lang", LANGUAGES)
def test_page_title_names_the_report(pages, lang):
    for name, tree in _trees(pages, lang).items():
        heading = " ".join(tree.xpath("//h1")[0].text_content().split())
        assert " ".join(tree.findtext(".//title").split()).startswith(heading), name


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_image_has_alt_text(pages, lang):
    images = 0
    for name, tree in _trees(pages, lang).items():
        for image in tree.iter("img"):
            images += 1
            alt = (image.get("alt") or "").strip()
            assert len(alt) > 20, f"{name}: image without a useful alt text: {alt!r}"
    assert images >= 5  # turnout, event study, survey and gap figures, non-response bars


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_table_has_header_cells(pages, lang):
    tables = 0
    for name, tree in _trees(pages, lang).items():
        for table in tree.iter("table"):
            tables += 1
            headers = table.xpath("./thead/tr/th")
            first_row = table.xpath("./tbody/tr[1]/td")
            assert headers and len(headers) == len(first_row), f"{name}: table without a header per column"
            assert all(h.text_content().strip() for h in headers), f"{name}: empty header cell"
    assert tables >= 10


@pytest.mark.parametrize("lang", LANGUAGES)
def test_text_colours_have_enough_contrast(pages, lang):
    for name, tree in _trees(pages, lang).items():
        css = "\n".join(style.text_content() for style in tree.iter("style"))
        inline = "\n".join(f"x {{{element.get('style')}}}" for element in tree.xpath("//*[@style]"))
        foreground, background = style_colours(css + "\n" + inline)
        assert foreground, f"{name}: no text colours found in its styles"
        background |= {"#ffffff"}
        low = [
            (f, b, round(contrast(f, b), 2)) for f in foreground for b in background if contrast(f, b) < MIN_CONTRAST
        ]
        assert not low, f"{name}: text colour, background, contrast below {MIN_CONTRAST}: {low}"


def test_contrast_check_catches_a_light_grey():
    """The check itself: the palette's grey and orange would fail as text on white; the stylesheet's muted grey passes."""
    foreground, background = style_colours(":root { --muted: #999999; } p { color: var(--muted); background: #fff; }")
    assert foreground == {"#999999"} and background == {"#fff"}
    assert contrast("#999999", "#ffffff") < MIN_CONTRAST and contrast("#E69F00", "#ffffff") < MIN_CONTRAST
    assert contrast("#59636e", "#ffffff") >= MIN_CONTRAST
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    with pytest.raises(ValueError):
        style_colours("p { color: not-a-colour; }")


def test_figure_text_has_enough_contrast():
    """Axis labels, ticks and legends of the figures (their lines use the Okabe–Ito colours, not their text)."""
    import evaluation.reporting.figures  # noqa: F401 - sets the figure style

    face = plt.rcParams["figure.facecolor"]
    for key in ("text.color", "axes.labelcolor", "xtick.labelcolor", "ytick.labelcolor", "legend.labelcolor"):
        colour = plt.rcParams[key]
        if colour in ("inherit", "None", None):
            colour = plt.rcParams["xtick.color" if "tick" in key else "text.color"]
        assert contrast(colour, face) >= MIN_CONTRAST, key


def _data_links(tree: lxml_html.HtmlElement, name: str):
    """For every figure and table: its source line and the CSV link among the blocks that follow it."""
    for element in tree.xpath("//figure | //table"):
        following = []
        for sibling in element.itersiblings():
            if sibling.tag in ("figure", "table", "h1", "h2", "h3"):
                break
            following.append(sibling)
        links = [a for block in following for a in block.xpath("descendant-or-self::a[@download]")]
        sources = [b for b in following if "data-source" in (b.get("class") or "")]
        label = element.findtext(".//figcaption") or element.findtext(".//caption") or element.tag
        assert links and sources, f"{name}: no data link or source line after {label!r}"
        yield links[0], sources[0]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_figure_and_table_has_its_data(pages, lang):
    count = 0
    for name, tree in _trees(pages, lang).items():
        for link, source in _data_links(tree, name):
            count += 1
            href = link.get("href")
            assert href.startswith("data:text/csv;charset=utf-8;base64,") and link.get("download").endswith(".csv")
            frame = pd.read_csv(io.StringIO(base64.b64decode(href.split(",", 1)[1]).decode("utf-8")))
            assert len(frame), f"{name}: {link.get('download')} is empty"
            named = re.findall(r"(\w+)\.csv", source.text_content())
            assert named, f"{name}: the source line names no results file"
            if "suppressed" in frame:
                hidden = frame[frame["suppressed"].astype(bool)]
                values = [c for c in frame.columns if c not in KEY_COLUMNS]
                assert hidden[values].isna().all().all(), f"{name}: {link.get('download')} shows a suppressed value"
    assert count >= 20


def test_pdf_names_the_source_of_each_figure_without_download_links(tmp_path_factory):
    ensure_tools("pdftotext")
    run = pipeline_folder(tmp_path_factory)
    programme = next(p for p in reports(run, "pdf") if p.stem == "programme")
    text = pdf_text(programme)
    for file in ("effects.csv", "turnout_trends.csv", "event_study.csv", "estimates.csv", "gaps.csv", "power.csv"):
        assert f"Source: {file}" in text or f"; {file}" in text, file
    assert "Download the numbers" not in text and "base64" not in text and "\u2060" not in text


def test_first_page_shows_the_headline_table(tmp_path_factory):
    """Programme and pilot reports: the headline table is the first table of the HTML and on page 1 of the PDF."""
    import subprocess

    import yaml

    ensure_tools("pdftotext")
    run = pipeline_folder(tmp_path_factory)
    words = yaml.safe_load((REPO / "reports" / "translations.yaml").read_text(encoding="utf-8"))
    caption_start = words["table_headline_cap"][LANG].split("{")[0]
    verdicts = [words[f"verdict_{v}"][LANG] for v in ("rose", "fell", "no_detectable_change")]
    pdfs = [p for p in reports(run, "pdf") if p.stem == "programme" or p.stem.startswith("pilot_")]
    assert len(pdfs) >= 2
    for pdf in pdfs:
        page = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True, text=True)
        first = " ".join(page.stdout.split())
        assert caption_start in first and words["headline_verdict"][LANG] in first, pdf.name
        assert any(v in first for v in verdicts), pdf.name
        tree = lxml_html.fromstring(pdf.with_suffix(".html").read_bytes())
        first_table = tree.xpath("//table")[0]
        assert first_table.findtext(".//caption").startswith(caption_start), pdf.name
        assert first_table.xpath("./thead/tr/th")[-1].text_content() == words["headline_verdict"][LANG]
