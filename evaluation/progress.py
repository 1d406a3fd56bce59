"""Progress lines for long work, so that ``tail -f logs/<stage>.log`` shows where a run is.

Each line gives a count and the time since the work started, e.g.
``compare survey: outcome 3/9 (<outcome>), 12.4 s``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def progress(items: Iterable[T], what: str, log: logging.Logger, label: Callable[[T], str] = str) -> Iterator[T]:
    """Yield ``items``, logging ``<what> k/n (<label>), <elapsed> s`` before each and a last line when all are done."""
    items = list(items)
    start = time.perf_counter()
    for k, item in enumerate(items, start=1):
        log.info("%s %d/%d (%s), %.1f s", what, k, len(items), label(item), time.perf_counter() - start)
        yield item
    log.info("%s: all %d done in %.1f s", what, len(items), time.perf_counter() - start)


class Stopwatch:
    """Log named steps of one piece of work with the time since it started."""

    def __init__(self, what: str, log: logging.Logger) -> None:
        self.what, self.log, self.start = what, log, time.perf_counter()

    def step(self, done: str) -> None:
        """Log that ``done`` is finished, with the elapsed time."""
        self.log.info("%s: %s, %.1f s", self.what, done, time.perf_counter() - self.start)
