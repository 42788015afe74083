"""Rules every record follows: optimistic locking (conflicts), client visibility,
paging, custom fields, field checks (validation) and the office's settings."""
