"""Rebuild the search index from the tables (after a bulk load or a restore).

It lives above the domain packages because it reads every kind of record that
the index holds: clients, contacts, files and links, sales.
"""

from __future__ import annotations

from clientplus_core import sales
from clientplus_core.clients import cards as clients
from clientplus_core.clients import contacts, files
from clientplus_core.store.db import Store


def rebuild(store: Store) -> int:
    """Rebuild the whole index from the tables; returns the number of entries."""
    with store.write() as conn:
        conn.execute("DELETE FROM search_index")
        n = 0
        for row in conn.execute("SELECT * FROM clients WHERE deleted_at IS NULL"):
            clients.index_client(conn, row)
            n += 1
        for row in conn.execute("SELECT * FROM contacts WHERE deleted_at IS NULL"):
            contacts.index_contact(conn, row)
            n += 1
        n += files.reindex_all(conn)
        n += sales.reindex_all(conn)
    return n
