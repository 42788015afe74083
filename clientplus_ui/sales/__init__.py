"""Sales widgets: the sale card and its tabs, the register, the catalogue."""
