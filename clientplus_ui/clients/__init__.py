"""Client widgets: registry, card form and tabs, import wizard, search results."""
