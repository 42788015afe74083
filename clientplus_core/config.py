"""Where the data folder is, and the settings a deployment may change."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

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
    return DataDir(Path(raw).expanduser().resolve())
