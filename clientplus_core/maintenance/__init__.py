"""Maintenance of the data folder: backup, verify and restore; rebuilding the
search index."""
