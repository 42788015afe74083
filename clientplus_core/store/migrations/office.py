"""Issue 13 (daily use in a Russian office), section 5: how a client signs a contract —
the signatory's post and name in the genitive when the declension library gets them
wrong, and the basis of the authority (see :mod:`clientplus_core.sales.signatory`)."""

from __future__ import annotations

import sqlite_utils

from clientplus_core.store.migrations import attachments  # noqa: F401  (its migrations come first)
from clientplus_core.store.migrations.registry import migrations, run_script


@migrations()
def m027_add_client_signatory(db: sqlite_utils.Database) -> None:
    """``clients.director_post_gen`` and ``clients.director_name_gen``: the post and the
    name as «в лице …» needs them, typed only where the automatic declension is wrong
    (empty: declined automatically); ``clients.basis``: «действующего на основании …»
    (empty: «Устава» for a legal entity, the ЕГРИП record for an ИП)."""
    run_script(db, """
ALTER TABLE clients ADD COLUMN director_post_gen TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN director_name_gen TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN basis TEXT NOT NULL DEFAULT ''
""")
