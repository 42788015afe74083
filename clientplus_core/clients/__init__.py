"""Clients: cards (create, update, duplicates, merge, history), field specs,
contacts, files and links, import and export."""
