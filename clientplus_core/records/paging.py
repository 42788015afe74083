"""One page of a list (registry, sales register) and how many pages there are."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Page:
    """``rows`` of page ``page`` (1-based) out of ``total`` rows, ``page_size`` a page."""

    rows: list[dict[str, Any]]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))
