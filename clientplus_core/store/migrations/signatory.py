"""Issue 13, section 5 (documents a counterparty signs): the signatory's gender chosen
on the client card when the patronymic does not tell it (see
:mod:`clientplus_core.sales.signatory`)."""

from __future__ import annotations

import sqlite_utils

# the migrations of the releases before come first
from clientplus_core.store.migrations import bank  # noqa: F401
from clientplus_core.store.migrations.registry import migrations, run_script


@migrations()
def m032_add_client_director_gender(db: sqlite_utils.Database) -> None:
    """``clients.director_gender``: ``m`` or ``f`` when a person chose the signatory's
    gender on the card («действующего» / «действующей»), empty: told from the name."""
    run_script(db, """
ALTER TABLE clients ADD COLUMN director_gender TEXT NOT NULL DEFAULT ''
""")
