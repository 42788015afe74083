"""Storage: the data folder (config), SQLite connections (db), schema migrations,
opening a store (startup)."""
