"""Where the data folder is, and the settings a deployment may change."""

from __future__ import annotations

import functools
import os
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = "data"
ENV_DATA_DIR = "CLIENTPLUS_DATA"


@dataclass(frozen=True)
class DataDir:
    """The one folder that holds the whole CRM."""

    root: Path

    @property
    def db_path(self) -> Path:
        return self.root / "clientplus.db"

    @property
    def files_dir(self) -> Path:
        return self.root / "files"

    @property
    def backups_dir(self) -> Path:
        return self.root / "backups"

    def ensure(self) -> DataDir:
        for p in (self.root, self.files_dir, self.backups_dir):
            p.mkdir(parents=True, exist_ok=True)
        return self


def resolve_data_dir(explicit: str | os.PathLike[str] | None = None) -> DataDir:
    """``explicit`` if given, else ``$CLIENTPLUS_DATA``, else ``./data``."""
    raw = explicit or os.environ.get(ENV_DATA_DIR) or DEFAULT_DATA_DIR
    return DataDir(_absolute(os.fspath(raw), os.getcwd()))


@functools.lru_cache(maxsize=64)
def _absolute(raw: str, cwd: str) -> Path:
    """``raw`` made absolute, links resolved (a ``stat`` per part of the path: the page
    asks on every run, so the answer is kept per working directory)."""
    return Path(cwd, Path(raw).expanduser()).resolve()


def secrets_files(project_root: Path = PROJECT_ROOT) -> list[Path]:
    """Where ``.streamlit/secrets.toml`` is looked for: the working directory, then
    the project folder."""
    out: list[Path] = []
    for root in (Path.cwd(), project_root):
        path = root / ".streamlit" / "secrets.toml"
        if path not in out:
            out.append(path)
    return out


def secrets_section(name: str, files: Sequence[Path]) -> dict[str, Any]:
    """The ``[name]`` table of the first readable secrets file (``{}`` if none)."""
    for path in files:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue
        section = data.get(name)
        if isinstance(section, dict):
            return section
    return {}
