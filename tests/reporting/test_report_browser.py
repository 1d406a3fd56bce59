"""Reports checked as a reader would: HTML in headless Chromium, PDF as page images and text."""

from __future__ import annotations

import base64
import io
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image
from report_run import LANG, ensure_tools, pdf_text, pipeline_folder, reports, visible_text
from shared import REPO

from evaluation.reporting.i18n import Translator

pytestmark = pytest.mark.e2e

CHROMIUM = [
    "chromium",
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--enable-logging=stderr",
    "--v=0",
    "--window-size=1200,3000",
]
# figures each report must show: turnout, event study (programme), three survey outcomes, two gaps (programme); non-response
MIN_FIGURES = {"programme": 7, "pilot": 4, "data_quality": 1, "methods": 0}


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    return pipeline_folder(tmp_path_factory)


@pytest.fixture(scope="module")
def t() -> Translator:
    return Translator.load(LANG, REPO / "reports" / "translations.yaml", REPO / "config" / "variables.yaml")


def _kind(path: Path) -> str:
    return "pilot" if path.stem.startswith("pilot_") else path.stem


def _title(run: Path, path: Path, t: Translator) -> str:
    if _kind(path) == "pilot":
        pilots = pd.read_csv(run / "data" / "processed" / "results" / "pilots.csv", dtype={"unit_code": str}).set_index(
            "unit_code"
        )
        return t("pilot_title", name=pilots.loc[path.stem.removeprefix("pilot_"), "municipality_name"])
    return t({"programme": "programme_title", "data_quality": "quality_title", "methods": "methods_title"}[path.stem])


def _screenshot(html: Path, out: Path) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        command = [*CHROMIUM, f"--user-data-dir={profile}", f"--screenshot={out}", html.resolve().as_uri()]
        return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_html_reports_in_chromium(run, tmp_path):
    ensure_tools("chromium")
    pages = reports(run, "html")
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda p: _screenshot(p, tmp_path / f"{p.stem}.png"), pages))
    for page, result in zip(pages, results):
        shot = tmp_path / f"{page.stem}.png"
        assert result.returncode == 0 and shot.exists(), (page.name, result.stderr[-2000:])
        console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
        assert not console, (page.name, console)
        with Image.open(shot) as image:
            assert image.size == (1200, 3000)
            assert len(set(image.convert("L").resize((60, 150)).tobytes())) > 10, f"{page.name}: blank screenshot"


def test_every_figure_is_embedded_with_alt_text(run):
    from lxml import html as lxml_html

    for page in reports(run, "html"):
        images = list(lxml_html.fromstring(page.read_text(encoding="utf-8")).iter("img"))
        assert len(images) >= MIN_FIGURES[_kind(page)], f"{page.name}: {len(images)} figures"
        for img in images:
            src, alt = img.get("src", ""), img.get("alt", "")
            assert src.startswith("data:image/png;base64,"), f"{page.name}: image not embedded: {src[:60]}"
            assert len(alt.strip()) > 20, f"{page.name}: image without alt text"
            with Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))) as image:
                image.verify()
                assert min(image.size) > 50


def test_every_report_has_title_and_provenance(run, t):
    provenance = (run / "data" / "processed" / "results" / "provenance.json").read_text(encoding="utf-8")
    for page in reports(run, "html"):
        text = visible_text(page.read_text(encoding="utf-8"))
        assert _title(run, page, t) in text, page.name
        assert t("provenance_heading") in text and t("config_hash") in text, page.name
        assert '"config_sha256"' in provenance


def test_pdf_reports_have_pages_and_text(run, t, tmp_path):
    ensure_tools("pdftoppm", "pdftotext")
    for pdf in reports(run, "pdf"):
        subprocess.run(["pdftoppm", "-png", "-r", "30", str(pdf), str(tmp_path / pdf.stem)], check=True, timeout=120)
        pages = sorted(tmp_path.glob(f"{pdf.stem}-*.png"))
        assert pages, f"{pdf.name}: no pages"
        text = pdf_text(pdf)
        assert _title(run, pdf, t) in text, pdf.name
        assert t("provenance_heading") in text, pdf.name
