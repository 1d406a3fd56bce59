"""Great Expectations Data Docs (static HTML) built offline from the validation results."""

from __future__ import annotations

import copy
import datetime as dt
import os
import re
from pathlib import Path
from typing import Any

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

SITE = "validate"
TRIMMED = ("unexpected_index_list", "unexpected_list", "unexpected_index_query", "partial_unexpected_counts")


def write_data_docs(folder: Path, results: dict[str, list[Any]]) -> Path:
    """Write Data Docs for the suite results of each table; return the index page.

    Parameters
    ----------
    folder
        Output folder of the site (created; replaced if present).
    results
        Table name -> the GX suite validation results of that table. Full row
        lists are dropped before rendering: the pages show counts and examples,
        the quarantine table holds every row.
    """
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    context.add_data_docs_site(
        SITE,
        {
            "class_name": "SiteBuilder",
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(Path(folder).resolve()),
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    run_id = RunIdentifier(run_name="validate", run_time=dt.datetime.now(dt.UTC))
    for table, suite_results in results.items():
        if suite_results:
            key = ValidationResultIdentifier(ExpectationSuiteIdentifier(table), run_id, table)
            context.validation_results_store.set(key, _merged(table, suite_results))
    context.build_data_docs(site_names=[SITE])
    for page in Path(folder).rglob("*.html"):
        page.write_text(offline(page.read_text(encoding="utf-8")), encoding="utf-8")
    return folder / "index.html"


REMOTE_TAGS = re.compile(
    r"<script[^>]*\bsrc=[\"']https?://[^>]*>\s*</script>|<link[^>]*\bhref=[\"']https?://[^>]*>|<img[^>]*\bsrc=[\"']https?://[^>]*>",
    re.IGNORECASE,
)
OFFLINE_STYLE = (
    "<style>body{font-family:system-ui,sans-serif;margin:1rem 2rem;max-width:80rem}"
    "table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:.2rem .4rem;vertical-align:top}"
    ".collapse:not(.show){display:block}</style>"
)


def offline(html: str) -> str:
    """A Data Docs page that loads nothing from other hosts.

    Great Expectations' templates load Bootstrap, jQuery, Font Awesome, Vega
    and logos from CDNs. Those tags are removed and a small inline style
    keeps tables readable; links a reader may click stay. Interactive
    widgets (sortable tables, charts) do not work offline.
    """
    stripped = REMOTE_TAGS.sub("", html)
    return stripped.replace("</head>", OFFLINE_STYLE + "</head>", 1)


def _merged(table: str, suite_results: list[Any]) -> Any:
    """One suite result per table (the runner validates column groups separately), without full row lists."""
    from great_expectations.core import ExpectationSuiteValidationResult
    from great_expectations.validator.validation_statistics import calc_validation_statistics

    items = []
    for suite_result in suite_results:
        for item in suite_result.results:
            item = copy.copy(item)
            item.result = {k: v for k, v in (item.result or {}).items() if k not in TRIMMED}
            items.append(item)
    statistics = calc_validation_statistics(items)
    return ExpectationSuiteValidationResult(
        results=items,
        success=statistics.success,
        suite_name=table,
        statistics={
            "evaluated_expectations": statistics.evaluated_expectations,
            "successful_expectations": statistics.successful_expectations,
            "unsuccessful_expectations": statistics.unsuccessful_expectations,
            "success_percent": statistics.success_percent,
        },
        meta=dict(suite_results[0].meta),
    )
