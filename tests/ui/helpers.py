"""Small readers and actions shared by the AppTest suites."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from google.protobuf import text_format
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def everything(at: AppTest) -> str:
    """Every element and block of the page, as protobuf text (labels, values, data)."""
    out: list[str] = []

    def walk(node: object) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            out.append(text_format.MessageToString(proto, as_utf8=True))
        for child in (getattr(node, "children", None) or {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(out)


def shown(at: AppTest) -> str:
    """Everything the page shows as text, markdown escapes removed."""
    parts = [e.value for kind in ("title", "markdown", "caption", "text", "success", "warning",
                                  "error", "info") for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts).replace("\\", "")


def press(at: AppTest, label: str) -> AppTest:
    """Click the button with this label and run the script again."""
    next(b for b in at.button if b.label == label).click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def table_shown(at: AppTest, index: int = 0) -> pd.DataFrame:
    """The ``index``-th static table (``st.table``) as the user reads it: markdown
    escapes removed, no-break spaces as spaces."""
    return at.table[index].value.replace({r"\\(.)": r"\1", "\u00a0": " "}, regex=True)
