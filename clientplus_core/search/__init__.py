"""Search: the full-text index and its query (index), text extracted from
attachments (textextract)."""
