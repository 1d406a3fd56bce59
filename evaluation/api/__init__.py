"""Public analysis API: difference-in-differences on any pandas DataFrame.

Functions take a DataFrame and column names and return result objects with
``.tidy()`` (columns ``term, estimate, std_error, conf_low, conf_high,
p_value, inference``), ``.summary()`` and ``.plot()``:

* :func:`did`: two-way fixed-effects DiD with CRV1, CRV3, wild cluster
  bootstrap and permutation inference;
* :func:`event_study`: dynamic TWFE or Sun-Abraham event study with a joint pre-trend test;
* :func:`staggered_did`: Callaway-Sant'Anna group-time ATTs and their
  simple, group and dynamic aggregations.

The numbers come from :mod:`evaluation.comparison`, checked against pyfixest
and csdid in ``tests/``.  See ``docs/api.md`` for a quickstart.
"""

from evaluation.api.results import TIDY_COLUMNS, DidResult, EventStudyResult, StaggeredResult
from evaluation.api.staggered import staggered_did
from evaluation.api.twfe import did, event_study

__all__ = [
    "TIDY_COLUMNS",
    "DidResult",
    "EventStudyResult",
    "StaggeredResult",
    "did",
    "event_study",
    "staggered_did",
]
