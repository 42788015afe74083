"""What every bench module shares: a report row, a percentile, a timer."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class Row:
    """One line of the report. Times in ms; for whole-run steps ``p50`` holds the value."""

    metric: str
    n: int
    p50: float | None
    p95: float | None
    target: str
    baseline: float | None = None
    ratio: float | None = None
    ok: bool | None = None
    note: str = ""
    low: float | None = None  # the fastest sample (min), where the row has several


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of ``values``."""
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q / 100 * len(s) + 0.5) - 1))]


def timed(fn: Callable[[], Any]) -> float:
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000
