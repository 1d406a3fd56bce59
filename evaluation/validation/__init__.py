"""Validation: Great Expectations suites generated from the codebooks and config.

Each check carries a severity:

- ``fail``: the run stops; the message names the table, source file, column,
  expectation and a few offending rows;
- ``quarantine``: offending rows move to the quarantine table with the reason;
- ``warn``: reported in the validation summary only.

The fixed checks live in ``config/validation.yaml``; checks per outcome, group
variable, wave and pilot are generated from ``config/variables.yaml`` and the
config (:mod:`evaluation.validation.checks`). The suites are written next to the
summary as JSON, and as Great Expectations Data Docs (HTML), so a reader can see
exactly what ran.

Modules: ``checks`` (suites as data), ``expectations`` (custom GX expectations),
``runner`` (GX execution), ``data_docs`` (HTML). The stage that reads and writes the files is
:mod:`evaluation.stages.validate`.
"""

from evaluation.validation.checks import Check, build_checks
from evaluation.validation.runner import TableOutcome, run_checks

__all__ = ["Check", "TableOutcome", "build_checks", "run_checks"]
